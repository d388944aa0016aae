// Issue 4, simulated committees of 4, 7 and 10 authorities, Bullshark and
// Tusk, under 10% loss, random (exponential or uniform) latency that changes
// during the run, and a partition that heals:
//   - every honest node commits the same sequence (agreement checker),
//   - every transaction a worker accepted is committed (availability),
//   - commits continue after the heal (liveness, plus explicit counts here).
// Two partitions: a split in which no side holds a quorum (nothing may commit
// while it lasts), and f authorities cut off from the rest (the majority keeps
// committing, the minority catches up after the heal).
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "sim/simulation.h"

namespace narwhal::sim {
namespace {

enum class Cut { kNoQuorumSplit, kMinorityCutOff };

constexpr TimeUs kPartitionUs = 5 * kSecondUs;
constexpr TimeUs kHealUs = 20 * kSecondUs;

SimulationOptions Scenario(size_t nodes, const std::string& protocol, Cut cut, uint64_t seed) {
  SimulationOptions o;
  o.cluster.seed = seed;
  o.cluster.nodes = nodes;
  o.cluster.params.protocol = *ParseConsensusKind(protocol);
  o.cluster.params.batch_size_bytes = 50'000;
  // Ed25519 for 4 nodes; the cheap scheme keeps 7 and 10 nodes fast (the
  // protocol logic is the same).
  o.cluster.scheme = nodes <= 4 ? SignatureScheme::kEd25519 : SignatureScheme::kSimInsecure;
  o.cluster.network.packet_loss_probability = 0.1;
  o.cluster.network.delay_distribution =
      seed % 2 == 0 ? DelayDistribution::kExponential : DelayDistribution::kUniform;
  o.duration_us = 50 * kSecondUs;
  o.drain_us = 10 * kSecondUs;
  o.transactions_per_s = 1000;
  o.liveness_bound_us = 20 * kSecondUs;
  o.scenario_name = absl::StrCat("agreement_n", nodes, "_", protocol, cut == Cut::kNoQuorumSplit ? "_split" : "_minority");

  FaultEvent partition;
  partition.at_us = kPartitionUs;
  partition.kind = FaultEvent::Kind::kPartition;
  const size_t f = (nodes - 1) / 3;
  const size_t cut_size = cut == Cut::kNoQuorumSplit ? nodes / 2 : f;
  for (AuthorityIndex a = 0; a < nodes; ++a) {
    // Cut off the authorities at the end of the committee: authority 0 (a
    // leader early on) stays on the majority side for the minority case.
    (a >= nodes - cut_size ? partition.group_a : partition.group_b).push_back(a);
  }
  FaultEvent slower;  // latency changes while partitioned ...
  slower.at_us = kPartitionUs;
  slower.kind = FaultEvent::Kind::kSetDelay;
  slower.value_us = 30 * kMillisecondUs;
  FaultEvent heal;
  heal.at_us = kHealUs;
  heal.kind = FaultEvent::Kind::kHeal;
  FaultEvent faster = slower;  // ... and comes back with the heal
  faster.at_us = kHealUs;
  faster.value_us = 8 * kMillisecondUs;
  o.faults = {partition, slower, heal, faster};
  return o;
}

int CommitsIn(const SimulationResult& r, TimeUs from_us, TimeUs to_us) {
  int n = 0;
  for (const auto& [t, index] : r.commit_timeline) n += t >= from_us && t < to_us;
  return n;
}

std::string Report(const SimulationResult& r) {
  return absl::StrCat(r.ToJson(), "\nnode states:\n", absl::StrJoin(r.node_states, "\n"));
}

using Param = std::tuple<size_t, std::string, Cut>;

class SimConsensusAgreementTest : public ::testing::TestWithParam<Param> {};

TEST_P(SimConsensusAgreementTest, LossLatencyAndHealedPartition) {
  const auto& [nodes, protocol, cut] = GetParam();
  const uint64_t seed = 100 + nodes * 10 + (protocol == "tusk") * 2 + (cut == Cut::kMinorityCutOff);
  const SimulationResult r = RunSimulation(Scenario(nodes, protocol, cut, seed));
  SCOPED_TRACE(absl::StrCat("seed ", seed, " nodes ", nodes, " ", protocol));

  // The always-on checkers: agreement, integrity, availability, liveness, dag, votes.
  EXPECT_TRUE(r.violations.empty()) << Report(r);
  EXPECT_EQ(r.heal_us, kHealUs);

  // The run did real work, and everything accepted was committed.
  EXPECT_GT(r.accepted_transactions, 10'000u) << Report(r);
  EXPECT_GE(r.committed_transactions, r.accepted_transactions) << Report(r);
  EXPECT_GT(r.last_committed_round, 20u) << Report(r);

  // Commits before the partition, and many after the heal.
  EXPECT_GT(CommitsIn(r, 0, kPartitionUs), 3) << Report(r);
  EXPECT_GE(CommitsIn(r, kHealUs, r.sim_time_s * kSecondUs + 1), 10) << Report(r);

  if (cut == Cut::kNoQuorumSplit) {
    // No side holds 2f+1 stake: once what was in flight settled, no
    // certificate can form and nothing can commit until the heal.
    EXPECT_EQ(CommitsIn(r, kPartitionUs + 4 * kSecondUs, kHealUs), 0) << Report(r);
  } else {
    // 2f+1 honest authorities remain connected: commits go on while cut
    // (slowly: every certificate then needs every connected vote through 10%
    // loss, and the cut authorities' leader rounds time out).
    EXPECT_GE(CommitsIn(r, kPartitionUs + 2 * kSecondUs, kHealUs), 3) << Report(r);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Committees, SimConsensusAgreementTest,
    ::testing::Combine(::testing::Values(size_t{4}, size_t{7}, size_t{10}),
                       ::testing::Values(std::string("bullshark"), std::string("tusk")),
                       ::testing::Values(Cut::kNoQuorumSplit, Cut::kMinorityCutOff)),
    [](const ::testing::TestParamInfo<Param>& info) {
      return absl::StrCat("n", std::get<0>(info.param), "_", std::get<1>(info.param),
                          std::get<2>(info.param) == Cut::kNoQuorumSplit ? "_split" : "_minority");
    });

}  // namespace
}  // namespace narwhal::sim
