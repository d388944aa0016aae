#include "core/primary/certificate_fetcher.h"

#include "glog/logging.h"

namespace narwhal {

CertificateFetcher::~CertificateFetcher() {
  for (auto& [d, w] : pending_) env_.timers->Cancel(w.timer);
}

void CertificateFetcher::Fetch(const Digest& digest, Round round, AuthorityIndex first_source) {
  if (pending_.contains(digest)) return;
  pending_[digest] = Want{round, first_source};
  Ask(digest);
}

void CertificateFetcher::Resolved(const Digest& digest) {
  auto it = pending_.find(digest);
  if (it == pending_.end()) return;
  env_.timers->Cancel(it->second.timer);
  pending_.erase(it);
}

void CertificateFetcher::Cleanup(Round gc_round) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.round <= gc_round) {
      env_.timers->Cancel(it->second.timer);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

void CertificateFetcher::Ask(const Digest& digest) {
  Want& w = pending_.at(digest);
  wire::Request req;
  req.mutable_certificates_request()->add_digests(digest.ToBytes());
  std::vector<AuthorityIndex> targets;
  if (w.attempts == 0 && w.first_source != self_) {
    targets.push_back(w.first_source);
  } else {
    for (AuthorityIndex a = 0; a < committee_->size(); ++a) {
      if (a != self_) targets.push_back(a);
    }
  }
  ++w.attempts;
  for (AuthorityIndex a : targets) {
    ++requests_sent_;
    absl::Status s = messenger_->SendUnreliable(
        Endpoint::Primary(a), req,
        [this](const Endpoint& from, const absl::StatusOr<wire::Response>& r) {
          if (!r.ok() || !r->success()) return;
          for (const std::string& item : r->items()) on_item_(from, item);
        },
        params_->sync_retry_delay_us);
    LOG_IF(WARNING, !s.ok()) << "certificate sync request to " << a << " failed: " << s;
  }
  w.timer = env_.timers->Schedule(params_->sync_retry_delay_us, [this, digest] {
    if (pending_.contains(digest)) Ask(digest);
  });
}

}  // namespace narwhal
