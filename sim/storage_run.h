// Storage faults over a simulated run: when they are in force, and the
// checker of the store-failure policy as the simulator sees it
//   storage   a role halted by a store error carries a non-empty error; it
//             sends nothing after halting; and once the faults have ended
//             (the store healthy again) no role halts: a restarted role
//             recovers from what its store kept, or the run fails here;
//             and at the end every role that halted runs again.
// What a halted or power-lost authority must still guarantee (nothing
// accepted is lost, agreement, no equivocation) stays with the other
// checkers, which run unchanged.
#ifndef NARWHAL_SIM_STORAGE_RUN_H_
#define NARWHAL_SIM_STORAGE_RUN_H_

#include "sim/checkers.h"
#include "sim/cluster.h"

namespace narwhal::sim {

// When storage faults stop: options' until_us, or the heal.
TimeUs StorageFaultsUntilUs(const StorageFaultOptions& options, TimeUs heal_us, TimeUs duration_us);
// Arms the stores' faults at from_us; at until_us disarms them and
// restarts every halted role (an operator restarting a stopped node).
void ScheduleStorageFaults(Cluster* cluster, TimeUs from_us, TimeUs until_us);
// The end-of-run checks above; `until_us` as scheduled.
void CheckStorageHalts(const Cluster& cluster, Checkers* checkers, TimeUs until_us, TimeUs end_us);
// ,"storage_faults":{...} for the run's JSON line (empty when off).
std::string StorageFaultsJson(const Cluster& cluster);

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_STORAGE_RUN_H_
