#include "core/worker/batch_synchronizer.h"

#include "core/batch.h"
#include "glog/logging.h"

namespace narwhal {

BatchSynchronizer::BatchSynchronizer(const Env& env, const Committee* committee,
                                     const Parameters* params, AuthorityIndex self, WorkerId id,
                                     Messenger* messenger, OnFetched on_fetched)
    : params_(params),
      clock_(env.clock),
      id_(id),
      messenger_(messenger),
      on_fetched_(std::move(on_fetched)),
      schedule_(env, committee->size(), self, params->sync_retry_delay_us,
                [this](const Digest& d, const std::vector<AuthorityIndex>& targets) { Ask(d, targets); }) {}

void BatchSynchronizer::Fetch(const Digest& digest, AuthorityIndex author, Round round) {
  schedule_.Want(digest, round, author);
}

void BatchSynchronizer::Resolved(const Digest& digest) { schedule_.Resolved(digest); }

void BatchSynchronizer::Cleanup(Round gc_round) { schedule_.DropBelow(gc_round); }

void BatchSynchronizer::Ask(const Digest& digest, const std::vector<AuthorityIndex>& targets) {
  wire::Request req;
  req.mutable_batch_request()->add_digests(digest.ToBytes());
  const PreparedRequest prepared(req);
  for (AuthorityIndex a : targets) {
    absl::Status s = messenger_->SendUnreliable(
        Endpoint::Worker(a, id_), prepared,
        [this, digest](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
          OnResponse(digest, r);
        },
        params_->sync_retry_delay_us);
    if (s.ok()) ++requests_sent_;
    uint64_t held = 0;
    if (!s.ok() && warnings_.Allow(a, clock_->NowUs(), &held)) {
      LOG(WARNING) << "batch sync request to authority " << a << " failed: " << s << " (" << held
                   << " more such failures to it in the last 10 s)";
    }
  }
}

void BatchSynchronizer::OnResponse(const Digest& digest,
                                   const absl::StatusOr<wire::Response>& response) {
  if (!response.ok() || !response->success() || !schedule_.Wanted(digest)) return;
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
