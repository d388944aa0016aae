#include "transport_sim/scheduler.h"

#include <vector>

#include "gtest/gtest.h"

namespace narwhal::sim {
namespace {

TEST(SchedulerTest, OrdersByTimeThenSequence) {
  Scheduler s;
  std::vector<int> order;
  s.Schedule(10, [&] { order.push_back(2); });
  s.Schedule(5, [&] { order.push_back(1); });
  s.Schedule(10, [&] { order.push_back(3); });  // same time: scheduled later runs later
  s.Schedule(0, [&] { order.push_back(0); });
  while (s.RunOne()) {}
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(s.NowUs(), 10);
  EXPECT_EQ(s.events_executed(), 4u);
}

TEST(SchedulerTest, VirtualTimeJumpsAndCancelWorks) {
  Scheduler s;
  int fired = 0;
  TimerId a = s.Schedule(1'000'000'000, [&] { fired += 1; });
  s.Schedule(2'000'000'000, [&] { fired += 10; });
  s.Cancel(a);
  s.RunUntil(1'500'000'000);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(s.NowUs(), 1'500'000'000);
  s.RunUntil(3'000'000'000);
  EXPECT_EQ(fired, 10);
}

TEST(SchedulerTest, NodeTimersDropEverythingOnCrash) {
  Scheduler s;
  NodeTimers t(&s, 1);
  int fired = 0;
  t.Schedule(10, [&] { fired++; });
  t.Schedule(20, [&] { fired++; });
  s.RunUntil(15);
  t.Crash();
  s.RunUntil(100);
  EXPECT_EQ(fired, 1);
  t.Schedule(5, [&] { fired++; });  // timers after the crash work
  s.RunUntil(200);
  EXPECT_EQ(fired, 2);
}

TEST(SchedulerTest, PausedTimersFireOnResume) {
  Scheduler s;
  NodeTimers t(&s, 1);
  int fired = 0;
  t.Schedule(10, [&] { fired++; });
  t.Pause();
  s.RunUntil(50);
  EXPECT_EQ(fired, 0);
  t.Resume();
  s.RunUntil(60);
  EXPECT_EQ(fired, 1);
}

TEST(SchedulerTest, TraceHashDependsOnHistory) {
  auto run = [](int variant) {
    Scheduler s;
    NodeTimers t(&s, 3);
    t.Schedule(10, [] {});
    t.Schedule(variant, [] {});
    while (s.RunOne()) {}
    return s.trace().value();
  };
  EXPECT_EQ(run(20), run(20));
  EXPECT_NE(run(20), run(21));
}

}  // namespace
}  // namespace narwhal::sim
