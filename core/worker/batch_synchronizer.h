// Fetches batches that this worker's primary needs (to vote for a header or
// to execute a commit) and that this worker does not hold: it asks the
// author's worker first and, if that fails or is too slow, the workers of
// every other authority after `sync_retry_delay`. Requests for rounds below
// the garbage-collection round are dropped.
#ifndef NARWHAL_CORE_WORKER_BATCH_SYNCHRONIZER_H_
#define NARWHAL_CORE_WORKER_BATCH_SYNCHRONIZER_H_

#include <functional>
#include <string>

#include "absl/container/btree_map.h"
#include "core/committee.h"
#include "core/env.h"
#include "core/log_limiter.h"
#include "core/net/messenger.h"
#include "core/net/sync_schedule.h"
#include "core/parameters.h"

namespace narwhal {

class BatchSynchronizer {
 public:
  // Called with each fetched batch whose digest matched; the worker stores
  // it and reports it to its primary.
  using OnFetched = std::function<void(const Digest& digest, std::string batch)>;

  BatchSynchronizer(const Env& env, const Committee* committee, const Parameters* params,
                    AuthorityIndex self, WorkerId id, Messenger* messenger, OnFetched on_fetched);

  // Fetches `digest` (authored by `author` in `round`) unless already asked.
  void Fetch(const Digest& digest, AuthorityIndex author, Round round);
  // The batch arrived some other way (e.g. broadcast): stop asking.
  void Resolved(const Digest& digest);
  void Cleanup(Round gc_round);

  size_t pending() const { return schedule_.size(); }
  uint64_t fetched() const { return fetched_; }
  uint64_t requests_sent() const { return requests_sent_; }

 private:
  void Ask(const Digest& digest, const std::vector<AuthorityIndex>& targets);
  void OnResponse(const Digest& digest, const absl::StatusOr<wire::Response>& response);

  const Parameters* params_;
  const Clock* clock_;
  WorkerId id_;
  Messenger* messenger_;
  LogLimiter warnings_{10 * kSecondUs};  // per peer
  OnFetched on_fetched_;
  SyncSchedule schedule_;
  uint64_t fetched_ = 0;
  uint64_t requests_sent_ = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_WORKER_BATCH_SYNCHRONIZER_H_
