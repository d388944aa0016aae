// What one simulated run is made of: the cluster, the load, the network
// rates and the fault schedule (SimulationOptions), and the fault events it
// lists. Separate from simulation.h so that what draws a schedule
// (swarm.h) and what runs one (simulation.cc) both depend on it and not on
// each other.
#ifndef NARWHAL_SIM_SIMULATION_OPTIONS_H_
#define NARWHAL_SIM_SIMULATION_OPTIONS_H_

#include <string>
#include <vector>

#include "sim/checkers.h"
#include "sim/cluster.h"

namespace narwhal::sim {

// One event of a fault schedule. What each kind means, reads and does is
// its entry in the fault table (sim/faults/fault_kind.h); the kinds are
// listed once, in sim/faults/kinds.def.
struct FaultEvent {
  enum class Kind {
#define NARWHAL_FAULT_KIND(id, entry) id,
#include "sim/faults/kinds.def"
#undef NARWHAL_FAULT_KIND
  };
  TimeUs at_us = 0;
  Kind kind = Kind::kHeal;
  std::vector<AuthorityIndex> group_a, group_b;
  // Partition, unpartition, crash and restart: "" acts on whole
  // authorities; "primary" or "workers" only on those processes.
  std::string role;
  AuthorityIndex node = 0;
  double value = 0;
  TimeUs value_us = 0;

  // "t=5.000s crash 1": the time and the kind's description.
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
  double transactions_per_s = 2000;        // client transactions per virtual second, whole committee
  size_t transaction_size_bytes = 512;
  // Load stops this long before the end so that what was accepted can commit.
  TimeUs drain_us = 10 * kSecondUs;
  std::vector<FaultEvent> faults;
  // K random crash/restart events on up to f nodes, drawn from the seed.
  int crash_restarts = 0;
  // Swarm mode: the network rates, the fault schedule and (unless some are
  // given) the Byzantine authorities are drawn from the seed (sim/swarm.h).
  bool swarm = false;
  // With swarm: storage faults drawn too (cluster.storage_faults; sim/storage_options.h).
  bool swarm_storage_faults = false;
  // Commits must resume within this bound after the last fault is healed.
  TimeUs liveness_bound_us = 20 * kSecondUs;
  std::string export_dag_path;   // JSON Lines of authority 0's DAG and commits
  bool check_votes = true;       // parse votes on the wire (costly for huge runs)
  std::string scenario_name = "flags";
};

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_SIMULATION_OPTIONS_H_
