// The one table of Byzantine behaviours: name -> factory, in a fixed order
// (core/byzantine/behaviors.def). The order is part of the simulator's
// determinism: ByzantineBehavior::AllNames lists it, the swarm draws from
// it by index, and an authority's behaviours run their hooks in it.
#ifndef NARWHAL_CORE_BYZANTINE_REGISTRY_H_
#define NARWHAL_CORE_BYZANTINE_REGISTRY_H_

#include <memory>
#include <string_view>
#include <vector>

#include "core/byzantine/behavior.h"

namespace narwhal::byzantine {

struct Entry {
  const char* name;     // the scenario and --byzantine name: "equivocate"
  const char* summary;  // one line: what the authority does
  std::unique_ptr<Behavior> (*make)();
};

// Every behaviour, in registry order. Names are unique (CHECKed once).
const std::vector<const Entry*>& Registry();

// The registry index of `name`, or -1.
int IndexOf(std::string_view name);

}  // namespace narwhal::byzantine

#endif  // NARWHAL_CORE_BYZANTINE_REGISTRY_H_
