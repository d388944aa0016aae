// Fetches certificates that are referenced (as parents) but not held: first
// from the peer that referred to them, then, after sync_retry_delay, from
// every other primary. Fetched certificates re-enter the primary through its
// normal certificate path (full validation). Requests below the
// garbage-collection round are dropped.
#ifndef NARWHAL_CORE_PRIMARY_CERTIFICATE_FETCHER_H_
#define NARWHAL_CORE_PRIMARY_CERTIFICATE_FETCHER_H_

#include <functional>

#include "absl/container/btree_map.h"
#include "core/committee.h"
#include "core/env.h"
#include "core/log_limiter.h"
#include "core/net/messenger.h"
#include "core/net/sync_schedule.h"
#include "core/parameters.h"

namespace narwhal {

class CertificateFetcher {
 public:
  using OnItem = std::function<void(const Endpoint& from, const std::string& certificate)>;
  CertificateFetcher(const Env& env, const Committee* committee, const Parameters* params,
                     AuthorityIndex self, Messenger* messenger, OnItem on_item);

  // `round` is the round of the missing certificate (the child's round - 1).
  void Fetch(const Digest& digest, Round round, AuthorityIndex first_source);
  void Resolved(const Digest& digest);
  void Cleanup(Round gc_round);
  size_t pending() const { return schedule_.size(); }
  uint64_t requests_sent() const { return requests_sent_; }

 private:
  void Ask(const Digest& digest, const std::vector<AuthorityIndex>& targets);

  const Parameters* params_;
  const Clock* clock_;
  Messenger* messenger_;
  OnItem on_item_;
  LogLimiter warnings_{10 * kSecondUs};  // per peer
  SyncSchedule schedule_;
  uint64_t requests_sent_ = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_PRIMARY_CERTIFICATE_FETCHER_H_
