// Many seeds at once: each seed is one RunSimulation in its own child
// process (sim/process_pool.h), its outcome sent back as one line. Used by
// narwhal_sim --seeds=A..B (the sweep), --check_determinism and --minimize.
//
//   ProcessPool pool(2);
//   std::vector<SeedOutcome> outs = RunSeeds(options, 1, 100, pool);
//   SweepSummary sum = Summarize(outs, wall_s);
#ifndef NARWHAL_SIM_SWEEP_H_
#define NARWHAL_SIM_SWEEP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/process_pool.h"
#include "sim/simulation.h"

namespace narwhal::sim {

// What a sweep keeps of one run.
struct SeedOutcome {
  uint64_t seed = 0;
  // False when the child died before reporting (a CHECK failure, a crash):
  // then `crash` says how and quotes the end of its output.
  bool ran = false;
  std::string crash;
  uint64_t events = 0;
  double sim_time_s = 0;
  double wall_s = 0;
  std::string trace_hash;
  bool outside_model = false;
  size_t violations = 0;
  std::string checker;   // of the first violation
  double at_s = 0;
  std::string evidence;
  uint64_t committed_sub_dags = 0;
  size_t faults = 0;

  // A bug: the child crashed, or a checker fired inside the model. Runs
  // outside the model (too much Byzantine stake) never count as failures.
  bool failed() const { return !ran || (violations > 0 && !outside_model); }
  // "agreement", "availability", ... or "crash".
  std::string failure_kind() const { return ran ? checker : "crash"; }

  std::string Serialize() const;  // one line, tab-separated
  static std::optional<SeedOutcome> Parse(const std::string& line);
};

SeedOutcome OutcomeOf(const SimulationResult& result, size_t faults);

// A job that runs `options` in a child and reports its SeedOutcome.
ProcessPool::Job SeedJob(const SimulationOptions& options);
// The outcome of a finished SeedJob (a crash if it never reported).
SeedOutcome CollectOutcome(uint64_t seed, const ProcessPool::Output& output);

// Runs seeds first..last (inclusive) of `base` (its seed replaced).
std::vector<SeedOutcome> RunSeeds(const SimulationOptions& base, uint64_t first, uint64_t last,
                                  const ProcessPool& pool, const ProcessPool::Progress& progress = nullptr);

struct SweepSummary {
  size_t seeds = 0;
  size_t failed = 0;          // violations inside the model, or crashes
  size_t crashed = 0;
  size_t outside_model = 0;   // outside the model (their violations do not count)
  size_t outside_model_violations = 0;
  uint64_t events = 0;
  double sim_time_s = 0;
  double run_wall_s = 0;      // summed over runs (CPU time, roughly)
  double elapsed_wall_s = 0;  // the sweep from start to end
  int jobs = 1;

  std::string Table() const;   // the human-readable summary table
  std::string ToJson(const std::vector<SeedOutcome>& outcomes) const;
};
SweepSummary Summarize(const std::vector<SeedOutcome>& outcomes, double elapsed_wall_s, int jobs);

// Determinism of one seed: two runs in one process, two in fresh processes.
struct DeterminismOutcome {
  uint64_t seed = 0;
  std::vector<std::string> hashes;  // in-process 1, in-process 2, process 1, process 2
  std::string error;                // a run that did not report
  bool ok() const;
};
// `exec_argv(seed)` is the command line that runs `seed` alone and prints
// narwhal_sim's usual output (the last line a JSON object with trace_hash).
std::vector<DeterminismOutcome> CheckDeterminism(
    const SimulationOptions& base, uint64_t first, uint64_t last, const ProcessPool& pool,
    const std::function<std::vector<std::string>(uint64_t seed)>& exec_argv,
    const ProcessPool::Progress& progress = nullptr);

// "1..100", "7", "3..3" -> [first, last].
std::optional<std::pair<uint64_t, uint64_t>> ParseSeedRange(const std::string& text);

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_SWEEP_H_
