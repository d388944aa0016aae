// The node's single-threaded reactor loop: implements the Clock and Timers
// seams of core/env.h on the steady clock, and dispatches readable ZeroMQ
// sockets to their handlers. Every callback it runs (timer, socket handler,
// posted function) runs on the thread inside Run()/RunUntil(), one at a
// time, and never from inside Schedule/Cancel/Watch/Post.
//
// Example:
//   absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
//   (*loop)->Schedule(10 * kMillisecondUs, [] { LOG(INFO) << "tick"; });
//   std::signal(SIGTERM, ...);  // the handler may call loop->Stop()
//   (*loop)->Run();             // until Stop()
//
// Threading: Stop() and Post() may be called from any thread (Stop() also
// from a signal handler). Everything else belongs to the loop thread, or to
// the constructing thread before Run() starts.
#ifndef NARWHAL_TRANSPORT_ZMQ_EVENT_LOOP_H_
#define NARWHAL_TRANSPORT_ZMQ_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/env.h"

namespace narwhal {

struct EventLoopOptions {
  // Functions waiting in Post()'s queue; beyond this Post() refuses, so a
  // producer thread faster than the loop cannot grow memory without bound.
  size_t posted_max = 64 * 1024;
};

class EventLoop final : public Clock, public Timers {
 public:
  using WatchId = uint64_t;

  // Fails only if the kernel refuses the wakeup eventfd.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(EventLoopOptions options = {});
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Clock: steady_clock microseconds.
  TimeUs NowUs() const override;

  // Timers. Timers fire in (deadline, id) order, so two timers with the same
  // deadline fire in the order they were scheduled. A timer scheduled from
  // inside a callback never runs in the same pass, even with delay 0.
  // Precision is about one millisecond (zmq_poll's timeout unit).
  TimerId Schedule(TimeUs delay_us, std::function<void()> callback) override;
  void Cancel(TimerId id) override;

  // Calls `on_readable` on the loop thread whenever `socket` has a message to
  // read. The handler should read what is there (it is called again while
  // anything is left). The socket must stay open until Unwatch(); closing a
  // watched socket is a bug the loop treats as fatal. Owners unwatch before
  // the loop is destroyed.
  WatchId Watch(zmq::socket_ref socket, std::function<void()> on_readable);
  // Safe from inside any callback, including the socket's own handler.
  // Unknown ids are ignored.
  void Unwatch(WatchId id);

  // Called at the start and at the end of every pass that has work (a
  // readable socket, a posted function or a due timer), on the loop thread:
  // the node makes one pass one durable step (NodeProcess: the pass's store
  // writes commit together, then the frames it sent leave).
  void SetPassHooks(std::function<void()> before, std::function<void()> after) {
    before_pass_ = std::move(before);
    after_pass_ = std::move(after);
  }

  // Runs until Stop(). A Stop() that came before Run() makes it return at
  // once; the request is consumed when Run() returns.
  void Run();
  // Runs until `done()` is true (checked after each pass), Stop(), or
  // `timeout_us` elapses. Returns done(). For tests and orderly shutdown.
  bool RunUntil(const std::function<bool()>& done, TimeUs timeout_us);

  // Any thread; async-signal-safe (an atomic store and a write(2)).
  void Stop();
  // Any thread: runs `fn` on the loop thread in a later pass, in Post order.
  // ResourceExhausted when `posted_max` functions are already waiting.
  absl::Status Post(std::function<void()> fn);

  // Live (scheduled, not yet fired or cancelled) timers.
  size_t pending_timers() const { return timer_callbacks_.size(); }

 private:
  struct Watched {
    zmq::socket_ref socket;
    // Shared so a handler that unwatches itself is not destroyed mid-call.
    std::shared_ptr<std::function<void()>> on_readable;
  };
  using HeapEntry = std::pair<TimeUs, TimerId>;

  EventLoop(EventLoopOptions options, int wakeup_fd);

  // One pass: poll for at most `max_wait_us` (-1: no bound), then run posted
  // functions, readable sockets' handlers and due timers.
  void RunOnce(TimeUs max_wait_us);
  // Microseconds until the earliest live timer, or -1 if there is none.
  TimeUs UntilNextTimerUs();
  void RunPosted();
  void RunDueTimers();
  void Wake();
  void DrainWakeup();
  void CheckOnLoopThread() const;

  const EventLoopOptions options_;
  // An eventfd rather than an inproc socket: write(2) is async-signal-safe,
  // so Stop() may be called from a signal handler.
  const int wakeup_fd_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::thread::id> loop_thread_{};

  std::function<void()> before_pass_;
  std::function<void()> after_pass_;
  TimerId next_timer_id_ = 1;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<HeapEntry>> timer_heap_;
  // Lookup only (never iterated), so a hash map is fine. Cancel() erases
  // here; the heap entry is skipped when it surfaces.
  absl::flat_hash_map<TimerId, std::function<void()>> timer_callbacks_;

  WatchId next_watch_id_ = 1;
  // Ordered so sockets are dispatched in registration order.
  std::map<WatchId, Watched> watched_;

  absl::Mutex posted_mu_;
  std::deque<std::function<void()>> posted_ ABSL_GUARDED_BY(posted_mu_);
};

}  // namespace narwhal

#endif  // NARWHAL_TRANSPORT_ZMQ_EVENT_LOOP_H_
