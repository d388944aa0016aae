// narwhal_sim: runs a simulated committee in virtual time and prints what
// happened, then (as its last line) one JSON object with the run's figures.
// The same binary sweeps many seeds, shrinks a failing schedule and checks
// determinism (docs/simulator.md).
//
//   narwhal_sim --seed=7 --nodes=4 --duration_s=30 --packet_loss_probability=0.1
//   narwhal_sim --scenario=scenarios/leader_crash.json --seed=3
//   narwhal_sim --swarm --seeds=1..200 --duration_s=30
//   narwhal_sim --swarm --seed=17 --minimize
//   narwhal_sim --swarm --seeds=1..10 --duration_s=20 --check_determinism
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"
#include "sim/minimize.h"
#include "sim/process_pool.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/storage_options.h"
#include "sim/sweep.h"

ABSL_FLAG(uint64_t, seed, 1, "Master seed: the same seed replays the same run exactly.");
ABSL_FLAG(int, nodes, 4, "Authorities in the committee (stake 1 each unless --stakes).");
ABSL_FLAG(std::string, stakes, "", "Comma-separated stakes, one per authority (overrides equal stake).");
ABSL_FLAG(int, workers, 1, "Workers per authority.");
ABSL_FLAG(double, duration_s, 30, "Simulated seconds to run.");
ABSL_FLAG(double, drain_s, -1,
          "The client load stops this long before the end (default: min(10 s, duration/3)).");
ABSL_FLAG(double, liveness_bound_s, 20, "Commits must resume within this bound after the heal.");
ABSL_FLAG(double, packet_loss_probability, 0.0, "Probability that a frame between authorities is lost.");
ABSL_FLAG(double, packet_duplication_probability, 0.0, "Probability that a frame is delivered twice.");
ABSL_FLAG(double, one_way_delay_ms_mean, 10, "Mean one-way delay between authorities (exponential above a 2 ms floor).");
ABSL_FLAG(std::string, protocol, "bullshark", "Consensus protocol: bullshark or tusk.");
ABSL_FLAG(double, transactions_per_s, 2000, "Client transactions per simulated second, whole committee.");
ABSL_FLAG(int, transaction_size_bytes, 512, "Transaction size in bytes.");
ABSL_FLAG(int, batch_size_bytes, 50000, "batch_size_bytes: a batch seals at this many bytes ...");
ABSL_FLAG(int, max_batch_delay_ms, 100, "... or after this delay.");
ABSL_FLAG(int, min_batch_delay_ms, 0, "... or once none of the worker's batches awaits a quorum and the open one is this old (0: max_batch_delay_ms, off).");
ABSL_FLAG(int, max_header_delay_ms, 100, "Propose a header at latest after this delay.");
ABSL_FLAG(int, gc_depth, 50, "Rounds kept below the last committed round.");
ABSL_FLAG(int, committed_output_retention, -1,
          "Executed sub-DAGs (client output) each node keeps (parameters.committed_output_retention). "
          "Default: the parameter's default, or the last 4 for committees over 20 authorities (n nodes "
          "each keep every batch of every sub-DAG).");
ABSL_FLAG(int, crash_restarts, 0, "K random crash/restart events on up to f authorities.");
ABSL_FLAG(std::string, partition, "",
          "start_s:end_s:a,b,... cuts the listed authorities off from the rest between the two times.");
ABSL_FLAG(std::string, byzantine, "",
          "authority:behaviour[+behaviour] list, e.g. 3:equivocate or 2:withhold_votes+flood_future. "
          "Behaviours: the names of core/byzantine/behaviors.def, tabled in docs/simulator.md (an unknown name's "
          "error lists them all).");
ABSL_FLAG(bool, sqlite, false, "Use SQLite in memory as every node's store (the node's SQL) instead of the in-memory store.");
ABSL_FLAG(bool, insecure_signatures, false,
          "Use the cheap simulation-only signature scheme (for huge committees); said in the output.");
ABSL_FLAG(std::string, export_dag, "", "Write authority 0's DAG and commits as JSON Lines to this path.");
ABSL_FLAG(std::string, run_summary, "",
          "Write the run's figures, fault schedule, fault periods and latency series as JSON to this path "
          "(what tools/render_run.py draws).");
