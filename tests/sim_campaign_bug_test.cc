// The campaign machinery finds a real safety bug: with the commit rule
// deliberately broken (ConsensusOptions::test_only_break_commit_rule) a
// small swarm sweep has a seed where a checker fires, the same sweep
// without the switch is clean, and minimization hands back a shorter
// schedule that still fails the same way and replays from its scenario.
#include <csignal>
#include <cstdlib>

#include "gtest/gtest.h"
#include "sim/minimize.h"
#include "sim/process_pool.h"
#include "sim/scenario.h"
#include "sim/sweep.h"

namespace narwhal::sim {
namespace {

SimulationOptions Swarm(bool broken) {
  SimulationOptions o;
  o.cluster.nodes = 4;
  o.cluster.scheme = SignatureScheme::kSimInsecure;
  o.cluster.params.batch_size_bytes = 50'000;
  o.cluster.consensus.test_only_break_commit_rule = broken;
  o.duration_us = 15 * kSecondUs;
  o.drain_us = 5 * kSecondUs;
  o.swarm = true;
  return o;
}

TEST(InjectedBugTest, SweepCatchesItAndMinimizationShrinksTheSchedule) {
  ProcessPool pool(2);
  std::vector<SeedOutcome> broken = RunSeeds(Swarm(true), 1, 12, pool);
  const SeedOutcome* failing = nullptr;
  for (const SeedOutcome& o : broken) {
    EXPECT_TRUE(o.ran) << o.crash;
    if (failing == nullptr && o.failed()) failing = &o;
  }
  ASSERT_NE(failing, nullptr) << "no seed of 12 caught the broken commit rule";
  EXPECT_EQ(failing->checker, "agreement") << failing->evidence;

  // The control: the same seeds with the real commit rule are clean.
  for (const SeedOutcome& o : RunSeeds(Swarm(false), 1, 12, pool)) {
    EXPECT_FALSE(o.failed()) << "seed " << o.seed << ": " << o.checker << ": " << o.evidence << o.crash;
  }

  SimulationOptions o = Swarm(true);
  o.cluster.seed = failing->seed;
  MinimizeResult m = Minimize(o, pool);
  ASSERT_TRUE(m.reproduced);
  EXPECT_EQ(m.failure, "agreement");
  EXPECT_LT(m.minimal.size(), m.original.size());

  // The printed scenario replays the minimized failure.
  auto replay = ParseScenario(ScenarioJson(m.minimal_options, "minimized", ""), "minimized", SimulationOptions());
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->faults.size(), m.minimal.size());
  SimulationResult r = RunSimulation(*replay);
  ASSERT_FALSE(r.violations.empty());
  EXPECT_EQ(r.violations.front().checker, "agreement");
}

TEST(ProcessPoolTest, ACrashingRunIsReportedNotFatal) {
  ProcessPool pool(2);
  ProcessPool::Job ok, crash;
  ok.in_child = [] { return std::string("fine"); };
  crash.in_child = []() -> std::string {
    std::fprintf(stderr, "Check failed: something\n");
    std::abort();
  };
  auto outs = pool.Run({ok, crash, ok});
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_NE(outs[0].text.find("fine"), std::string::npos);
  EXPECT_TRUE(outs[0].exited);
  EXPECT_EQ(outs[1].signal, SIGABRT);
  SeedOutcome c = CollectOutcome(9, outs[1]);
  EXPECT_FALSE(c.ran);
  EXPECT_TRUE(c.failed());
  EXPECT_NE(c.crash.find("Check failed"), std::string::npos) << c.crash;
}

TEST(MinimizeTest, FaultUnitsPairStartsWithTheirEnds) {
  using K = FaultEvent::Kind;
  auto ev = [](TimeUs t, K k, AuthorityIndex node) {
    FaultEvent f;
    f.at_us = t;
    f.kind = k;
    f.node = node;
    return f;
  };
  std::vector<FaultEvent> faults = {ev(1, K::kCrash, 2), ev(2, K::kPause, 1), ev(3, K::kRestart, 2),
                                    ev(4, K::kHeal, 0), ev(5, K::kResume, 1)};
  auto units = FaultUnits(faults);
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(units[0], (std::vector<size_t>{0, 2}));
  EXPECT_EQ(units[1], (std::vector<size_t>{1, 4}));
  EXPECT_EQ(units[2], (std::vector<size_t>{3}));
}

}  // namespace
}  // namespace narwhal::sim
