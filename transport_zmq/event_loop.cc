#include "transport_zmq/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(EventLoopOptions options) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(options, fd));
}

EventLoop::EventLoop(EventLoopOptions options, int wakeup_fd)
    : options_(options), wakeup_fd_(wakeup_fd) {}

// Stop() runs in signal handlers, where only lock-free atomics are safe.
static_assert(std::atomic<bool>::is_always_lock_free);

EventLoop::~EventLoop() { close(wakeup_fd_); }

TimeUs EventLoop::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TimerId EventLoop::Schedule(TimeUs delay_us, std::function<void()> callback) {
  CheckOnLoopThread();
  DCHECK_GE(delay_us, 0) << "Timers::Schedule contract: delay_us >= 0";
  if (delay_us < 0) delay_us = 0;
  const TimerId id = next_timer_id_++;
  timer_heap_.emplace(NowUs() + delay_us, id);
  timer_callbacks_.emplace(id, std::move(callback));
  return id;
}

void EventLoop::Cancel(TimerId id) {
  CheckOnLoopThread();
  timer_callbacks_.erase(id);
}

EventLoop::WatchId EventLoop::Watch(zmq::socket_ref socket, std::function<void()> on_readable) {
  CheckOnLoopThread();
  CHECK(socket.handle() != nullptr) << "watching a closed socket";
  const WatchId id = next_watch_id_++;
  watched_.emplace(id, Watched{socket, std::make_shared<std::function<void()>>(
                                           std::move(on_readable))});
  return id;
}

void EventLoop::Unwatch(WatchId id) {
  CheckOnLoopThread();
  watched_.erase(id);
}

void EventLoop::Run() {
  loop_thread_.store(std::this_thread::get_id());
  while (!stop_requested_.load()) RunOnce(-1);
  stop_requested_.store(false);
  loop_thread_.store(std::thread::id());
}

bool EventLoop::RunUntil(const std::function<bool()>& done, TimeUs timeout_us) {
  loop_thread_.store(std::this_thread::get_id());
  const TimeUs deadline = NowUs() + timeout_us;
  bool finished = done();
  while (!finished && !stop_requested_.load()) {
    const TimeUs left = deadline - NowUs();
    if (left <= 0) break;
    RunOnce(left);
    finished = done();
  }
  stop_requested_.store(false);
  loop_thread_.store(std::thread::id());
  return finished;
}

void EventLoop::Stop() {
  stop_requested_.store(true);
  Wake();
}

absl::Status EventLoop::Post(std::function<void()> fn) {
  {
    absl::MutexLock lock(&posted_mu_);
    if (posted_.size() >= options_.posted_max) {
      return absl::ResourceExhaustedError(
          absl::StrCat("event loop post queue full (", options_.posted_max, " functions)"));
    }
    posted_.push_back(std::move(fn));
  }
  Wake();
  return absl::OkStatus();
}

void EventLoop::RunOnce(TimeUs max_wait_us) {
  TimeUs wait_us = UntilNextTimerUs();
  if (max_wait_us >= 0 && (wait_us < 0 || wait_us > max_wait_us)) wait_us = max_wait_us;
  if (stop_requested_.load()) wait_us = 0;

  // Rebuilt each pass because handlers may Watch/Unwatch; the committee is
  // small, so this costs little next to a system call.
  std::vector<zmq_pollitem_t> items;
  std::vector<WatchId> ids;
  items.reserve(watched_.size() + 1);
  ids.reserve(watched_.size());
  items.push_back(zmq_pollitem_t{nullptr, wakeup_fd_, ZMQ_POLLIN, 0});
  for (auto& [id, watched] : watched_) {
    items.push_back(zmq_pollitem_t{watched.socket.handle(), 0, ZMQ_POLLIN, 0});
    ids.push_back(id);
  }
  // Round up so a timer is never woken for early and then polled again with
  // a zero timeout in a busy loop.
  const long timeout_ms = wait_us < 0 ? -1 : static_cast<long>((wait_us + 999) / 1000);
  if (zmq_poll(items.data(), static_cast<int>(items.size()), timeout_ms) < 0) {
    const int error = zmq_errno();
    // A signal (for instance the one whose handler calls Stop()).
    if (error == EINTR) return;
    LOG(FATAL) << "zmq_poll failed (a watched socket closed or its context "
                  "terminated while watched): "
               << zmq_strerror(error);
  }

  if (items[0].revents & ZMQ_POLLIN) DrainWakeup();
  const bool has_work = std::any_of(items.begin(), items.end(),
                                    [](const zmq_pollitem_t& i) { return (i.revents & ZMQ_POLLIN) != 0; }) ||
                        UntilNextTimerUs() == 0;
  // A timer that falls due only while this pass runs without other work
  // runs outside the hooks: its writes then commit on their own, as they
  // would without grouping (slower, never less durable).
  if (has_work && before_pass_) before_pass_();
  RunPosted();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!(items[i + 1].revents & ZMQ_POLLIN)) continue;
    auto it = watched_.find(ids[i]);
    // An earlier handler in this pass may have unwatched it.
    if (it == watched_.end()) continue;
    // Held by value so the handler may Unwatch itself while it runs.
    std::shared_ptr<std::function<void()>> handler = it->second.on_readable;
    (*handler)();
  }
  RunDueTimers();
  if (has_work && after_pass_) after_pass_();
}

TimeUs EventLoop::UntilNextTimerUs() {
  while (!timer_heap_.empty() && !timer_callbacks_.contains(timer_heap_.top().second)) {
    timer_heap_.pop();
  }
  if (timer_heap_.empty()) return -1;
  const TimeUs left = timer_heap_.top().first - NowUs();
  return left > 0 ? left : 0;
}

void EventLoop::RunPosted() {
  std::deque<std::function<void()>> batch;
  {
    absl::MutexLock lock(&posted_mu_);
    batch.swap(posted_);
  }
  for (std::function<void()>& fn : batch) fn();
}

void EventLoop::RunDueTimers() {
  const TimeUs now = NowUs();
  // Timers scheduled by the callbacks below wait for the next pass.
  const TimerId first_new_id = next_timer_id_;
  while (!timer_heap_.empty()) {
    const auto [deadline, id] = timer_heap_.top();
    if (deadline > now || id >= first_new_id) break;
    timer_heap_.pop();
    auto it = timer_callbacks_.find(id);
    if (it == timer_callbacks_.end()) continue;  // cancelled
    std::function<void()> callback = std::move(it->second);
    timer_callbacks_.erase(it);
    callback();
  }
}

void EventLoop::Wake() {
  const uint64_t one = 1;
  // EAGAIN means the counter is already huge: the loop is awake anyway.
  [[maybe_unused]] ssize_t written = write(wakeup_fd_, &one, sizeof(one));
}

void EventLoop::DrainWakeup() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t got = read(wakeup_fd_, &count, sizeof(count));
}

void EventLoop::CheckOnLoopThread() const {
  const std::thread::id owner = loop_thread_.load();
  DCHECK(owner == std::thread::id() || owner == std::this_thread::get_id())
      << "EventLoop used from a thread other than the one running it";
}

}  // namespace narwhal
