#include "core/primary/certificate_fetcher.h"

#include "glog/logging.h"

namespace narwhal {

CertificateFetcher::CertificateFetcher(const Env& env, const Committee* committee,
                                       const Parameters* params, AuthorityIndex self,
                                       Messenger* messenger, OnItem on_item)
    : params_(params),
      clock_(env.clock),
      messenger_(messenger),
      on_item_(std::move(on_item)),
      schedule_(env, committee->size(), self, params->sync_retry_delay_us,
                [this](const Digest& d, const std::vector<AuthorityIndex>& targets) { Ask(d, targets); }) {}

void CertificateFetcher::Fetch(const Digest& digest, Round round, AuthorityIndex first_source) {
  schedule_.Want(digest, round, first_source);
}

void CertificateFetcher::Resolved(const Digest& digest) { schedule_.Resolved(digest); }

// Certificates at the GC round are already collected (consensus ignores them).
void CertificateFetcher::Cleanup(Round gc_round) { schedule_.DropBelow(gc_round + 1); }

void CertificateFetcher::Ask(const Digest& digest, const std::vector<AuthorityIndex>& targets) {
  wire::Request req;
  req.mutable_certificates_request()->add_digests(digest.ToBytes());
  const PreparedRequest prepared(req);
  for (AuthorityIndex a : targets) {
    ++requests_sent_;
    absl::Status s = messenger_->SendUnreliable(
        Endpoint::Primary(a), prepared,
        [this](const Endpoint& from, const absl::StatusOr<wire::Response>& r) {
          if (!r.ok() || !r->success()) return;
          for (const std::string& item : r->items()) on_item_(from, item);
        },
        params_->sync_retry_delay_us);
    uint64_t held = 0;
    if (!s.ok() && warnings_.Allow(a, clock_->NowUs(), &held)) {
      LOG(WARNING) << "certificate sync request to authority " << a << " failed: " << s << " (" << held
                   << " more such failures to it in the last 10 s)";
    }
  }
}

}  // namespace narwhal
