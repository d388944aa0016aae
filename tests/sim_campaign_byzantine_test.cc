// Each named Byzantine behaviour, given to f authorities of committees of 4,
// 7 and 10, leaves every checker silent (agreement, integrity, availability,
// liveness, DAG, votes) while the honest authorities keep committing; given
// to f+1 authorities, the run says it is outside the model.
#include <string>
#include <tuple>

#include "core/byzantine.h"
#include "glog/logging.h"
#include "gtest/gtest.h"
#include "sim/simulation.h"

namespace narwhal::sim {
namespace {

SimulationOptions Options(size_t nodes, size_t byzantine, const std::string& behaviour, TimeUs duration_us) {
  SimulationOptions o;
  o.cluster.seed = 1000 + nodes;
  o.cluster.nodes = nodes;
  // Real Ed25519 on the small committee (bad_signatures against the real
  // scheme); the cheap scheme keeps 7 and 10 authorities fast.
  o.cluster.scheme = nodes <= 4 ? SignatureScheme::kEd25519 : SignatureScheme::kSimInsecure;
  o.cluster.params.batch_size_bytes = 50'000;
  o.cluster.network.packet_loss_probability = 0.02;
  o.check_votes = true;
  o.duration_us = duration_us;
  o.drain_us = 4 * kSecondUs;
  o.liveness_bound_us = 5 * kSecondUs;
  o.transactions_per_s = 1000;
  auto b = ByzantineBehavior::Parse(behaviour);
  CHECK(b.ok()) << b.status();
  // The last authorities: never authority 0, whose view the export follows.
  for (size_t i = 0; i < byzantine; ++i) o.cluster.byzantine[static_cast<AuthorityIndex>(nodes - 1 - i)] = *b;
  return o;
}

class ByzantineTest : public ::testing::TestWithParam<std::tuple<std::string, size_t>> {};

TEST_P(ByzantineTest, FByzantineAuthoritiesNoViolation) {
  const auto& [behaviour, nodes] = GetParam();
  const size_t f = (nodes - 1) / 3;
  SimulationResult r = RunSimulation(Options(nodes, f, behaviour, (nodes <= 4 ? 12 : 10) * kSecondUs));
  EXPECT_FALSE(r.outside_model);
  EXPECT_TRUE(r.violations.empty()) << r.ToJson();
  EXPECT_GT(r.committed_sub_dags, 5u) << r.ToJson();
  EXPECT_GT(r.committed_transactions, 0u);
  EXPECT_EQ(r.committed_transactions, r.accepted_transactions) << r.ToJson();
}

TEST_P(ByzantineTest, FPlusOneByzantineIsOutsideTheModel) {
  const auto& [behaviour, nodes] = GetParam();
  const size_t f = (nodes - 1) / 3;
  SimulationResult r = RunSimulation(Options(nodes, f + 1, behaviour, 3 * kSecondUs));
  EXPECT_TRUE(r.outside_model) << r.ToJson();
  EXPECT_NE(r.ToJson().find("\"outside_model\":true"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    AllBehaviours, ByzantineTest,
    ::testing::Combine(::testing::ValuesIn(ByzantineBehavior::AllNames()), ::testing::Values(4, 7, 10)),
    [](const ::testing::TestParamInfo<ByzantineTest::ParamType>& info) {
      return std::get<0>(info.param) + "_" + std::to_string(std::get<1>(info.param)) + "_authorities";
    });

TEST(ByzantineStakeTest, OutsideTheModelCountsStakeNotHeads) {
  // One Byzantine authority holding 2 of 5 stake: validity threshold is 2.
  SimulationOptions o = Options(4, 0, "equivocate", 2 * kSecondUs);
  o.cluster.stakes = {1, 1, 1, 2};
  o.cluster.byzantine[3] = *ByzantineBehavior::Parse("equivocate");
  EXPECT_TRUE(RunSimulation(o).outside_model);
  o.cluster.stakes = {2, 2, 2, 1};  // 1 of 7: validity 3
  EXPECT_FALSE(RunSimulation(o).outside_model);
}

}  // namespace
}  // namespace narwhal::sim
