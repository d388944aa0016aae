// Scenario files: a run described as JSON (sim/scenario.proto, read with
// protobuf's JSON parser) instead of flags, so a fault mix has a name, lives
// in scenarios/ and can be replayed by anyone. The reverse direction prints
// any SimulationOptions as a scenario, which is how a minimized failing
// schedule is handed back to a person.
//
//   SimulationOptions base;                                   // defaults
//   auto o = LoadScenarioFile("scenarios/leader_crash.json", base);
//   if (!o.ok()) { std::cerr << o.status(); }   // names the bad field
#ifndef NARWHAL_SIM_SCENARIO_H_
#define NARWHAL_SIM_SCENARIO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sim/simulation.h"

namespace narwhal::sim {

// Lays the scenario in `json` over `base`: fields present replace base's,
// parameters are merged field by field. On a bad scenario returns
// InvalidArgument naming `origin` and the field ("faults[2].node: ...").
absl::StatusOr<SimulationOptions> ParseScenario(absl::string_view json, absl::string_view origin,
                                                SimulationOptions base);
absl::StatusOr<SimulationOptions> LoadScenarioFile(const std::string& path, SimulationOptions base);

// `options` as a complete scenario (pretty JSON) that ParseScenario reads
// back into the same run. Swarm and crash_restarts draws are written out as
// explicit faults (it resolves the schedule first).
std::string ScenarioJson(const SimulationOptions& options, absl::string_view name,
                         absl::string_view description);

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_SCENARIO_H_
