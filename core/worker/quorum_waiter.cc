#include "core/worker/quorum_waiter.h"

#include "glog/logging.h"

namespace narwhal {

void QuorumWaiter::Track(uint64_t batch_id, PendingBatch batch, std::vector<RequestHandle> handles) {
  CHECK(!pending_.contains(batch_id)) << "batch id reused: " << batch_id;
  pending_bytes_ += batch.batch.size();
  Entry& e = pending_[batch_id];
  e.batch = std::move(batch);
  e.handles = std::move(handles);
  e.stake = committee_->Stake(self_);
  MaybeComplete(batch_id);
}

void QuorumWaiter::OnAck(uint64_t batch_id, AuthorityIndex from) {
  auto it = pending_.find(batch_id);
  if (it == pending_.end()) {
    ++late_acks_;  // quorum already reached: ignore
    return;
  }
  Entry& e = it->second;
  if (from == self_ || !committee_->Contains(from) || !e.acked.insert(from).second) return;
  e.stake += committee_->Stake(from);
  MaybeComplete(batch_id);
}

void QuorumWaiter::MaybeComplete(uint64_t batch_id) {
  auto it = pending_.find(batch_id);
  CHECK(it != pending_.end());
  if (it->second.stake < committee_->QuorumThreshold()) return;
  // The stake counted is exactly ours plus one ACK per distinct other
  // authority: a quorum is never reached by counting a worker twice.
  uint64_t stake = committee_->Stake(self_);
  for (AuthorityIndex a : it->second.acked) stake += committee_->Stake(a);
  CHECK_EQ(stake, it->second.stake) << "batch " << batch_id << ": ACK stake miscounted";
  CHECK_GE(pending_bytes_, it->second.batch.batch.size());
  PendingBatch batch = std::move(it->second.batch);
  pending_bytes_ -= batch.batch.size();
  // Dropping the handles cancels the retries to workers that did not ACK yet.
  pending_.erase(it);
  on_quorum_(std::move(batch));
}

}  // namespace narwhal
