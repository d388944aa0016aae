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
  queue_.push_back(Event{at_us, seq});
  std::push_heap(queue_.begin(), queue_.end(), std::greater<Event>());
  callbacks_.emplace(seq, std::move(callback));
  return seq;
}

void Scheduler::Cancel(TimerId id) {
  if (callbacks_.erase(id) == 0) return;
  ++cancelled_in_queue_;
  if (cancelled_in_queue_ > 4096 && cancelled_in_queue_ > queue_.size() / 2) PurgeCancelled();
}

void Scheduler::PopHead() {
  std::pop_heap(queue_.begin(), queue_.end(), std::greater<Event>());
  queue_.pop_back();
}

void Scheduler::PurgeCancelled() {
  std::erase_if(queue_, [this](const Event& e) { return !callbacks_.contains(e.seq); });
  std::make_heap(queue_.begin(), queue_.end(), std::greater<Event>());
  cancelled_in_queue_ = 0;
}

bool Scheduler::RunOne() {
  while (!queue_.empty()) {
    Event e = queue_.front();
    PopHead();
    auto it = callbacks_.find(e.seq);
    if (it == callbacks_.end()) {  // cancelled
      --cancelled_in_queue_;
      continue;
    }
    std::function<void()> cb = std::move(it->second);
    callbacks_.erase(it);
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
    while (!queue_.empty() && !callbacks_.contains(queue_.front().seq)) {
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
