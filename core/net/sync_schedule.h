// The retry schedule shared by every "fetch what I miss" component (batches
// in the worker, certificates in the primary): ask the first source alone,
// then, every `retry_delay_us` until the item is resolved, ask every other
// authority. Each ask is one attempt (the UnreliableSender): a sync request
// is re-asked elsewhere anyway. Wants for rounds below the garbage-collection
// round are dropped.
#ifndef NARWHAL_CORE_NET_SYNC_SCHEDULE_H_
#define NARWHAL_CORE_NET_SYNC_SCHEDULE_H_

#include <functional>
#include <vector>

#include "absl/container/btree_map.h"
#include "core/env.h"
#include "core/types.h"

namespace narwhal {

class SyncSchedule {
 public:
  // Sends one request for `digest` to each of `targets` (authority indices).
  using Ask = std::function<void(const Digest& digest, const std::vector<AuthorityIndex>& targets)>;

  SyncSchedule(const Env& env, size_t committee_size, AuthorityIndex self, TimeUs retry_delay_us, Ask ask)
      : env_(env), committee_size_(committee_size), self_(self), retry_delay_us_(retry_delay_us),
        ask_(std::move(ask)) {}
  ~SyncSchedule();

  // Starts asking for `digest` (of `round`) unless already asking.
  void Want(const Digest& digest, Round round, AuthorityIndex first_source);
  // Stops asking; returns whether it was wanted.
  bool Resolved(const Digest& digest);
  bool Wanted(const Digest& digest) const { return wants_.contains(digest); }
  // Drops every want of a round below `round`.
  void DropBelow(Round round);
  size_t size() const { return wants_.size(); }

 private:
  struct Entry {
    Round round;
    AuthorityIndex first_source;
    int attempts = 0;
    TimerId timer = 0;
  };
  void AskNow(const Digest& digest);

  Env env_;
  size_t committee_size_;
  AuthorityIndex self_;
  TimeUs retry_delay_us_;
  Ask ask_;
  absl::btree_map<Digest, Entry> wants_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_NET_SYNC_SCHEDULE_H_
