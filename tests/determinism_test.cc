// Determinism is checked, not assumed: the same seed gives the same trace
// hash (every delivered frame, timer firing and commit), different seeds give
// different ones, with the in-memory store and with SQLite.
#include "gtest/gtest.h"
#include "sim/simulation.h"

namespace narwhal::sim {
namespace {

SimulationOptions Options(uint64_t seed, bool sqlite) {
  SimulationOptions o;
  o.cluster.seed = seed;
  o.cluster.nodes = 4;
  o.cluster.network.packet_loss_probability = 0.1;
  o.cluster.network.packet_duplication_probability = 0.02;
  o.duration_us = 8 * kSecondUs;
  o.drain_us = 3 * kSecondUs;
  o.transactions_per_s = 1000;
  o.sqlite_store = sqlite;
  o.crash_restarts = 1;
  return o;
}

TEST(DeterminismTest, SameSeedSameTraceHash) {
  for (bool sqlite : {false, true}) {
    SimulationResult a = RunSimulation(Options(7, sqlite));
    SimulationResult b = RunSimulation(Options(7, sqlite));
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "sqlite=" << sqlite;
    EXPECT_EQ(a.events, b.events);
    EXPECT_EQ(a.committed_transactions, b.committed_transactions);
    EXPECT_GT(a.committed_sub_dags, 0u);
    EXPECT_TRUE(a.violations.empty()) << a.ToJson();
  }
}

TEST(DeterminismTest, DifferentSeedsDifferentTraceHashes) {
  std::set<std::string> hashes;
  for (uint64_t seed = 1; seed <= 5; ++seed) hashes.insert(RunSimulation(Options(seed, false)).trace_hash);
  EXPECT_EQ(hashes.size(), 5u);
}

TEST(DeterminismTest, StoreKindDoesNotChangeTheRun) {
  // The SQLite store and the in-memory store honour one contract: the run,
  // and so its trace, is the same.
  EXPECT_EQ(RunSimulation(Options(3, false)).trace_hash, RunSimulation(Options(3, true)).trace_hash);
}

TEST(DeterminismTest, SharingParsedMessagesDoesNotChangeTheRun) {
  // The simulator's caches (parsed headers and certificates, check results,
  // signature verifications) are shared by all nodes; with Byzantine nodes
  // sending bad signatures, equivocating and replaying, every rejection must
  // still happen exactly as without them.
  SimulationOptions o = Options(5, false);
  o.cluster.nodes = 7;
  o.cluster.byzantine[5] = *ByzantineBehavior::Parse("bad_signatures");
  o.cluster.byzantine[6] = *ByzantineBehavior::Parse("equivocate,replay_stale");
  o.cluster.params.gc_depth = 10;  // so that stale replays happen
  SimulationResult shared = RunSimulation(o);
  o.cluster.share_parsed_messages = false;
  SimulationResult alone = RunSimulation(o);
  EXPECT_EQ(shared.trace_hash, alone.trace_hash);
  EXPECT_EQ(shared.events, alone.events);
  EXPECT_GT(shared.committed_sub_dags, 0u);
  EXPECT_TRUE(shared.violations.empty()) << shared.ToJson();
}

}  // namespace
}  // namespace narwhal::sim
