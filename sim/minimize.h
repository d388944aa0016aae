// Shrinking a failing run: given options whose run fails (a checker fires or
// the run crashes), remove faults from its schedule while it still fails the
// same way, and hand back the smallest schedule found. Delta debugging
// (Zeller's ddmin) over "fault units": a fault and the event that ends it
// (crash+restart, pause+resume, partition+unpartition, a loss or delay spike
// and its return) go together, so a removal never leaves a node crashed for
// ever by accident. Candidates of one step run in parallel; the first
// failing one in candidate order wins, so the result does not depend on
// which child finished first.
//
//   MinimizeResult m = Minimize(options, pool, [](const std::string& s) { puts(s.c_str()); });
//   if (m.reproduced) std::cout << ScenarioJson(m.minimal_options, "minimized", "");
#ifndef NARWHAL_SIM_MINIMIZE_H_
#define NARWHAL_SIM_MINIMIZE_H_

#include <functional>
#include <string>
#include <vector>

#include "sim/process_pool.h"
#include "sim/simulation.h"

namespace narwhal::sim {

struct MinimizeResult {
  // The resolved schedule failed at all (else nothing was minimized).
  bool reproduced = false;
  // The failure every candidate had to reproduce: a checker name or "crash".
  std::string failure;
  std::string evidence;  // of the smallest failing run
  std::vector<FaultEvent> original;
  std::vector<FaultEvent> minimal;
  SimulationOptions minimal_options;  // resolved; run it to see the failure
  int runs = 0;
};

MinimizeResult Minimize(const SimulationOptions& failing, const ProcessPool& pool,
                        const std::function<void(const std::string&)>& log = nullptr);

// The fault units of a resolved schedule: indices into `faults`, each unit a
// start event and, if there is one, the event that ends it.
std::vector<std::vector<size_t>> FaultUnits(const std::vector<FaultEvent>& faults);

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_MINIMIZE_H_
