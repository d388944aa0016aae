// Scenario files of the simulator (sim/scenario.h: ParseScenario, and its
// reverse ScenarioJson, which prints any run as a scenario).
//
// Input: the JSON text. Checks:
//  - a refused scenario gets InvalidArgument naming the origin;
//  - an accepted one describes a run the simulator can do: committee of
//    1..1000 with 1..16 workers and positive stakes, 0 <= drain < duration,
//    finite non-negative load, delays with 0 <= min <= mean, probabilities
//    in [0, 1], every fault inside the run and sorted by time, naming
//    authorities of the committee, with a positive delay where it sets one;
//    crash_restarts >= 0;
//  - ScenarioJson's promise: what it prints parses back into the same run,
//    so printing that again gives the same text.
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/harness.h"
#include "glog/logging.h"
#include "sim/scenario.h"

namespace narwhal::fuzz {
namespace {

using sim::FaultEvent;
using sim::SimulationOptions;
using K = FaultEvent::Kind;

bool IsProbability(double p) { return p >= 0 && p <= 1; }  // false for NaN

void CheckRun(const SimulationOptions& o) {
  const size_t n = o.cluster.nodes;
  CHECK(n >= 1 && n <= 1000) << n;
  CHECK(o.cluster.workers >= 1 && o.cluster.workers <= 16) << o.cluster.workers;
  CHECK(o.cluster.stakes.empty() || o.cluster.stakes.size() == n);
  for (uint64_t s : o.cluster.stakes) CHECK_GT(s, 0u);
  CHECK_GT(o.duration_us, 0);
  CHECK(o.drain_us >= 0 && o.drain_us < o.duration_us) << o.drain_us << " of " << o.duration_us;
  CHECK_GT(o.liveness_bound_us, 0);
  CHECK(std::isfinite(o.transactions_per_s) && o.transactions_per_s >= 0) << o.transactions_per_s;
  CHECK_GE(o.transaction_size_bytes, 8u);
  const auto& net = o.cluster.network;
  CHECK_GE(net.one_way_delay_us_min, 0);
  CHECK_GE(net.one_way_delay_us_mean, net.one_way_delay_us_min);
  CHECK(IsProbability(net.packet_loss_probability)) << net.packet_loss_probability;
  CHECK(IsProbability(net.packet_duplication_probability)) << net.packet_duplication_probability;
  CHECK_GE(o.crash_restarts, 0);
  for (const auto& [a, b] : o.cluster.byzantine) CHECK_LT(a, n);
  for (size_t i = 0; i < o.faults.size(); ++i) {
    const FaultEvent& f = o.faults[i];
    CHECK(f.at_us >= 0 && f.at_us < o.duration_us) << "fault " << i << " at " << f.at_us << " us";
    if (i > 0) CHECK_LE(o.faults[i - 1].at_us, f.at_us) << "faults not sorted";
    CHECK_LT(f.node, n);
    for (AuthorityIndex a : f.group_a) CHECK_LT(a, n);
    for (AuthorityIndex a : f.group_b) CHECK_LT(a, n);
    if (f.kind == K::kSetLoss) CHECK(IsProbability(f.value)) << f.value;
    if (f.kind == K::kSetDelay || f.kind == K::kClog) CHECK_GT(f.value_us, 0) << FaultEvent::KindName(f.kind);
  }
}

void Run(std::string_view data) {
  auto o = sim::ParseScenario(absl::string_view(data.data(), data.size()), "fuzz.json", SimulationOptions{});
  if (!o.ok()) {
    CHECK(o.status().code() == absl::StatusCode::kInvalidArgument) << o.status();
    CHECK(absl::StartsWith(o.status().message(), "fuzz.json: ")) << o.status();
    return;
  }
  CheckRun(*o);
  const std::string printed = sim::ScenarioJson(*o, "name", "description");
  auto again = sim::ParseScenario(printed, "printed.json", SimulationOptions{});
  CHECK(again.ok()) << "ScenarioJson printed what ParseScenario refuses: " << again.status() << "\n" << printed;
  CheckRun(*again);
  const std::string reprinted = sim::ScenarioJson(*again, "name", "description");
  CHECK(printed == reprinted) << "not the same run after printing and parsing:\n" << printed << "\nvs\n" << reprinted;
}

// ---- seeds: runs printed by ScenarioJson ----

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  SimulationOptions o;
  o.duration_us = 20 * kSecondUs;
  o.drain_us = 5 * kSecondUs;
  FaultEvent crash;
  crash.kind = K::kCrash;
  crash.at_us = 2 * kSecondUs;
  crash.node = 1;
  FaultEvent restart = crash;
  restart.kind = K::kRestart;
  restart.at_us = 6 * kSecondUs;
  FaultEvent cut;
  cut.kind = K::kPartition;
  cut.at_us = 3 * kSecondUs;
  cut.group_a = {0};
  cut.group_b = {2, 3};
  cut.role = "workers";
  FaultEvent loss;
  loss.kind = K::kSetLoss;
  loss.at_us = 4 * kSecondUs;
  loss.value = 0.25;
  FaultEvent clog;
  clog.kind = K::kClog;
  clog.at_us = 5 * kSecondUs;
  clog.group_a = {3};
  clog.group_b = {0};
  clog.value_us = 50 * kMillisecondUs;
  FaultEvent heal;
  heal.kind = K::kHealAll;
  heal.at_us = 10 * kSecondUs;
  o.faults = {crash, cut, loss, clog, restart, heal};
  out.push_back({"faults", sim::ScenarioJson(o, "faults", "one fault of each shape")});
  SimulationOptions b;
  b.cluster.nodes = 7;
  b.cluster.stakes = {1, 2, 3, 1, 1, 1, 1};
  b.cluster.byzantine[2] = *ByzantineBehavior::Parse("equivocate,withhold_votes");
  b.cluster.network.delay_distribution = sim::DelayDistribution::kUniform;
  b.cluster.params.gc_depth = 20;
  out.push_back({"byzantine_stakes", sim::ScenarioJson(b, "byzantine", "")});
  out.push_back({"swarm", "{\"name\": \"swarm\", \"seed\": 5, \"duration_s\": 30, \"swarm\": true}"});
  out.push_back({"crash_restarts", "{\"duration_s\": 40, \"crashRestarts\": 3, \"committee\": {\"size\": 7}}"});
  out.push_back({"minimal", "{}"});
  return out;
}

}  // namespace

extern const Harness kScenarioHarness = {"scenario", &Run, &Seeds};

}  // namespace narwhal::fuzz