ABSL_FLAG(bool, test_only_break_commit_rule, false, "Deliberately broken commit rule (to show the checkers catch it).");
ABSL_FLAG(std::string, scenario, "",
          "Scenario file (JSON, sim/scenario.proto; see scenarios/). Flags given explicitly override it.");
ABSL_FLAG(bool, swarm, false,
          "Draw network rates, a fault schedule and maybe Byzantine authorities from the seed (within the model).");
ABSL_FLAG(bool, print_scenario, false,
          "Print the run as a scenario file (swarm and crash_restarts draws written out) and exit.");
// Storage faults (docs/simulator.md, "Storage faults"): the fields of a
// scenario's "storage_faults" section.
ABSL_FLAG(double, write_failure_probability, 0, "Storage faults: probability that a store write fails.");
ABSL_FLAG(double, read_failure_probability, 0, "Storage faults: probability that a store read fails.");
ABSL_FLAG(double, corrupt_read_probability, 0, "Storage faults: probability that a read value has a byte flipped.");
ABSL_FLAG(double, torn_read_probability, 0, "Storage faults: probability that a read value is cut short.");
ABSL_FLAG(std::string, storage_fault_nodes, "", "Storage faults: authorities whose stores misbehave, e.g. 0,2 (default all).");
ABSL_FLAG(double, storage_faults_from_s, 0, "Storage faults are in force from this time ...");
ABSL_FLAG(double, storage_faults_until_s, 0, "... until this time (0: the heal); halted roles restart then.");
ABSL_FLAG(std::string, sqlite_synchronous, "FULL",
          "The workers' stores' synchronous mode, FULL or NORMAL (parameters.sqlite_synchronous; the primary's "
          "store is always FULL).");
ABSL_FLAG(double, sync_interval_ms, 1000, "NORMAL: mean virtual time between sync points of a store.");
ABSL_FLAG(bool, crash_is_power_loss, false,
          "A crash of a whole authority is a power loss: NORMAL stores lose the writes after their last sync point.");
ABSL_FLAG(bool, test_only_primary_synchronous_normal, false,
          "The primary's store NORMAL too (what the node allowed before): shows a lost vote or own header.");
ABSL_FLAG(bool, swarm_storage_faults, false,
          "With --swarm: also draw storage faults (rates, stores, synchronous mode, power losses) from the seed.");
ABSL_FLAG(std::string, seeds, "", "A..B: sweep seeds A to B in parallel child processes and summarize.");
ABSL_FLAG(int, jobs, 0, "Child processes for sweeps, minimization and determinism checks (0: one per core).");
ABSL_FLAG(bool, minimize, false,
          "Shrink the fault schedule of the failing --seed while it still fails the same way; print the "
          "smallest schedule as a scenario.");
ABSL_FLAG(std::string, minimized_out, "", "With --minimize: also write the minimized scenario to this file.");
ABSL_FLAG(bool, check_determinism, false,
          "Run each seed (--seed or --seeds) twice in one process and once in each of two fresh processes; "
          "exit 1 unless all four trace hashes agree.");
ABSL_FLAG(int, verbosity, 0, "Log level: 0 warnings only; 1 and up: everything, with VLOG(verbosity).");

