#include "sim/scheduler.h"

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
  queue_.push_back(Event{at_us, seq, slot});
  std::push_heap(queue_.begin(), queue_.end(), std::greater<Event>());
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

void Scheduler::PopHead() {
  std::pop_heap(queue_.begin(), queue_.end(), std::greater<Event>());
  queue_.pop_back();
}

void Scheduler::PurgeCancelled() {
  std::erase_if(queue_, [this](const Event& e) { return !Live(e); });
  std::make_heap(queue_.begin(), queue_.end(), std::greater<Event>());
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
