#include "core/primary/payload_queue.h"

#include "glog/logging.h"

namespace narwhal {

void PayloadQueue::CheckConsistent() const {
  CHECK_EQ(queue_.size(), queued_.size()) << "a batch queued twice";
  CHECK_LE(queued_at_gc_.size(), queued_.size()) << "an age for a batch not queued";
}

bool PayloadQueue::PushBack(const BatchRef& ref, Round queued_at_gc) {
  if (!queued_.insert(ref).second) return false;
  queue_.push_back(ref);
  queued_at_gc_[ref] = queued_at_gc;
  CheckConsistent();
  return true;
}

bool PayloadQueue::PushFront(const BatchRef& ref) {
  if (!queued_.insert(ref).second) return false;
  queue_.push_front(ref);
  CheckConsistent();
  return true;
}

void PayloadQueue::MarkOld(const BatchRef& ref) {
  CHECK(queued_.contains(ref)) << "batch " << ref.digest.Short() << " is not queued";
  queued_at_gc_[ref] = 0;
}

std::vector<std::pair<BatchRef, std::optional<Round>>> PayloadQueue::Take(size_t n) {
  std::vector<std::pair<BatchRef, std::optional<Round>>> out;
  out.reserve(std::min(n, queue_.size()));
  while (out.size() < n && !queue_.empty()) {
    const BatchRef ref = queue_.front();
    queue_.pop_front();
    queued_.erase(ref);
    std::optional<Round> age;
    if (auto at = queued_at_gc_.find(ref); at != queued_at_gc_.end()) {
      age = at->second;
      queued_at_gc_.erase(at);
    }
    out.emplace_back(ref, age);
  }
  CheckConsistent();
  return out;
}

}  // namespace narwhal