namespace narwhal::sim {
namespace {

// Flags that select what to do rather than what to simulate; dropped from
// the command lines printed for replay and used for re-exec.
const std::set<std::string> kModeFlags = {"seed", "seeds", "jobs", "minimize", "minimized_out", "check_determinism",
                                          "run_summary", "export_dag", "print_scenario", "verbosity"};
const std::set<std::string> kBoolFlags = {"sqlite",  "insecure_signatures", "test_only_break_commit_rule",
                                          "swarm",   "print_scenario",      "minimize",
                                          "check_determinism", "crash_is_power_loss",
                                          "test_only_primary_synchronous_normal", "swarm_storage_faults"};

// "--name=value", "-name", "--noname" -> "name" (empty if not a flag).
std::string FlagName(absl::string_view arg) {
  if (!absl::ConsumePrefix(&arg, "--")) {
    if (!absl::ConsumePrefix(&arg, "-")) return "";
  }
  std::string name(arg.substr(0, arg.find('=')));
  if (absl::StartsWith(name, "no") && kBoolFlags.contains(name.substr(2))) name = name.substr(2);
  return name;
}

struct CommandLine {
  std::string program;              // argv[0] as typed
  std::vector<std::string> args;    // simulation flags only (mode flags removed)
  std::set<std::string> specified;  // every flag named on the command line
};

CommandLine ReadCommandLine(int argc, char** argv) {
  CommandLine c;
  c.program = argv[0];
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    const std::string name = FlagName(arg);
    if (name.empty()) continue;
    c.specified.insert(name);
    const bool takes_next = arg.find('=') == std::string::npos && !kBoolFlags.contains(name) && i + 1 < argc;
    if (kModeFlags.contains(name)) {
      if (takes_next) ++i;
      continue;
    }
    c.args.push_back(arg);
    if (takes_next) c.args.push_back(argv[++i]);
  }
  return c;
}

std::string ShellQuote(const std::string& s) {
  if (s.find_first_of(" \t'\"\\$&;|<>()*?") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ReplayCommand(const CommandLine& c, uint64_t seed) {
  std::vector<std::string> parts = {ShellQuote(c.program)};
  for (const auto& a : c.args) parts.push_back(ShellQuote(a));
  parts.push_back(absl::StrCat("--seed=", seed));
  parts.push_back("--verbosity=1");
  return absl::StrJoin(parts, " ");
}

// The storage-fault flags, as ApplyFlags does the others.
absl::Status ApplyStorageFlags(const std::function<bool(const char*)>& want, SimulationOptions* o) {
  StorageFaultOptions& sf = o->cluster.storage_faults;
  auto probability = [&](const char* name, const absl::Flag<double>& flag, double* field) -> absl::Status {
    if (!want(name)) return absl::OkStatus();
    const double p = absl::GetFlag(flag);
    if (!(p >= 0 && p <= 1)) return absl::InvalidArgumentError(absl::StrCat("--", name, " must be in [0, 1]"));
    *field = p;
    return absl::OkStatus();
  };
  if (auto s = probability("write_failure_probability", FLAGS_write_failure_probability, &sf.write_failure_probability); !s.ok()) return s;
  if (auto s = probability("read_failure_probability", FLAGS_read_failure_probability, &sf.read_failure_probability); !s.ok()) return s;
  if (auto s = probability("corrupt_read_probability", FLAGS_corrupt_read_probability, &sf.corrupt_read_probability); !s.ok()) return s;
  if (auto s = probability("torn_read_probability", FLAGS_torn_read_probability, &sf.torn_read_probability); !s.ok()) return s;
  if (want("storage_fault_nodes")) {
    sf.nodes.clear();
    for (absl::string_view item : absl::StrSplit(absl::GetFlag(FLAGS_storage_fault_nodes), ',', absl::SkipEmpty())) {
      uint32_t a;
      if (!absl::SimpleAtoi(item, &a)) return absl::InvalidArgumentError(absl::StrCat("--storage_fault_nodes: bad authority '", item, "'"));
      sf.nodes.push_back(a);
    }
  }
  if (want("storage_faults_from_s")) sf.from_us = static_cast<TimeUs>(absl::GetFlag(FLAGS_storage_faults_from_s) * kSecondUs);
  if (want("storage_faults_until_s")) sf.until_us = static_cast<TimeUs>(absl::GetFlag(FLAGS_storage_faults_until_s) * kSecondUs);
  if (want("sqlite_synchronous")) {
    auto mode = ParseSynchronousMode(absl::GetFlag(FLAGS_sqlite_synchronous));
    if (!mode) return absl::InvalidArgumentError("--sqlite_synchronous must be FULL or NORMAL");
    sf.synchronous = *mode;
  }
  if (want("sync_interval_ms")) {
    if (absl::GetFlag(FLAGS_sync_interval_ms) <= 0) return absl::InvalidArgumentError("--sync_interval_ms must be > 0");
    sf.sync_interval_us = static_cast<TimeUs>(absl::GetFlag(FLAGS_sync_interval_ms) * kMillisecondUs);
  }
  if (want("crash_is_power_loss")) sf.crash_is_power_loss = absl::GetFlag(FLAGS_crash_is_power_loss);
  if (want("test_only_primary_synchronous_normal")) {
    sf.test_only_primary_synchronous_normal = absl::GetFlag(FLAGS_test_only_primary_synchronous_normal);
  }
  if (want("swarm_storage_faults")) o->swarm_storage_faults = absl::GetFlag(FLAGS_swarm_storage_faults);
  return absl::OkStatus();
}

// Applies the flags to `o`: every flag when there is no scenario, else only
// those given on the command line (they override the file).
absl::Status ApplyFlags(const CommandLine& cl, bool all, SimulationOptions* o) {
  auto want = [&](const char* name) { return all || cl.specified.contains(name); };
  ClusterOptions& c = o->cluster;
  if (want("seed")) c.seed = absl::GetFlag(FLAGS_seed);
  if (want("nodes")) {
    if (absl::GetFlag(FLAGS_nodes) < 1) return absl::InvalidArgumentError("--nodes must be >= 1");
    c.nodes = absl::GetFlag(FLAGS_nodes);
    if (!c.stakes.empty() && c.stakes.size() != c.nodes) c.stakes.clear();
  }
  if (want("workers")) {
    if (absl::GetFlag(FLAGS_workers) < 1) return absl::InvalidArgumentError("--workers must be >= 1");
    c.workers = absl::GetFlag(FLAGS_workers);
  }
  if (want("stakes") && !absl::GetFlag(FLAGS_stakes).empty()) {
    c.stakes.clear();
    for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_stakes), ',')) {
      uint64_t v;
      if (!absl::SimpleAtoi(s, &v) || v == 0) return absl::InvalidArgumentError(absl::StrCat("--stakes: bad stake '", s, "'"));
      c.stakes.push_back(v);
    }
    if (c.stakes.size() != c.nodes) return absl::InvalidArgumentError("--stakes: need one stake per authority");
  }
  if (want("protocol")) {
    auto kind = ParseConsensusKind(absl::GetFlag(FLAGS_protocol));
    if (!kind.ok()) return absl::InvalidArgumentError("--protocol must be bullshark or tusk");
    c.params.protocol = *kind;
  }
  if (want("batch_size_bytes")) c.params.batch_size_bytes = absl::GetFlag(FLAGS_batch_size_bytes);
  if (want("max_batch_delay_ms")) c.params.max_batch_delay_us = absl::GetFlag(FLAGS_max_batch_delay_ms) * kMillisecondUs;
  if (want("min_batch_delay_ms")) {
    c.params.min_batch_delay_us = absl::GetFlag(FLAGS_min_batch_delay_ms) > 0
                                      ? absl::GetFlag(FLAGS_min_batch_delay_ms) * kMillisecondUs
                                      : c.params.max_batch_delay_us;
  }
  if (want("max_header_delay_ms")) c.params.max_header_delay_us = absl::GetFlag(FLAGS_max_header_delay_ms) * kMillisecondUs;
  if (want("gc_depth")) c.params.gc_depth = absl::GetFlag(FLAGS_gc_depth);
  if (absl::GetFlag(FLAGS_committed_output_retention) > 0) {
    c.params.committed_output_retention = absl::GetFlag(FLAGS_committed_output_retention);
  } else if (c.nodes > 20 && absl::GetFlag(FLAGS_committed_output_retention) < 0) {
    // n stores of n-fold output: large committees keep little of it.
    c.params.committed_output_retention = 4;
    c.params.state_sync_retention = 2 * c.params.gc_depth + 2;
  }
  if (want("packet_loss_probability")) c.network.packet_loss_probability = absl::GetFlag(FLAGS_packet_loss_probability);
  if (want("packet_duplication_probability")) c.network.packet_duplication_probability = absl::GetFlag(FLAGS_packet_duplication_probability);
  if (want("one_way_delay_ms_mean")) c.network.one_way_delay_us_mean = static_cast<TimeUs>(absl::GetFlag(FLAGS_one_way_delay_ms_mean) * kMillisecondUs);
  if (want("insecure_signatures")) {
    c.scheme = absl::GetFlag(FLAGS_insecure_signatures) ? SignatureScheme::kSimInsecure : SignatureScheme::kEd25519;
  }
  if (want("test_only_break_commit_rule")) {
    c.consensus.test_only_break_commit_rule = absl::GetFlag(FLAGS_test_only_break_commit_rule);
  }
  if (want("byzantine")) {
    c.byzantine.clear();
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
  }
  if (want("duration_s")) {
    if (absl::GetFlag(FLAGS_duration_s) <= 0) return absl::InvalidArgumentError("--duration_s must be > 0");
    o->duration_us = static_cast<TimeUs>(absl::GetFlag(FLAGS_duration_s) * kSecondUs);
    o->drain_us = std::min<TimeUs>(10 * kSecondUs, o->duration_us / 3);
  }
  if (cl.specified.contains("drain_s") || (all && absl::GetFlag(FLAGS_drain_s) >= 0)) {
    o->drain_us = static_cast<TimeUs>(absl::GetFlag(FLAGS_drain_s) * kSecondUs);
    if (o->drain_us < 0 || o->drain_us >= o->duration_us) {
      return absl::InvalidArgumentError("--drain_s must be in [0, duration_s)");
    }
  }
  if (want("liveness_bound_s")) o->liveness_bound_us = static_cast<TimeUs>(absl::GetFlag(FLAGS_liveness_bound_s) * kSecondUs);
  if (want("transactions_per_s")) o->transactions_per_s = absl::GetFlag(FLAGS_transactions_per_s);
  if (want("transaction_size_bytes")) o->transaction_size_bytes = absl::GetFlag(FLAGS_transaction_size_bytes);
  if (want("crash_restarts")) o->crash_restarts = absl::GetFlag(FLAGS_crash_restarts);
  if (want("sqlite")) o->sqlite_store = absl::GetFlag(FLAGS_sqlite);
  if (want("swarm")) o->swarm = absl::GetFlag(FLAGS_swarm);
  o->export_dag_path = absl::GetFlag(FLAGS_export_dag);
  o->check_votes = c.nodes <= 20;
  if (want("partition") && !absl::GetFlag(FLAGS_partition).empty()) {
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
    o->faults.push_back(cut);
    o->faults.push_back(heal);
    std::stable_sort(o->faults.begin(), o->faults.end(),
                     [](const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; });
  }
  return ApplyStorageFlags(want, o);
}

