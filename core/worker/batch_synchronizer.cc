#include "core/worker/batch_synchronizer.h"

#include "core/batch.h"
#include "glog/logging.h"

namespace narwhal {

BatchSynchronizer::BatchSynchronizer(const Env& env, const Committee* committee,
                                     const Parameters* params, AuthorityIndex self, WorkerId id,
                                     Messenger* messenger, OnFetched on_fetched)
    : env_(env),
      committee_(committee),
      params_(params),
      self_(self),
      id_(id),
      messenger_(messenger),
      on_fetched_(std::move(on_fetched)) {}

BatchSynchronizer::~BatchSynchronizer() {
  for (auto& [d, w] : pending_) env_.timers->Cancel(w.timer);
}

void BatchSynchronizer::Fetch(const Digest& digest, AuthorityIndex author, Round round) {
  if (pending_.contains(digest)) return;
  pending_[digest] = Want{author, round};
  Ask(digest);
}

void BatchSynchronizer::Resolved(const Digest& digest) {
  auto it = pending_.find(digest);
  if (it == pending_.end()) return;
  env_.timers->Cancel(it->second.timer);
  pending_.erase(it);
}

void BatchSynchronizer::Cleanup(Round gc_round) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.round < gc_round) {
      env_.timers->Cancel(it->second.timer);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

void BatchSynchronizer::Ask(const Digest& digest) {
  Want& w = pending_.at(digest);
  wire::Request req;
  req.mutable_batch_request()->add_digests(digest.ToBytes());
  // First the author's worker alone; afterwards every other authority's
  // worker at once (a sync request is re-asked elsewhere, so one attempt
  // each: the UnreliableSender).
  std::vector<AuthorityIndex> targets;
  if (w.attempts == 0 && w.author != self_) {
    targets.push_back(w.author);
  } else {
    for (AuthorityIndex a = 0; a < committee_->size(); ++a) {
      if (a != self_) targets.push_back(a);
    }
  }
  ++w.attempts;
  for (AuthorityIndex a : targets) {
    absl::Status s = messenger_->SendUnreliable(
        Endpoint::Worker(a, id_), req,
        [this, digest](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
          OnResponse(digest, r);
        },
        params_->sync_retry_delay_us);
    LOG_IF(WARNING, !s.ok()) << "batch sync request to authority " << a << " failed: " << s;
  }
  w.timer = env_.timers->Schedule(params_->sync_retry_delay_us, [this, digest] {
    if (pending_.contains(digest)) Ask(digest);
  });
}

void BatchSynchronizer::OnResponse(const Digest& digest,
                                   const absl::StatusOr<wire::Response>& response) {
  if (!response.ok() || !response->success() || !pending_.contains(digest)) return;
  for (const std::string& batch : response->items()) {
    if (BatchDigest(batch) != digest) {
      LOG(WARNING) << "batch sync: a peer answered " << digest.Short()
                   << " with a batch of another digest; ignored";
      continue;
    }
    Resolved(digest);
    ++fetched_;
    on_fetched_(digest, batch);
    return;
  }
}

}  // namespace narwhal
