// Scenario files: every shipped scenario parses; a bad one is refused with
// an error naming the field; a scenario printed from options reads back
// into the same run (same trace hash), which is what makes a minimized
// schedule replayable.
#include <dirent.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "sim/scenario.h"

namespace narwhal::sim {
namespace {

std::string Error(const std::string& json) {
  auto r = ParseScenario(json, "test.json", SimulationOptions());
  return r.ok() ? "OK" : std::string(r.status().message());
}

TEST(ScenarioTest, BadScenariosNameTheField) {
  struct Case {
    std::string json, expect;
  };
  const Case cases[] = {
      {R"({"comittee": {"size": 4}})", "comittee"},
      {R"({"committee": {"size": "four"}})", "size"},
      {R"({"duration_s": 10, "faults": [{"at_s": 1, "kind": "crsh", "node": 1}]})", "faults[0].kind: unknown kind \"crsh\""},
      {R"({"duration_s": 10, "faults": [{"at_s": 1, "kind": "crash"}]})", "faults[0].node: required for crash"},
      {R"({"duration_s": 10, "faults": [{"at_s": 1, "kind": "crash", "node": 4}]})", "faults[0].node: authority 4 is not in the committee"},
      {R"({"duration_s": 10, "faults": [{"at_s": 1, "kind": "heal"}, {"at_s": 12, "kind": "heal"}]})", "faults[1].at_s"},
      {R"({"duration_s": 10, "faults": [{"at_s": 3, "kind": "crash", "node": 1, "until_s": 2}]})", "faults[0].until_s: must be after at_s"},
      {R"({"faults": [{"at_s": 1, "kind": "set_loss", "loss": 1.5}]})", "faults[0].loss: must be a probability"},
      {R"({"faults": [{"at_s": 1, "kind": "partition", "group_a": [0, 1, 2, 3]}]})", "faults[0].group_a: covers the whole committee"},
      {R"({"faults": [{"at_s": 1, "kind": "clog", "group_a": [0]}]})", "faults[0].extra_delay_ms: required for clog"},
      {R"({"faults": [{"at_s": 1, "kind": "heal", "until_s": 2}]})", "faults[0].until_s: heal has no end"},
      {R"({"committee": {"size": 4, "stakes": [1, 2, 3]}})", "committee.stakes: has 3 entries for 4 authorities"},
      {R"({"committee": {"signatures": "rsa"}})", "committee.signatures"},
      {R"({"byzantine": [{"authority": 1, "behaviours": ["lie"]}]})", "byzantine[0].behaviours"},
      {R"({"byzantine": [{"authority": 9, "behaviours": ["equivocate"]}]})", "byzantine[0].authority"},
      {R"({"parameters": {"gc_depth": 2}})", "parameters.gc_depth"},
      {R"({"parameters": {"protocol": "pbft"}})", "parameters.protocol"},
      {R"({"network": {"packet_loss_probability": -0.1}})", "network.packet_loss_probability"},
      {R"({"duration_s": 10, "load": {"drain_s": 20}})", "load.drain_s"},
      {R"({"duration_s": 10, "heal_at_s": 10})", "heal_at_s"},
  };
  for (const Case& c : cases) {
    const std::string err = Error(c.json);
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.json << "\n  gave: " << err;
    EXPECT_EQ(err.rfind("test.json", 0), 0u) << err;
  }
}

TEST(ScenarioTest, FieldsLandInTheOptions) {
  auto o = ParseScenario(R"({
      "name": "x", "seed": 9, "duration_s": 20, "heal_at_s": 12, "liveness_bound_s": 7,
      "committee": {"size": 7, "workers": 2, "signatures": "insecure", "store": "sqlite"},
      "parameters": {"gc_depth": 30},
      "load": {"transactions_per_s": 0},
      "network": {"one_way_delay_ms_mean": 40, "packet_loss_probability": 0.1, "delay_distribution": "uniform"},
      "byzantine": [{"authority": 6, "behaviours": ["withhold_votes", "replay_stale"]}],
      "faults": [{"at_s": 2, "kind": "partition", "group_a": [0, 1], "until_s": 5},
                 {"at_s": 3, "kind": "set_loss", "loss": 0.5, "until_s": 4}]})",
                         "t", SimulationOptions());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->scenario_name, "x");
  EXPECT_EQ(o->cluster.seed, 9u);
  EXPECT_EQ(o->cluster.nodes, 7u);
  EXPECT_EQ(o->cluster.workers, 2u);
  EXPECT_EQ(o->cluster.scheme, SignatureScheme::kSimInsecure);
  EXPECT_TRUE(o->sqlite_store);
  EXPECT_EQ(o->cluster.params.gc_depth, 30u);
  EXPECT_EQ(o->cluster.params.batch_size_bytes, Parameters().batch_size_bytes);  // untouched
  EXPECT_EQ(o->transactions_per_s, 0);
  EXPECT_EQ(o->liveness_bound_us, 7 * kSecondUs);
  EXPECT_EQ(o->cluster.network.one_way_delay_us_mean, 40 * kMillisecondUs);
  EXPECT_EQ(o->cluster.network.delay_distribution, DelayDistribution::kUniform);
  ASSERT_EQ(o->cluster.byzantine.size(), 1u);
  EXPECT_TRUE(o->cluster.byzantine.at(6).Has("withhold_votes"));
  EXPECT_TRUE(o->cluster.byzantine.at(6).Has("replay_stale"));
  using K = FaultEvent::Kind;
  ASSERT_EQ(o->faults.size(), 5u);  // partition, loss, loss back, unpartition, heal_all
  EXPECT_EQ(o->faults[0].kind, K::kPartition);
  EXPECT_EQ(o->faults[0].group_b, (std::vector<AuthorityIndex>{2, 3, 4, 5, 6}));
  EXPECT_EQ(o->faults[1].kind, K::kSetLoss);
  EXPECT_EQ(o->faults[2].kind, K::kSetLoss);
  EXPECT_DOUBLE_EQ(o->faults[2].value, 0.1);  // back to the scenario's network
  EXPECT_EQ(o->faults[3].kind, K::kUnpartition);
  EXPECT_EQ(o->faults[4].kind, K::kHealAll);
  EXPECT_EQ(o->faults[4].at_us, 12 * kSecondUs);
}

