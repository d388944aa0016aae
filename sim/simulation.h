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

namespace narwhal::sim {

struct FaultEvent {
  enum class Kind {
    kSetLoss,        // value = loss probability
    kSetDelay,       // value_us = mean one-way delay
    kPartition,      // group_a <-> group_b cut both ways
    kBlock,          // one-way: every member of group_a -> every member of group_b
    kClog,           // group_a -> group_b gets value_us extra delay
    kHeal,           // all partitions, blocks and clogs removed
    kCrash,          // node
    kRestart,        // node
    kPause,          // node
    kResume,         // node
    kUnpartition,    // group_a <-> group_b reconnected both ways
    kUnblock,        // group_a -> group_b reconnected
    kUnclog,         // group_a -> group_b back to normal delay
    // The heal that starts the liveness phase: partitions, blocks and clogs
    // removed, loss/delay/duplication back to the run's baseline, crashed
    // authorities restarted, paused ones resumed.
    kHealAll,
  };
  TimeUs at_us = 0;
  Kind kind = Kind::kHeal;
  std::vector<AuthorityIndex> group_a, group_b;
  // Partition and unpartition only: "" cuts whole authorities; "primary" or
  // "workers" cuts only those processes of group_a's authorities.
  std::string role;
  AuthorityIndex node = 0;
  double value = 0;
  TimeUs value_us = 0;

  std::string Describe() const;
  // The name scenario files use: "set_loss", "partition", "heal_all", ...
  static const char* KindName(Kind kind);
  static std::vector<std::pair<std::string, Kind>> AllKinds();
};

// A stretch of virtual time during which a fault was in force (for plots):
// a crash until its restart, a partition until it is lifted or healed, ...
struct FaultPeriod {
  std::string kind;   // "crash", "partition", "loss", ...
  std::string label;  // "crash 2", "partition [0] | [1,2,3]", ...
  TimeUs start_us = 0;
  TimeUs end_us = 0;
};
std::vector<FaultPeriod> FaultPeriods(const std::vector<FaultEvent>& faults, const NetworkOptions& baseline,
                                      TimeUs end_us);

struct SimulationOptions {
  ClusterOptions cluster;
  bool sqlite_store = false;     // SQLite in memory per role instead of MemoryStore
  TimeUs duration_us = 30 * kSecondUs;
  double load_tps = 2000;        // client transactions per virtual second, whole committee
  size_t tx_size_bytes = 512;
  // Load stops this long before the end so that what was accepted can commit.
  TimeUs drain_us = 10 * kSecondUs;
  std::vector<FaultEvent> faults;
  // K random crash/restart events on up to f nodes, drawn from the seed.
  int crash_restarts = 0;
  // Swarm mode: the network rates, the fault schedule and (unless some are
  // given) the Byzantine authorities are drawn from the seed (sim/swarm.h).
  bool swarm = false;
  // Commits must resume within this bound after the last fault is healed.
  TimeUs liveness_bound_us = 20 * kSecondUs;
  std::string export_dag_path;   // JSON Lines of authority 0's DAG and commits
  bool check_votes = true;       // parse votes on the wire (costly for huge runs)
  std::string scenario_name = "flags";
};

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
