#include "core/byzantine/registry.h"

#include "absl/container/btree_set.h"
#include "glog/logging.h"

namespace narwhal::byzantine {

// Each behaviour's file defines its entry function.
#define NARWHAL_BYZANTINE_BEHAVIOR(entry) const Entry& entry();
#include "core/byzantine/behaviors.def"
#undef NARWHAL_BYZANTINE_BEHAVIOR

const std::vector<const Entry*>& Registry() {
  static const std::vector<const Entry*>* const table = [] {
    auto* t = new std::vector<const Entry*>{
#define NARWHAL_BYZANTINE_BEHAVIOR(entry) &entry(),
#include "core/byzantine/behaviors.def"
#undef NARWHAL_BYZANTINE_BEHAVIOR
    };
    // Names are what scenario files and flags say: they must be unique and
    // must parse back as one name (not empty; no comma, and no "+" or ":",
    // which --byzantine uses to separate).
    absl::btree_set<std::string_view> names;
    for (const Entry* e : *t) {
      CHECK(e->name != nullptr && e->make != nullptr);
      const std::string_view name(e->name);
      CHECK(!name.empty() && name.find(',') == std::string_view::npos && name.find('+') == std::string_view::npos &&
            name.find(':') == std::string_view::npos)
          << "Byzantine behaviour name \"" << name << "\"";
      CHECK(names.insert(name).second) << "Byzantine behaviour \"" << name << "\" registered twice";
    }
    return t;
  }();
  return *table;
}

int IndexOf(std::string_view name) {
  const auto& table = Registry();
  for (size_t i = 0; i < table.size(); ++i) {
    if (name == table[i]->name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace narwhal::byzantine
