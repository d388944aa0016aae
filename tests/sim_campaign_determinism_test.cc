// Swarm mode is deterministic and stays inside the model: 50 swarm seeds
// give the same trace hash run twice (and different seeds different
// hashes), the whole narwhal_sim --check_determinism path (two fresh
// processes per seed) agrees, and no draw ever has more than f faulty
// stake at once.
#include <set>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "sim/process_pool.h"
#include "sim/sweep.h"
#include "sim/swarm.h"

namespace narwhal::sim {
namespace {

SimulationOptions Swarm(uint64_t seed, size_t nodes, TimeUs duration_us) {
  SimulationOptions o;
  o.cluster.seed = seed;
  o.cluster.nodes = nodes;
  o.cluster.scheme = SignatureScheme::kSimInsecure;
  o.duration_us = duration_us;
  o.drain_us = duration_us / 3;
  o.transactions_per_s = 1000;
  o.swarm = true;
  return o;
}

TEST(SwarmDeterminismTest, FiftySeedsSameHashTwice) {
  std::set<std::string> distinct;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SimulationResult a = RunSimulation(Swarm(seed, 4, 5 * kSecondUs));
    SimulationResult b = RunSimulation(Swarm(seed, 4, 5 * kSecondUs));
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.events, b.events) << "seed " << seed;
    EXPECT_EQ(a.faults.size(), b.faults.size()) << "seed " << seed;
    distinct.insert(a.trace_hash);
  }
  EXPECT_EQ(distinct.size(), 50u);
}

TEST(SwarmDeterminismTest, SeparateProcessesAgree) {
  ProcessPool pool(2);
  const std::string sim = "sim/narwhal_sim";
  // The same run as narwhal_sim's flags below describe.
  SimulationOptions o = Swarm(0, 4, 5 * kSecondUs);
  o.drain_us = 2 * kSecondUs;
  auto outs = CheckDeterminism(o, 1, 6, pool, [&](uint64_t seed) {
    return std::vector<std::string>{sim, "--swarm", "--nodes=4", "--insecure_signatures", "--duration_s=5",
                                    "--drain_s=2", "--transactions_per_s=1000", "--batch_size_bytes=500000",
                                    absl::StrCat("--seed=", seed)};
  });
  ASSERT_EQ(outs.size(), 6u);
  for (const auto& d : outs) {
    EXPECT_TRUE(d.ok()) << "seed " << d.seed << ": " << absl::StrJoin(d.hashes, ",") << " " << d.error;
  }
}

TEST(SwarmDeterminismTest, AMismatchIsReported) {
  // The check itself can fail: a "separate process" that runs another seed
  // (as a leak of process state would make it) is a mismatch.
  ProcessPool pool(2);
  SimulationOptions o = Swarm(0, 4, 2 * kSecondUs);
  o.drain_us = kSecondUs;
  auto outs = CheckDeterminism(o, 3, 3, pool, [&](uint64_t seed) {
    return std::vector<std::string>{"sim/narwhal_sim", "--swarm", "--insecure_signatures", "--duration_s=2",
                                    "--drain_s=1", "--transactions_per_s=1000", "--batch_size_bytes=500000",
                                    absl::StrCat("--seed=", seed + 1)};
  });
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_FALSE(outs[0].ok());
  ASSERT_EQ(outs[0].hashes.size(), 4u);
  EXPECT_EQ(outs[0].hashes[0], outs[0].hashes[1]);
  EXPECT_NE(outs[0].hashes[0], outs[0].hashes[2]);
}

TEST(SwarmDeterminismTest, DrawsStayInsideTheModel) {
  using K = FaultEvent::Kind;
  size_t with_byzantine = 0, with_crash = 0, with_partition = 0;
  for (size_t nodes : {4, 7, 10}) {
    const size_t f = (nodes - 1) / 3;
    for (uint64_t seed = 1; seed <= 150; ++seed) {
      SimulationOptions o = ResolveSchedule(Swarm(seed, nodes, 30 * kSecondUs));
      EXPECT_FALSE(o.swarm);
      ASSERT_FALSE(o.faults.empty());
      EXPECT_EQ(o.faults.back().kind, K::kHealAll);
      EXPECT_EQ(o.faults.back().at_us, SwarmHealUs(o));
      with_byzantine += !o.cluster.byzantine.empty();
      absl::btree_set<AuthorityIndex> down;
      for (const FaultEvent& e : o.faults) {
        if (e.kind == K::kCrash || e.kind == K::kPause) {
          EXPECT_FALSE(o.cluster.byzantine.contains(e.node));
          down.insert(e.node);
          with_crash += e.kind == K::kCrash;
        }
        if (e.kind == K::kRestart || e.kind == K::kResume) down.erase(e.node);
        if (e.kind == K::kPartition) ++with_partition;
        EXPECT_LE(down.size() + o.cluster.byzantine.size(), f) << "seed " << seed << " at " << e.Describe();
      }
      EXPECT_TRUE(down.empty()) << "seed " << seed;
    }
  }
  // The swarm does reach each kind of fault.
  EXPECT_GT(with_byzantine, 20u);
  EXPECT_GT(with_crash, 20u);
  EXPECT_GT(with_partition, 20u);
}

}  // namespace
}  // namespace narwhal::sim
