// Swarm testing (in the spirit of Groce et al., "Swarm Testing", and
// FoundationDB's randomized workloads): instead of one fixed fault mix, every
// seed draws its own network rates, its own fault schedule and possibly its
// own Byzantine authorities, so a sweep over seeds covers many combinations,
// including ones nobody thought to write a scenario for.
//
// The draw stays inside the model: the stake of Byzantine authorities plus
// the stake of authorities crashed or paused at any moment is below the
// validity threshold (f+1), every fault ends by the heal time, and a
// heal_all at the heal time starts the liveness phase. The draw depends only
// on the seed and on the committee, duration and drain of `options`.
//
//   SimulationOptions o;  o.cluster.seed = 9;  o.swarm = true;
//   RunSimulation(o);                      // draws inside (ResolveSchedule)
//   SimulationOptions r = ResolveSchedule(o);  // or look at the draw first
#ifndef NARWHAL_SIM_SWARM_H_
#define NARWHAL_SIM_SWARM_H_

#include <string>

#include "sim/simulation_options.h"

namespace narwhal::sim {

// Replaces the network rates, adds the drawn faults to options->faults and,
// when options->cluster.byzantine is empty, may draw Byzantine authorities.
// Returns a one-line description of what was drawn (the faults themselves
// are in options->faults).
std::string DrawSwarm(SimulationOptions* options);

// The heal time swarm mode uses for a run of this length.
TimeUs SwarmHealUs(const SimulationOptions& options);

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_SWARM_H_
