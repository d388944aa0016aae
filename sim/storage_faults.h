// Storage faults of a simulated run (sim/faulty_store.h does them): one
// settings block, the same names in flags (--write_failure_probability ...),
// scenario files ("storage_faults": {...}) and the swarm's draw.
#ifndef NARWHAL_SIM_STORAGE_FAULTS_H_
#define NARWHAL_SIM_STORAGE_FAULTS_H_

#include <string>
#include <vector>

#include "core/types.h"
#include "sim/faulty_store.h"

namespace narwhal::sim {

struct StorageFaultOptions {
  // Per store call, while the faults are in force (from_us until until_us),
  // at the stores of `nodes` (empty: every authority's).
  double write_failure_probability = 0;
  double read_failure_probability = 0;
  double corrupt_read_probability = 0;
  double torn_read_probability = 0;
  std::vector<AuthorityIndex> nodes;
  TimeUs from_us = 0;
  // 0: until the heal (the last fault of the schedule, or half the run if it
  // has none). Then every role a storage fault halted is restarted, as an
  // operator restarts a stopped node once its disk is fixed.
  TimeUs until_us = 0;
  // The node's parameters.sqlite_synchronous: the workers' stores. The
  // primary's store is always FULL (docs/deploy.md: its writes are votes and
  // own headers, which must survive a power loss).
  SynchronousMode synchronous = SynchronousMode::kFull;
  // Mean virtual time between sync points of a NORMAL store.
  TimeUs sync_interval_us = kSecondUs;
  // A crash of a whole authority is a power loss: its NORMAL stores lose the
  // writes after their last sync point. A crash of one role never is.
  bool crash_is_power_loss = false;
  // The primary's store NORMAL too, as the node allowed before: only to
  // show what a lost vote or own header does (a test, not a deployment).
  bool test_only_primary_synchronous_normal = false;

  bool injects() const {
    return write_failure_probability > 0 || read_failure_probability > 0 || corrupt_read_probability > 0 ||
           torn_read_probability > 0;
  }
  // Whether the stores are wrapped at all. Off by default, so that runs
  // without storage faults are the runs they were (same trace hashes).
  bool enabled() const {
    return injects() || crash_is_power_loss || synchronous != SynchronousMode::kFull ||
           test_only_primary_synchronous_normal;
  }
  bool Covers(AuthorityIndex a) const {
    if (nodes.empty()) return true;
    for (AuthorityIndex n : nodes) {
      if (n == a) return true;
    }
    return false;
  }
  std::string Describe() const;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_STORAGE_FAULTS_H_
