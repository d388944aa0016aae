// One simulated run: a cluster, a client load, a fault schedule and the
// checkers, driven in virtual time from one master seed. Sub-seeds per
// subsystem (network, faults, load, each node) come from the master seed, so
// changing one does not shift the others.
//
//   SimulationOptions o;  o.cluster.seed = 7;  o.duration_us = 30 * kSecondUs;
//   SimulationResult r = RunSimulation(o);   // r.trace_hash, r.violations, ...
#ifndef NARWHAL_SIM_SIMULATION_H_
#define NARWHAL_SIM_SIMULATION_H_

#include <string>
#include <vector>

#include "sim/checkers.h"
#include "sim/cluster.h"
#include "sim/simulation_options.h"

namespace narwhal::sim {

// `options` with every random choice about the schedule made explicit: the
// swarm draw and the crash_restarts draw become plain faults (swarm = false,
// crash_restarts = 0), sorted by time. RunSimulation(ResolveSchedule(o)) is
// the same run as RunSimulation(o); minimization and scenario printing start
// from it.
// `swarm_note`, if given, receives DrawSwarm's one-line description.
SimulationOptions ResolveSchedule(const SimulationOptions& options, std::string* swarm_note = nullptr);

struct SimulationResult {
  uint64_t seed = 0;
  size_t nodes = 0;
  double sim_time_s = 0;
  uint64_t events = 0;
  std::string trace_hash;
  std::vector<Violation> violations;
  bool outside_model = false;     // more Byzantine stake than the protocol tolerates
  uint64_t committed_sub_dags = 0;
  uint64_t committed_certificates = 0;
  uint64_t committed_transactions = 0;
  uint64_t accepted_transactions = 0;
  uint64_t submitted_transactions = 0;
  Round last_committed_round = 0;
  uint64_t batches_sealed = 0;
  uint64_t batches_quorum = 0;
  uint64_t frames_delivered = 0;
  uint64_t retransmissions = 0;
  double commit_latency_ms_p50 = 0;
  double commit_latency_ms_p99 = 0;
  TimeUs heal_us = 0;
  std::vector<std::pair<std::string, int64_t>> store_rows;  // summed over nodes
  std::vector<FaultEvent> faults;  // the schedule that ran (drawn faults included)
  std::vector<std::pair<TimeUs, TimeUs>> commit_timeline;
  // (commit time, latency) of every batch the first time any honest node
  // commits it: the commit-latency-over-time plot.
  std::vector<std::pair<TimeUs, TimeUs>> batch_commit_latency_us;
  std::vector<FaultPeriod> fault_periods;
  double wall_s = 0;
  std::vector<std::string> node_states;  // Primary::DebugString of running nodes
  // ,"storage_faults":{...} (counts and every halt with its error), or
  // empty when the run has no storage faults.
  std::string storage_faults_json;

  // One JSON object on one line; the simulator prints it last.
  std::string ToJson() const;
  // ToJson plus the fault schedule, the fault periods and the time series
  // (commit timeline, batch latencies), pretty enough for tools to read:
  // what tools/render_run.py plots.
  std::string ToRunSummaryJson() const;
};

SimulationResult RunSimulation(const SimulationOptions& options);

// The random crash/restart schedule RunSimulation draws for `crash_restarts`.
std::vector<FaultEvent> DrawCrashRestarts(uint64_t seed, size_t nodes, int count, TimeUs start_us,
                                          TimeUs end_us);

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_SIMULATION_H_