TEST(ScenarioTest, PrintedScenarioReplaysTheSameRun) {
  SimulationOptions o;
  o.cluster.seed = 21;
  o.cluster.scheme = SignatureScheme::kSimInsecure;
  o.cluster.network.packet_loss_probability = 0.03;
  o.duration_us = 6 * kSecondUs;
  o.drain_us = 2 * kSecondUs;
  o.swarm = true;
  o.crash_restarts = 1;
  const SimulationResult a = RunSimulation(o);
  auto back = ParseScenario(ScenarioJson(o, "round trip", ""), "rt", SimulationOptions());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->swarm);
  EXPECT_EQ(back->crash_restarts, 0);
  const SimulationResult b = RunSimulation(*back);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.faults.size(), b.faults.size());
}

TEST(ScenarioTest, ShippedScenariosParse) {
  const std::string dir = "scenarios";
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << "no scenarios/ in the runfiles";
  int parsed = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 5 || name.substr(name.size() - 5) != ".json") continue;
    auto o = LoadScenarioFile(dir + "/" + name, SimulationOptions());
    EXPECT_TRUE(o.ok()) << name << ": " << o.status();
    ++parsed;
  }
  closedir(d);
  EXPECT_GE(parsed, 5);
}

TEST(ScenarioTest, OutsideModelScenarioSaysSo) {
  auto o = LoadScenarioFile("scenarios/outside_model.json", SimulationOptions());
  ASSERT_TRUE(o.ok()) << o.status();
  o->duration_us = 2 * kSecondUs;
  o->drain_us = kSecondUs;
  EXPECT_TRUE(RunSimulation(*o).outside_model);
}

}  // namespace
}  // namespace narwhal::sim
