// Storage-fault settings of a whole run: what a run's options may hold
// (Validate) and the swarm's draw of them.
#ifndef NARWHAL_SIM_STORAGE_OPTIONS_H_
#define NARWHAL_SIM_STORAGE_OPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "sim/simulation_options.h"

namespace narwhal::sim {

// Probabilities in [0, 1], authorities in the committee, from before until,
// NORMAL only over the memory store (a power loss rolls it back).
absl::Status ValidateStorageFaults(const SimulationOptions& options);

// The swarm's storage faults, from a generator of their own (so the seed's
// other draws stay as they were): rates per operation class, which
// authorities' stores misbehave (at most f of them, so the halts they
// cause keep the committee live), the workers' synchronous mode, the sync
// interval, and whether crashes are power losses. In force from a drawn
// time until the heal. Returns a one-line description.
std::string DrawStorageFaults(SimulationOptions* options, TimeUs heal_us);

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_STORAGE_OPTIONS_H_
