// The simulator's discrete-event scheduler: one thread, virtual time, events
// ordered by (virtual time, sequence number) so two runs of one seed execute
// the same events in the same order. Time jumps to the next event.
//
// It is also the Clock and Timers of every simulated node; per-node timers go
// through NodeTimers so that a crash can drop all of a node's timers at once.
#ifndef NARWHAL_TRANSPORT_SIM_SCHEDULER_H_
#define NARWHAL_TRANSPORT_SIM_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "core/env.h"
#include "transport_sim/trace_hash.h"

namespace narwhal::sim {

class Scheduler final : public Clock, public Timers {
 public:
  TimeUs NowUs() const override { return now_us_; }
  TimerId Schedule(TimeUs delay_us, std::function<void()> callback) override;
  void Cancel(TimerId id) override;
  // Schedules at an absolute virtual time (>= now).
  TimerId ScheduleAt(TimeUs at_us, std::function<void()> callback);

  // Runs the next event; false when none is left.
  bool RunOne();
  // Runs every event with time <= `until_us`, then sets now to `until_us`.
  void RunUntil(TimeUs until_us);
  // Stops RunUntil after the current event (e.g. a checker found a violation).
  void RequestStop() { stop_requested_ = true; }
  bool stop_requested() const { return stop_requested_; }

  uint64_t events_executed() const { return events_executed_; }
  size_t pending() const { return live_; }
  TraceHash& trace() { return trace_; }

 private:
  struct Event {
    TimeUs at_us;
    uint64_t seq;
    uint32_t slot;  // where its callback waits
    bool operator>(const Event& o) const {
      return at_us != o.at_us ? at_us > o.at_us : seq > o.seq;
    }
  };
  // Callbacks live in slots, reused through a free list (deterministically:
  // last freed, first reused). A slot knows the sequence number of the event
  // it holds, so a heap entry whose slot moved on was cancelled. A TimerId
  // is (slot + 1) << 40 | seq, never 0; seq < 2^40 (10^12 events).
  struct Slot {
    std::function<void()> callback;
    uint64_t seq = 0;  // 0: free
  };
  static constexpr int kSeqBits = 40;
  static constexpr uint64_t kSeqMask = (uint64_t{1} << kSeqBits) - 1;
  bool Live(const Event& e) const { return slots_[e.slot].seq == e.seq; }
  void FreeSlot(uint32_t slot);
  TimeUs now_us_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t events_executed_ = 0;
  bool stop_requested_ = false;
  // A 4-ary min-heap on (at_us, seq): a total order, so the pop sequence
  // does not depend on the heap's layout. Four children share a cache line
  // or two and the tree is half as deep as a binary heap's (the heap's pops
  // were the scheduler's main cost with 100 nodes).
  std::vector<Event> queue_;
  void Push(const Event& e);
  void SiftDown(size_t i);
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t live_ = 0;
  // Heap entries whose callback was cancelled. Most reliable sends arm a
  // retry timer that their answer cancels, so without purging the heap
  // fills with dead entries (millions in a 100-node run) and every push and
  // pop pays for them.
  size_t cancelled_in_queue_ = 0;
  void PopHead();
  void PurgeCancelled();
  TraceHash trace_;
};

// The Timers of one simulated node. Crash() invalidates every timer the node
// scheduled before, without touching other nodes' timers; each firing is
// folded into the trace hash with the node's id.
class NodeTimers final : public Timers {
 public:
  NodeTimers(Scheduler* scheduler, uint64_t node_id) : scheduler_(scheduler), node_id_(node_id) {}
  TimerId Schedule(TimeUs delay_us, std::function<void()> callback) override;
  void Cancel(TimerId id) override { scheduler_->Cancel(id); }
  // Drops every pending timer of this node (they will not fire).
  void Crash() { ++epoch_; }
  // While paused, timers that come due are held and fire at Resume.
  void Pause() { paused_ = true; }
  void Resume();

 private:
  Scheduler* scheduler_;
  uint64_t node_id_;
  uint64_t epoch_ = 0;
  bool paused_ = false;
  std::vector<std::function<void()>> held_;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_TRANSPORT_SIM_SCHEDULER_H_
