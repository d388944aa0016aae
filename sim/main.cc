// narwhal_sim: runs a simulated committee in virtual time and prints what
// happened, then (as its last line) one JSON object with the run's figures.
//
//   bazel run //sim:narwhal_sim -- --seed=7 --nodes=4 --duration_s=30 --loss=0.1
#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"
#include "sim/simulation.h"

ABSL_FLAG(uint64_t, seed, 1, "Master seed: the same seed replays the same run exactly.");
ABSL_FLAG(int, nodes, 4, "Authorities in the committee (stake 1 each unless --stakes).");
ABSL_FLAG(std::string, stakes, "", "Comma-separated stakes, one per authority (overrides equal stake).");
ABSL_FLAG(int, workers, 1, "Workers per authority.");
ABSL_FLAG(double, duration_s, 30, "Simulated seconds to run.");
ABSL_FLAG(double, loss, 0.0, "Probability that a frame between authorities is lost.");
ABSL_FLAG(double, duplication, 0.0, "Probability that a frame is delivered twice.");
ABSL_FLAG(double, delay_ms, 10, "Mean one-way delay between authorities (exponential above a 2 ms floor).");
ABSL_FLAG(std::string, protocol, "bullshark", "Consensus protocol: bullshark or tusk.");
ABSL_FLAG(double, rate, 2000, "Client transactions per simulated second, whole committee.");
ABSL_FLAG(int, tx_size, 512, "Transaction size in bytes.");
ABSL_FLAG(int, batch_size, 50000, "batch_size_bytes: a batch seals at this many bytes ...");
ABSL_FLAG(int, max_batch_delay_ms, 100, "... or after this delay.");
ABSL_FLAG(int, max_header_delay_ms, 100, "Propose a header at latest after this delay.");
ABSL_FLAG(int, gc_depth, 50, "Rounds kept below the last committed round.");
ABSL_FLAG(int, crash_restarts, 0, "K random crash/restart events on up to f authorities.");
ABSL_FLAG(std::string, partition, "",
          "start_s:end_s:a,b,... cuts the listed authorities off from the rest between the two times.");
ABSL_FLAG(std::string, byzantine, "",
          "authority:behaviour[+behaviour] list, e.g. 3:equivocate or 2:withhold_votes+flood_future. "
          "Behaviours: equivocate, bad_signatures, withhold_votes, flood_future, replay_stale, withhold_batches.");
ABSL_FLAG(bool, sqlite, false, "Use SQLite in memory as every node's store (the node's SQL) instead of the in-memory store.");
ABSL_FLAG(bool, insecure_signatures, false,
          "Use the cheap simulation-only signature scheme (for huge committees); said in the output.");
ABSL_FLAG(std::string, export_dag, "", "Write authority 0's DAG and commits as JSON Lines to this path.");
ABSL_FLAG(bool, test_only_break_commit_rule, false, "Deliberately broken commit rule (to show the checkers catch it).");

