#include "transport_zmq/event_loop.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

constexpr TimeUs kTestTimeoutUs = 10 * kSecondUs;

std::unique_ptr<EventLoop> MakeLoop(EventLoopOptions options = {}) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(options);
  EXPECT_TRUE(loop.ok()) << loop.status();
  return *std::move(loop);
}

TEST(EventLoopTest, TimersFireInDeadlineThenIdOrderAndNotEarly) {
  auto loop = MakeLoop();
  std::vector<int> fired;
  std::vector<TimeUs> late_us;
  const TimeUs start = loop->NowUs();
  auto record = [&](int tag, TimeUs delay) {
    return [&, tag, delay] {
      fired.push_back(tag);
      late_us.push_back(loop->NowUs() - (start + delay));
    };
  };
  loop->Schedule(30 * kMillisecondUs, record(30, 30 * kMillisecondUs));
  loop->Schedule(10 * kMillisecondUs, record(10, 10 * kMillisecondUs));
  loop->Schedule(20 * kMillisecondUs, record(20, 20 * kMillisecondUs));
  // Same delay as the second timer: fires after it (ids break the tie).
  loop->Schedule(10 * kMillisecondUs, record(11, 10 * kMillisecondUs));

  ASSERT_TRUE(loop->RunUntil([&] { return fired.size() == 4; }, kTestTimeoutUs));
  EXPECT_EQ(fired, (std::vector<int>{10, 11, 20, 30}));
  for (TimeUs late : late_us) EXPECT_GE(late, 0);
  EXPECT_EQ(loop->pending_timers(), 0u);
}

TEST(EventLoopTest, CancelledTimerNeverFires) {
  auto loop = MakeLoop();
  std::vector<int> fired;
  TimerId cancelled = loop->Schedule(5 * kMillisecondUs, [&] { fired.push_back(1); });
  loop->Schedule(20 * kMillisecondUs, [&] { fired.push_back(2); });
  loop->Cancel(cancelled);
  loop->Cancel(cancelled);  // twice: nothing happens
  loop->Cancel(12345);      // unknown: nothing happens
  ASSERT_TRUE(loop->RunUntil([&] { return !fired.empty(); }, kTestTimeoutUs));
  // Run past the cancelled deadline as well.
  loop->RunUntil([] { return false; }, 10 * kMillisecondUs);
  EXPECT_EQ(fired, std::vector<int>{2});
}

TEST(EventLoopTest, CallbackCanCancelALaterTimerDueInTheSamePass) {
  auto loop = MakeLoop();
  std::vector<int> fired;
  TimerId second = 0;
  loop->Schedule(5 * kMillisecondUs, [&] {
    fired.push_back(1);
    loop->Cancel(second);
  });
  second = loop->Schedule(5 * kMillisecondUs, [&] { fired.push_back(2); });
  loop->RunUntil([] { return false; }, 30 * kMillisecondUs);
  EXPECT_EQ(fired, std::vector<int>{1});
}

TEST(EventLoopTest, ZeroDelayTimerFromACallbackRunsInALaterPass) {
  auto loop = MakeLoop();
  int runs = 0;
  // A callback that always reschedules itself with delay 0 must not keep one
  // pass running forever: RunUntil still gets to check its condition.
  std::function<void()> again = [&] {
    ++runs;
    loop->Schedule(0, again);
  };
  loop->Schedule(0, again);
  EXPECT_TRUE(loop->RunUntil([&] { return runs >= 100; }, kTestTimeoutUs));
}

TEST(EventLoopTest, PostFromAnotherThreadRunsOnTheLoopThread) {
  auto loop = MakeLoop();
  std::atomic<int> ran{0};
  std::thread::id ran_on;
  std::thread poster([&] {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(loop->Post([&, i] {
                         // Post order is kept.
                         EXPECT_EQ(ran.load(), i);
                         ran_on = std::this_thread::get_id();
                         ran.fetch_add(1);
                       }).ok());
    }
  });
  // No timers and no sockets: only the wakeup can end the poll.
  const bool done = loop->RunUntil([&] { return ran.load() == 100; }, kTestTimeoutUs);
  poster.join();
  ASSERT_TRUE(done);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoopTest, PostRefusesBeyondItsBound) {
  EventLoopOptions options;
  options.posted_max = 2;
  auto loop = MakeLoop(options);
  EXPECT_TRUE(loop->Post([] {}).ok());
  EXPECT_TRUE(loop->Post([] {}).ok());
  EXPECT_EQ(loop->Post([] {}).code(), absl::StatusCode::kResourceExhausted);
  loop->RunUntil([] { return false; }, 5 * kMillisecondUs);
  EXPECT_TRUE(loop->Post([] {}).ok());
}

TEST(EventLoopTest, StopFromAnotherThreadEndsAnIdleRun) {
  auto loop = MakeLoop();
  // Far in the future: without the wakeup Run would sleep until then.
  loop->Schedule(3600 * kSecondUs, [] {});
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop->Stop();
  });
  const TimeUs start = loop->NowUs();
  loop->Run();
  stopper.join();
  EXPECT_LT(loop->NowUs() - start, kTestTimeoutUs);
}

TEST(EventLoopTest, StopBeforeRunIsNotLostAndIsConsumed) {
  auto loop = MakeLoop();
  loop->Stop();
  loop->Run();  // returns at once
  bool fired = false;
  loop->Schedule(1 * kMillisecondUs, [&] { fired = true; });
  EXPECT_TRUE(loop->RunUntil([&] { return fired; }, kTestTimeoutUs));
}

TEST(EventLoopTest, WatchedSocketHandlerRunsAndMayUnwatchItself) {
  auto loop = MakeLoop();
  zmq::context_t context;
  zmq::socket_t receiver(context, zmq::socket_type::pair);
  zmq::socket_t sender(context, zmq::socket_type::pair);
  receiver.bind("inproc://event_loop_test");
  sender.connect("inproc://event_loop_test");

  int handled = 0;
  EventLoop::WatchId id = 0;
  id = loop->Watch(receiver, [&] {
    zmq::message_t message;
    while (receiver.recv(message, zmq::recv_flags::dontwait)) ++handled;
    loop->Unwatch(id);
  });
  sender.send(zmq::str_buffer("one"), zmq::send_flags::none);
  sender.send(zmq::str_buffer("two"), zmq::send_flags::none);
  ASSERT_TRUE(loop->RunUntil([&] { return handled == 2; }, kTestTimeoutUs));
  // Unwatched: a later message is not read.
  sender.send(zmq::str_buffer("three"), zmq::send_flags::none);
  loop->RunUntil([] { return false; }, 20 * kMillisecondUs);
  EXPECT_EQ(handled, 2);
}

}  // namespace
}  // namespace narwhal
