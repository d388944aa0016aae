// Primary, state sync: a node further behind than the others' garbage
// collection learns committed sub-DAGs from authorities with f+1 stake.
#include "core/primary/primary.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

// ---------------------------------------------------------------- state sync

void Primary::OnCommittedRequest(const wire::CommittedRequest& msg, Messenger::Responder respond) {
  constexpr uint32_t kMaxRows = 100;
  auto rows = env_.store->CommittedFrom(msg.from_index(), std::min(kMaxRows, std::max(1u, msg.max_count())));
  if (StoreFailed("reading committed rows for a peer", rows.status())) {
    respond(false, "store error", {});
    return;
  }
  std::vector<std::string> items;
  for (CommittedSubDagRow& row : *rows) items.push_back(std::move(row.sub_dag));
  respond(true, "", std::move(items));
}

void Primary::MaybeStartCatchUp(Round seen_round) {
  // A valid certificate this far ahead means the others have garbage-
  // collected rounds we would need to rebuild the DAG: learn the committed
  // sub-DAGs instead.
  if (catch_up_in_flight_ || seen_round <= consensus_->last_committed_round() + params_.gc_depth) return;
  catch_up_in_flight_ = true;
  catch_up_rows_.clear();
  const uint64_t from = consensus_next_index_;
  wire::Request req;
  req.mutable_committed_request()->set_from_index(from);
  req.mutable_committed_request()->set_max_count(100);
  const PreparedRequest prepared(req);
  for (AuthorityIndex a = 0; a < committee_.size(); ++a) {
    if (a == self_) continue;
    (void)messenger_.SendUnreliable(
        Endpoint::Primary(a), prepared,
        [this, from](const Endpoint& peer, const absl::StatusOr<wire::Response>& r) {
          if (r.ok() && r->success()) OnCatchUpItems(peer.authority, from, *r);
        },
        params_.sync_retry_delay_us);
  }
  catch_up_timer_ = env_.timers->Schedule(params_.sync_retry_delay_us, [this] { FinishCatchUpRound(); });
  LOG(INFO) << "primary " << self_ << " is behind (certificate of round " << seen_round
            << ", last committed " << consensus_->last_committed_round() << "): state sync from index "
            << from;
}

void Primary::OnCatchUpItems(AuthorityIndex from, uint64_t from_index, const wire::Response& response) {
  uint64_t index = from_index;
  for (const std::string& item : response.items()) {
    catch_up_rows_[index++][item].insert(from);
  }
}

void Primary::FinishCatchUpRound() {
  size_t applied = 0;
  for (uint64_t index = consensus_next_index_;; ++index) {
    auto it = catch_up_rows_.find(index);
    if (it == catch_up_rows_.end()) break;
    const std::string* agreed = nullptr;
    for (const auto& [bytes, senders] : it->second) {
      uint64_t stake = 0;
      for (AuthorityIndex a : senders) stake += committee_.Stake(a);
      // f+1 of stake: at least one honest authority vouches for it.
      if (stake >= committee_.ValidityThreshold()) agreed = &bytes;
    }
    if (agreed == nullptr) break;
    absl::Status s = ApplySyncedRow(*agreed);
    if (fail_stop_.halted()) return;
    if (!s.ok()) {
      LOG(WARNING) << "state sync: sub-DAG " << index << " not applied: " << s;
      break;
    }
    ++applied;
  }
  catch_up_in_flight_ = false;
  catch_up_rows_.clear();
  if (applied == 0) return;
  LOG(INFO) << "primary " << self_ << " applied " << applied << " synced sub-DAGs; last committed round "
            << consensus_->last_committed_round();
  GarbageCollect(consensus_->gc_round());
  ReprocessWaiting();
  for (auto it = dag_.rbegin(); it != dag_.rend(); ++it) {
    if (StakeOf(it->first) >= committee_.QuorumThreshold()) {
      OnRoundQuorum(it->first);
      break;
    }
  }
}

absl::Status Primary::ApplySyncedRow(const std::string& bytes) {
  wire::CommittedSubDag row;
  if (!row.ParseFromString(bytes)) return absl::InvalidArgumentError("not a CommittedSubDag");
  if (row.index() != consensus_next_index_) {
    return absl::InvalidArgumentError(absl::StrCat("index ", row.index(), ", expected ", consensus_next_index_));
  }
  CommittedSubDag sub;
  sub.index = row.index();
  for (const wire::Certificate& w : row.certificates()) {
    auto c = Certificate::FromWire(w);
    if (!c.ok()) return c.status();
    sub.certificates.push_back(std::make_shared<const Certificate>(std::move(*c)));
  }
  if (sub.certificates.empty() || sub.certificates.back()->digest.ToBytes() != row.leader()) {
    return absl::InvalidArgumentError("the leader must be the last certificate");
  }
  sub.leader = sub.certificates.back();
  for (const wire::BatchRef& b : row.batches()) {
    auto d = Digest::FromBytes(b.digest());
    if (!d.ok()) return d.status();
    sub.batches.push_back({*d, b.worker_id()});
  }
  if (absl::Status s = consensus_->ApplySynced(sub); !s.ok()) return s;
  if (StoreFailed(absl::StrCat("appending synced sub-DAG ", sub.index),
                  env_.store->AppendCommitted({sub.index, bytes}, consensus_->SerializeState()))) {
    return fail_stop_.status();
  }
  // Durable, hence reported now, before the writes below (as in OnCommitted).
  ++consensus_next_index_;
  ++stats_.sub_dags_synced;
  ++stats_.sub_dags_committed;
  stats_.certificates_committed += sub.certificates.size();
  if (hooks_.on_commit) hooks_.on_commit(sub);
  PruneCommittedRows(sub.index);
  if (fail_stop_.halted()) return fail_stop_.status();
  const Round round = sub.leader->round();
  for (const BatchRef& b : sub.batches) {
    executed_.Remember(b.digest, round);
  }
  // Certificates above the new GC round are parents of what comes next.
  const Round gc = consensus_->gc_round();
  for (const CertificatePtr& c : sub.certificates) {
    if (c->author() == self_) {
      ForgetOwnPayload(c->header.payload);
      own_uncommitted_.erase(c->round());
      if (fail_stop_.halted()) return fail_stop_.status();
    }
    if (c->round() <= gc || HasCertificate(c->digest) || dag_.HasAuthorAt(c->round(), c->author())) continue;
    if (StoreFailed("storing a synced certificate",
                    env_.store->PutCertificate(c->digest, c->round(), c->author(), c->Serialize()))) {
      return fail_stop_.status();
    }
    dag_.Insert(c);
    fetcher_.Resolved(c->digest);
  }
  executor_->OnCommitted(sub, prune_batches_sent_);
  return absl::OkStatus();
}

void Primary::ReprocessWaiting() {
  // What waited for parents that the sync made unnecessary (now below the GC
  // round, or received) goes through the normal path again, oldest first.
  auto [certificates, headers] = waiting_.TakeAll();
  std::stable_sort(certificates.begin(), certificates.end(),
                   [](const CertificatePtr& a, const CertificatePtr& b) { return a->round() < b->round(); });
  for (CertificatePtr& c : certificates) {
    const AuthorityIndex source = c->author();
    ProcessCertificate(std::move(c), source);
  }
  for (Header& h : headers) ProcessHeader(std::move(h));
}

}  // namespace narwhal