// What flags may have broken after a scenario was loaded (--nodes smaller
// than the scenario's faults assume, ...).
absl::Status Validate(const SimulationOptions& o) {
  const size_t n = o.cluster.nodes;
  for (const auto& [a, b] : o.cluster.byzantine) {
    if (a >= n) return absl::InvalidArgumentError(absl::StrCat("Byzantine authority ", a, " is not in the committee of ", n));
  }
  for (const FaultEvent& f : o.faults) {
    bool bad = f.node >= n || f.at_us >= o.duration_us;
    for (AuthorityIndex a : f.group_a) bad |= a >= n;
    for (AuthorityIndex a : f.group_b) bad |= a >= n;
    if (bad) return absl::InvalidArgumentError(absl::StrCat("fault \"", f.Describe(), "\" does not fit a committee of ", n,
                                                            " and a run of ", o.duration_us / 1e6, " s"));
  }
  if (!o.cluster.stakes.empty() && o.cluster.stakes.size() != n) {
    return absl::InvalidArgumentError("stakes: need one stake per authority");
  }
  return ValidateStorageFaults(o);
}

absl::StatusOr<SimulationOptions> BuildOptions(const CommandLine& cl) {
  SimulationOptions o;
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  if (auto s = ApplyFlags(cl, /*all=*/true, &o); !s.ok()) return s;
  if (scenario.empty()) return o;
  // The scenario over the flags' defaults, then the flags given explicitly.
  SimulationOptions defaults;
  CommandLine none;
  if (auto s = ApplyFlags(none, true, &defaults); !s.ok()) return s;
  defaults.faults.clear();
  defaults.cluster.byzantine.clear();
  auto loaded = LoadScenarioFile(scenario, defaults);
  if (!loaded.ok()) return loaded.status();
  o = *loaded;
  if (auto s = ApplyFlags(cl, /*all=*/false, &o); !s.ok()) return s;
  o.check_votes = o.cluster.nodes <= 20;
  if (auto s = Validate(o); !s.ok()) return s;
  return o;
}

