#include "transport_sim/scheduler.h"

#include <algorithm>

#include "glog/logging.h"

namespace narwhal::sim {

TimerId Scheduler::Schedule(TimeUs delay_us, std::function<void()> callback) {
  CHECK_GE(delay_us, 0);
  return ScheduleAt(now_us_ + delay_us, std::move(callback));
}

TimerId Scheduler::ScheduleAt(TimeUs at_us, std::function<void()> callback) {
  CHECK_GE(at_us, now_us_) << "cannot schedule in the past";
  const uint64_t seq = next_seq_++;
  CHECK_LE(seq, kSeqMask) << "event sequence numbers exhausted";
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  slots_[slot].callback = std::move(callback);
  slots_[slot].seq = seq;
  ++live_;
  Push(Event{at_us, seq, slot});
  return (uint64_t{slot} + 1) << kSeqBits | seq;
}

void Scheduler::FreeSlot(uint32_t slot) {
  slots_[slot].callback = nullptr;
  slots_[slot].seq = 0;
  free_slots_.push_back(slot);
  --live_;
}

void Scheduler::Cancel(TimerId id) {
  if (id == 0) return;
  const uint64_t slot_plus_one = id >> kSeqBits;
  if (slot_plus_one == 0 || slot_plus_one > slots_.size()) return;
  const auto slot = static_cast<uint32_t>(slot_plus_one - 1);
  if (slots_[slot].seq != (id & kSeqMask)) return;  // already ran or cancelled
  FreeSlot(slot);
  ++cancelled_in_queue_;
  if (cancelled_in_queue_ > 4096 && cancelled_in_queue_ > queue_.size() / 2) PurgeCancelled();
}

void Scheduler::Push(const Event& e) {
  queue_.push_back(e);
  size_t i = queue_.size() - 1;
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!(queue_[parent] > e)) break;
    queue_[i] = queue_[parent];
    i = parent;
  }
  queue_[i] = e;
}

void Scheduler::SiftDown(size_t i) {
  const size_t n = queue_.size();
  const Event moving = queue_[i];
  while (true) {
    const size_t first = 4 * i + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t end = std::min(first + 4, n);
    for (size_t c = first + 1; c < end; ++c) {
      if (queue_[best] > queue_[c]) best = c;
    }
    if (!(moving > queue_[best])) break;
    queue_[i] = queue_[best];
    i = best;
  }
  queue_[i] = moving;
}

void Scheduler::PopHead() {
  queue_.front() = queue_.back();
  queue_.pop_back();
  if (!queue_.empty()) SiftDown(0);
}

void Scheduler::PurgeCancelled() {
  std::erase_if(queue_, [this](const Event& e) { return !Live(e); });
  for (size_t i = queue_.size() / 4 + 1; i-- > 0;) {
    if (i < queue_.size()) SiftDown(i);
  }
  cancelled_in_queue_ = 0;
}

bool Scheduler::RunOne() {
  while (!queue_.empty()) {
    const Event e = queue_.front();
    PopHead();
    if (!Live(e)) {  // cancelled
      --cancelled_in_queue_;
      continue;
    }
    std::function<void()> cb = std::move(slots_[e.slot].callback);
    FreeSlot(e.slot);
    CHECK_GE(e.at_us, now_us_);
    now_us_ = e.at_us;
    ++events_executed_;
    cb();
    return true;
  }
  return false;
}

void Scheduler::RunUntil(TimeUs until_us) {
  while (!stop_requested_ && !queue_.empty()) {
    // Skip cancelled heads so the time check sees a live event.
    while (!queue_.empty() && !Live(queue_.front())) {
      PopHead();
      --cancelled_in_queue_;
    }
    if (queue_.empty() || queue_.front().at_us > until_us) break;
    RunOne();
  }
  if (!stop_requested_ && until_us > now_us_) now_us_ = until_us;
}

TimerId NodeTimers::Schedule(TimeUs delay_us, std::function<void()> callback) {
  const uint64_t epoch = epoch_;
  return scheduler_->Schedule(delay_us, [this, epoch, cb = std::move(callback)]() mutable {
    if (epoch != epoch_) return;  // the node crashed since
    if (paused_) {
      held_.push_back(std::move(cb));
      return;
    }
    scheduler_->trace().Mix(node_id_ * 0x100000001b3ULL ^ static_cast<uint64_t>(scheduler_->NowUs()));
    cb();
  });
}

void NodeTimers::Resume() {
  paused_ = false;
  std::vector<std::function<void()>> held = std::move(held_);
  held_.clear();
  const uint64_t epoch = epoch_;
  for (auto& cb : held) {
    scheduler_->Schedule(0, [this, epoch, cb = std::move(cb)]() mutable {
      if (epoch == epoch_) cb();
    });
  }
}

}  // namespace narwhal::sim
