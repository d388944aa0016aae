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
  };
  TimeUs at_us = 0;
  Kind kind = Kind::kHeal;
  std::vector<AuthorityIndex> group_a, group_b;
  AuthorityIndex node = 0;
  double value = 0;
  TimeUs value_us = 0;

  std::string Describe() const;
};

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
  // Commits must resume within this bound after the last fault is healed.
  TimeUs liveness_bound_us = 20 * kSecondUs;
  std::string export_dag_path;   // JSON Lines of authority 0's DAG and commits
  bool check_votes = true;       // parse votes on the wire (costly for huge runs)
  std::string scenario_name = "flags";
};

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
  double wall_s = 0;
  std::vector<std::string> node_states;  // Primary::DebugString of running nodes

  // One JSON object on one line; the simulator prints it last.
  std::string ToJson() const;
};

SimulationResult RunSimulation(const SimulationOptions& options);

// The random crash/restart schedule RunSimulation draws for `crash_restarts`.
std::vector<FaultEvent> DrawCrashRestarts(uint64_t seed, size_t nodes, int count, TimeUs start_us,
                                          TimeUs end_us);

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_SIMULATION_H_