bool StdoutIsTerminal() { return isatty(STDOUT_FILENO) == 1; }

ProcessPool::Progress ProgressBar(const char* what) {
  if (!StdoutIsTerminal()) return nullptr;
  auto start = std::chrono::steady_clock::now();
  return [start, what](size_t done, size_t total) {
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int width = 40;
    const int fill = static_cast<int>(width * done / std::max<size_t>(total, 1));
    const double eta = done > 0 ? el / done * (total - done) : 0;
    std::printf("\r[%s%s] %zu/%zu %s  %.1f s elapsed, ~%.0f s left ", std::string(fill, '#').c_str(),
                std::string(width - fill, '.').c_str(), done, total, what, el, eta);
    if (done == total) std::printf("\r%*s\r", width + 60, "");
    std::fflush(stdout);
  };
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::pair<uint64_t, uint64_t> SeedRange(bool* ok) {
  *ok = true;
  if (absl::GetFlag(FLAGS_seeds).empty()) return {absl::GetFlag(FLAGS_seed), absl::GetFlag(FLAGS_seed)};
  auto r = ParseSeedRange(absl::GetFlag(FLAGS_seeds));
  if (!r) {
    *ok = false;
    return {0, 0};
  }
  return *r;
}

int Sweep(const CommandLine& cl, const SimulationOptions& o, uint64_t first, uint64_t last) {
  ProcessPool pool(absl::GetFlag(FLAGS_jobs));
  std::printf("sweeping seeds %llu..%llu of scenario %s%s (%llu runs, %d processes, %.1f s simulated each)\n",
              (unsigned long long)first, (unsigned long long)last, o.scenario_name.c_str(), o.swarm ? " in swarm mode" : "",
              (unsigned long long)(last - first + 1), pool.jobs(), o.duration_us / 1e6);
  const auto start = std::chrono::steady_clock::now();
  std::vector<SeedOutcome> outs = RunSeeds(o, first, last, pool, ProgressBar("seeds"));
  SweepSummary sum = Summarize(outs, Since(start), pool.jobs());
  std::printf("%s", sum.Table().c_str());
  for (const SeedOutcome& r : outs) {
    if (r.ran && r.outside_model && r.violations > 0) {
      std::printf("outside the model (not a bug): seed %llu %s at %.3f s\n", (unsigned long long)r.seed,
                  r.checker.c_str(), r.at_s);
    }
  }
  if (sum.failed > 0) std::printf("FAILING SEEDS (%zu):\n", sum.failed);
  for (const SeedOutcome& r : outs) {
    if (!r.failed()) continue;
    if (r.ran) {
      std::printf("  seed %llu: %s at t=%.3fs: %s\n", (unsigned long long)r.seed, r.checker.c_str(), r.at_s,
                  r.evidence.c_str());
    } else {
      std::printf("  seed %llu: crash: %s\n", (unsigned long long)r.seed, r.crash.c_str());
    }
    std::printf("    replay: %s\n", ReplayCommand(cl, r.seed).c_str());
    std::printf("    shrink: %s --minimize\n", ReplayCommand(cl, r.seed).c_str());
  }
  std::printf("%s\n", sum.ToJson(outs).c_str());
  return sum.failed == 0 ? 0 : 1;
}

int CheckDeterminismMode(const CommandLine& cl, const SimulationOptions& o, uint64_t first, uint64_t last) {
  ProcessPool pool(absl::GetFlag(FLAGS_jobs));
  const std::string self = ProcessPool::SelfPath();
  std::printf("determinism: seeds %llu..%llu, each run twice in one process and once in each of two new processes\n",
              (unsigned long long)first, (unsigned long long)last);
  const auto start = std::chrono::steady_clock::now();
  auto outs = CheckDeterminism(
      o, first, last, pool,
      [&](uint64_t seed) {
        std::vector<std::string> argv = {self};
        argv.insert(argv.end(), cl.args.begin(), cl.args.end());
        argv.push_back(absl::StrCat("--seed=", seed));
        return argv;
      },
      ProgressBar("seeds"));
  size_t bad = 0;
  std::vector<std::string> bad_seeds;
  for (const auto& d : outs) {
    if (d.ok()) continue;
    ++bad;
    bad_seeds.push_back(absl::StrCat(d.seed));
    std::printf("MISMATCH seed %llu: hashes [%s]%s%s\n", (unsigned long long)d.seed, absl::StrJoin(d.hashes, ", ").c_str(),
                d.error.empty() ? "" : " error: ", d.error.c_str());
    std::printf("    replay: %s\n", ReplayCommand(cl, d.seed).c_str());
  }
  std::printf("%zu seeds, %zu mismatches, %.1f s wall\n", outs.size(), bad, Since(start));
  std::printf("{\"check_determinism\":true,\"seeds\":%zu,\"mismatches\":%zu,\"mismatched_seeds\":[%s],\"wall_s\":%.3f}\n",
              outs.size(), bad, absl::StrJoin(bad_seeds, ",").c_str(), Since(start));
  return bad == 0 ? 0 : 1;
}

int MinimizeMode(const SimulationOptions& o) {
  ProcessPool pool(absl::GetFlag(FLAGS_jobs));
  std::printf("minimizing the fault schedule of seed %llu (scenario %s%s)\n", (unsigned long long)o.cluster.seed,
              o.scenario_name.c_str(), o.swarm ? ", swarm" : "");
  const auto start = std::chrono::steady_clock::now();
  MinimizeResult m = Minimize(o, pool, [](const std::string& s) {
    std::printf("%s\n", s.c_str());
    std::fflush(stdout);
  });
  if (!m.reproduced) {
    std::printf("{\"minimize\":true,\"seed\":%llu,\"reproduced\":false,\"runs\":%d}\n", (unsigned long long)o.cluster.seed,
                m.runs);
    return 2;
  }
  std::printf("original schedule (%zu events):\n", m.original.size());
  for (const auto& f : m.original) std::printf("  %s\n", f.Describe().c_str());
  std::printf("smallest schedule that still fails with %s (%zu events):\n", m.failure.c_str(), m.minimal.size());
  for (const auto& f : m.minimal) std::printf("  %s\n", f.Describe().c_str());
  std::printf("evidence: %s\n", m.evidence.c_str());
  const std::string name = absl::StrCat(o.scenario_name, "-seed", o.cluster.seed, "-minimized");
  const std::string json = ScenarioJson(
      m.minimal_options, name,
      absl::StrCat("Minimized by narwhal_sim --minimize from ", m.original.size(), " to ", m.minimal.size(),
                   " fault events; fails with ", m.failure, "."));
  std::printf("minimized scenario (run it with --scenario=FILE):\n%s\n", json.c_str());
  if (!absl::GetFlag(FLAGS_minimized_out).empty()) {
    std::ofstream out(absl::GetFlag(FLAGS_minimized_out), std::ios::trunc);
    out << json << "\n";
    if (!out) {
      std::fprintf(stderr, "narwhal_sim: cannot write %s\n", absl::GetFlag(FLAGS_minimized_out).c_str());
    } else {
      std::printf("written to %s\n", absl::GetFlag(FLAGS_minimized_out).c_str());
    }
  }
  std::printf("{\"minimize\":true,\"seed\":%llu,\"reproduced\":true,\"failure\":\"%s\",\"original_faults\":%zu,"
              "\"minimal_faults\":%zu,\"runs\":%d,\"wall_s\":%.3f}\n",
              (unsigned long long)o.cluster.seed, m.failure.c_str(), m.original.size(), m.minimal.size(), m.runs,
              Since(start));
  return 0;
}

int SingleRun(const SimulationOptions& unresolved) {
  std::string swarm_note;
  const SimulationOptions o = ResolveSchedule(unresolved, &swarm_note);
  std::printf("simulating %zu authorities (%s, %u worker(s) each, %s signatures) for %.1f s, seed %llu, scenario %s\n",
              o.cluster.nodes, std::string(ConsensusKindName(o.cluster.params.protocol)).c_str(), o.cluster.workers,
              o.cluster.scheme == SignatureScheme::kEd25519 ? "Ed25519" : "simulation-only insecure",
              o.duration_us / 1e6, (unsigned long long)o.cluster.seed, o.scenario_name.c_str());
  if (!swarm_note.empty()) std::printf("%s\n", swarm_note.c_str());
  for (const auto& [a, b] : o.cluster.byzantine) std::printf("  byzantine %u: %s\n", a, b.ToString().c_str());
  if (o.cluster.consensus.test_only_break_commit_rule) std::printf("  TEST ONLY: the commit rule is deliberately broken\n");
  SimulationResult r = RunSimulation(o);
  for (const auto& f : r.faults) std::printf("  fault %s\n", f.Describe().c_str());
  std::printf("committed %llu sub-DAGs, %llu certificates, %llu transactions (of %llu accepted); last committed round %llu\n",
              (unsigned long long)r.committed_sub_dags, (unsigned long long)r.committed_certificates,
              (unsigned long long)r.committed_transactions, (unsigned long long)r.accepted_transactions,
              (unsigned long long)r.last_committed_round);
  std::printf("batch commit latency p50 %.0f ms, p99 %.0f ms (virtual); %llu events in %.2f s wall "
              "(%.1f simulated s per wall s)\n",
              r.commit_latency_ms_p50, r.commit_latency_ms_p99, (unsigned long long)r.events, r.wall_s,
              r.wall_s > 0 ? r.sim_time_s / r.wall_s : 0.0);
  if (r.outside_model) {
    std::printf("OUTSIDE THE MODEL: Byzantine stake reaches the validity threshold (f+1); safety and liveness are "
                "not guaranteed, so violations below are expected, not bugs\n");
  }
  if (!r.violations.empty()) {
    for (const auto& line : r.node_states) std::printf("  state %s\n", line.c_str());
  }
  for (const auto& v : r.violations) {
    std::printf("%s seed=%llu scenario=%s t=%.3fs checker=%s: %s\n", r.outside_model ? "VIOLATION (outside the model)" : "VIOLATION",
                (unsigned long long)r.seed, o.scenario_name.c_str(), v.at_us / 1e6, v.checker.c_str(), v.evidence.c_str());
  }
  if (!absl::GetFlag(FLAGS_run_summary).empty()) {
    std::ofstream out(absl::GetFlag(FLAGS_run_summary), std::ios::trunc);
    out << r.ToRunSummaryJson();
    if (!out) std::fprintf(stderr, "narwhal_sim: cannot write %s\n", absl::GetFlag(FLAGS_run_summary).c_str());
  }
  std::printf("%s\n", r.ToJson().c_str());
  if (r.outside_model) return 3;
  return r.violations.empty() ? 0 : 1;
}

}  // namespace
}  // namespace narwhal::sim

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Deterministic simulation of a Narwhal/Bullshark committee. The last line printed is a JSON "
      "object with the run's figures (seed, trace_hash, violations, commits, ...), or the sweep's summary. "
      "Exit: 0 ok, 1 a violation (or a crash, or a determinism mismatch), 2 bad usage, 3 outside the model.");
  absl::ParseCommandLine(argc, argv);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 1;  // warnings and above
  if (absl::GetFlag(FLAGS_verbosity) > 0) {
    FLAGS_minloglevel = 0;
    FLAGS_v = absl::GetFlag(FLAGS_verbosity);
  }
  using namespace narwhal::sim;
  const CommandLine cl = ReadCommandLine(argc, argv);
  auto options = BuildOptions(cl);
  if (!options.ok()) {
    std::fprintf(stderr, "narwhal_sim: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  bool range_ok = true;
  auto [first, last] = SeedRange(&range_ok);
  if (!range_ok) {
    std::fprintf(stderr, "narwhal_sim: --seeds: expected A..B with A <= B, got '%s'\n", absl::GetFlag(FLAGS_seeds).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_print_scenario)) {
    std::printf("%s\n", ScenarioJson(*options, options->scenario_name, "printed by narwhal_sim --print_scenario").c_str());
    return 0;
  }
  if (absl::GetFlag(FLAGS_check_determinism)) return CheckDeterminismMode(cl, *options, first, last);
  if (absl::GetFlag(FLAGS_minimize)) {
    if (first != last) {
      std::fprintf(stderr, "narwhal_sim: --minimize takes one failing --seed, not a range\n");
      return 2;
    }
    SimulationOptions o = *options;
    o.cluster.seed = first;
    return MinimizeMode(o);
  }
  if (!absl::GetFlag(FLAGS_seeds).empty()) return Sweep(cl, *options, first, last);
  return SingleRun(*options);
}