namespace narwhal::sim {
namespace {

absl::StatusOr<SimulationOptions> OptionsFromFlags() {
  SimulationOptions o;
  ClusterOptions& c = o.cluster;
  c.seed = absl::GetFlag(FLAGS_seed);
  if (absl::GetFlag(FLAGS_nodes) < 1) return absl::InvalidArgumentError("--nodes must be >= 1");
  c.nodes = absl::GetFlag(FLAGS_nodes);
  c.workers = absl::GetFlag(FLAGS_workers);
  if (!absl::GetFlag(FLAGS_stakes).empty()) {
    for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_stakes), ',')) {
      uint64_t v;
      if (!absl::SimpleAtoi(s, &v) || v == 0) return absl::InvalidArgumentError(absl::StrCat("--stakes: bad stake '", s, "'"));
      c.stakes.push_back(v);
    }
    if (c.stakes.size() != c.nodes) return absl::InvalidArgumentError("--stakes: need one stake per authority");
  }
  c.params.protocol = absl::GetFlag(FLAGS_protocol);
  if (c.params.protocol != "bullshark" && c.params.protocol != "tusk") {
    return absl::InvalidArgumentError("--protocol must be bullshark or tusk");
  }
  c.params.batch_size_bytes = absl::GetFlag(FLAGS_batch_size);
  c.params.max_batch_delay_us = absl::GetFlag(FLAGS_max_batch_delay_ms) * kMillisecondUs;
  c.params.max_header_delay_us = absl::GetFlag(FLAGS_max_header_delay_ms) * kMillisecondUs;
  c.params.gc_depth = absl::GetFlag(FLAGS_gc_depth);
  c.network.packet_loss_probability = absl::GetFlag(FLAGS_loss);
  c.network.packet_duplication_probability = absl::GetFlag(FLAGS_duplication);
  c.network.one_way_delay_us_mean = static_cast<TimeUs>(absl::GetFlag(FLAGS_delay_ms) * kMillisecondUs);
  c.scheme = absl::GetFlag(FLAGS_insecure_signatures) ? SignatureScheme::kSimInsecure : SignatureScheme::kEd25519;
  c.consensus.test_only_break_commit_rule = absl::GetFlag(FLAGS_test_only_break_commit_rule);
  if (!absl::GetFlag(FLAGS_byzantine).empty()) {
    for (absl::string_view item : absl::StrSplit(absl::GetFlag(FLAGS_byzantine), ',')) {
      std::vector<std::string> parts = absl::StrSplit(item, ':');
      uint32_t a;
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &a) || a >= c.nodes) {
        return absl::InvalidArgumentError(absl::StrCat("--byzantine: bad item '", item, "'"));
      }
      std::string names = parts[1];
      for (char& ch : names) if (ch == '+') ch = ',';
      auto b = ByzantineBehavior::Parse(names);
      if (!b.ok()) return absl::InvalidArgumentError(absl::StrCat("--byzantine: ", b.status().message()));
      c.byzantine[a] = *b;
    }
  }
  o.duration_us = static_cast<TimeUs>(absl::GetFlag(FLAGS_duration_s) * kSecondUs);
  o.drain_us = std::min<TimeUs>(10 * kSecondUs, o.duration_us / 3);
  o.liveness_bound_us = 20 * kSecondUs;
  o.load_tps = absl::GetFlag(FLAGS_rate);
  o.tx_size_bytes = absl::GetFlag(FLAGS_tx_size);
  o.crash_restarts = absl::GetFlag(FLAGS_crash_restarts);
  o.sqlite_store = absl::GetFlag(FLAGS_sqlite);
  o.export_dag_path = absl::GetFlag(FLAGS_export_dag);
  o.check_votes = c.nodes <= 20;
  if (!absl::GetFlag(FLAGS_partition).empty()) {
    std::vector<std::string> parts = absl::StrSplit(absl::GetFlag(FLAGS_partition), ':');
    double start, end;
    if (parts.size() != 3 || !absl::SimpleAtod(parts[0], &start) || !absl::SimpleAtod(parts[1], &end) || end <= start) {
      return absl::InvalidArgumentError("--partition: expected start_s:end_s:a,b,...");
    }
    FaultEvent cut;
    cut.at_us = static_cast<TimeUs>(start * kSecondUs);
    cut.kind = FaultEvent::Kind::kPartition;
    for (absl::string_view s : absl::StrSplit(parts[2], ',')) {
      uint32_t a;
      if (!absl::SimpleAtoi(s, &a) || a >= c.nodes) return absl::InvalidArgumentError("--partition: bad authority");
      cut.group_a.push_back(a);
    }
    for (AuthorityIndex a = 0; a < c.nodes; ++a) {
      if (std::find(cut.group_a.begin(), cut.group_a.end(), a) == cut.group_a.end()) cut.group_b.push_back(a);
    }
    FaultEvent heal;
    heal.at_us = static_cast<TimeUs>(end * kSecondUs);
    heal.kind = FaultEvent::Kind::kHeal;
    o.faults = {cut, heal};
  }
  return o;
}

}  // namespace
}  // namespace narwhal::sim

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Deterministic simulation of a Narwhal/Bullshark committee. The last line printed is a JSON "
      "object with the run's figures (seed, trace_hash, violations, commits, ...).");
  absl::ParseCommandLine(argc, argv);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 1;  // warnings and above
  auto options = narwhal::sim::OptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "narwhal_sim: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  const auto& o = *options;
  std::printf("simulating %zu authorities (%s, %u worker(s) each, %s signatures) for %.1f s, seed %llu\n",
              o.cluster.nodes, o.cluster.params.protocol.c_str(), o.cluster.workers,
              o.cluster.scheme == narwhal::SignatureScheme::kEd25519 ? "Ed25519" : "simulation-only insecure",
              o.duration_us / 1e6, static_cast<unsigned long long>(o.cluster.seed));
  narwhal::sim::SimulationResult r = narwhal::sim::RunSimulation(o);
  for (const auto& f : r.faults) std::printf("  fault %s\n", f.Describe().c_str());
  std::printf("committed %llu sub-DAGs, %llu certificates, %llu transactions (of %llu accepted); last committed round %llu\n",
              (unsigned long long)r.committed_sub_dags, (unsigned long long)r.committed_certificates,
              (unsigned long long)r.committed_transactions, (unsigned long long)r.accepted_transactions,
              (unsigned long long)r.last_committed_round);
  std::printf("batch commit latency p50 %.0f ms, p99 %.0f ms (virtual); %llu events in %.2f s wall\n",
              r.commit_latency_ms_p50, r.commit_latency_ms_p99, (unsigned long long)r.events, r.wall_s);
  if (r.outside_model) {
    std::printf("OUTSIDE THE MODEL: Byzantine stake reaches the validity threshold (f+1); safety is not guaranteed\n");
  }
  if (!r.violations.empty()) {
    for (const auto& line : r.node_states) std::printf("  state %s\n", line.c_str());
  }
  for (const auto& v : r.violations) {
    std::printf("VIOLATION seed=%llu scenario=%s t=%.3fs checker=%s: %s\n", (unsigned long long)r.seed,
                o.scenario_name.c_str(), v.at_us / 1e6, v.checker.c_str(), v.evidence.c_str());
  }
  std::printf("%s\n", r.ToJson().c_str());
  return r.violations.empty() ? 0 : 1;
}
