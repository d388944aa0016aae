// Our own batches waiting to go into a header, in the order they will be
// proposed: new ones at the back, ones that must go again (an uncertified
// or orphaned header's, a garbage-collected certificate's) at the front.
//
// A batch may carry the GC round current when it was queued: a batch
// proposed long after (gc_depth / 2 GC rounds) is re-tagged at its worker
// first so worker garbage collection keeps it (Primary::Propose). Invariants
// (CHECKed): a batch is queued at most once, and only queued batches carry
// an age.
#ifndef NARWHAL_CORE_PRIMARY_PAYLOAD_QUEUE_H_
#define NARWHAL_CORE_PRIMARY_PAYLOAD_QUEUE_H_

#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/dag.h"

namespace narwhal {

class PayloadQueue {
 public:
  bool Contains(const BatchRef& ref) const { return queued_.contains(ref); }
  size_t size() const { return queue_.size(); }

  // Appends `ref` if not queued, with the GC round it was queued at (0:
  // unknown, which re-tags it when proposed). False if it was queued.
  bool PushBack(const BatchRef& ref, Round queued_at_gc);
  // Puts `ref` first if not queued; it keeps the age it has (none if it
  // was taken before). False if it was queued.
  bool PushFront(const BatchRef& ref);
  // `ref` (queued) is old: re-tag it when proposed.
  void MarkOld(const BatchRef& ref);

  // Removes up to `n` batches from the front, each with its age if it has one.
  std::vector<std::pair<BatchRef, std::optional<Round>>> Take(size_t n);

 private:
  void CheckConsistent() const;

  std::deque<BatchRef> queue_;
  absl::btree_set<BatchRef> queued_;
  absl::btree_map<BatchRef, Round> queued_at_gc_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_PRIMARY_PAYLOAD_QUEUE_H_
