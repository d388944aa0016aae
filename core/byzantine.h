// Which Byzantine behaviours an authority is given in the simulator
// (DESIGN.md section 8), by name. They live in the product code, like
// FoundationDB's BUGGIFY, because a Byzantine node is the real node doing
// the wrong thing; the node binary never sets them. Each behaviour is one
// file under core/byzantine/ and one line of core/byzantine/behaviors.def;
// this is only the set of names (what scenario files and --byzantine say),
// and core/byzantine/composite.h turns it into the hooks Primary and Worker
// call.
//
//   auto b = ByzantineBehavior::Parse("equivocate,withhold_votes");
//   b->Has("equivocate");   // true
//   b->ToString();          // "equivocate,withhold_votes" (registry order)
#ifndef NARWHAL_CORE_BYZANTINE_H_
#define NARWHAL_CORE_BYZANTINE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace narwhal {

class ByzantineBehavior {
 public:
  // None: an honest authority.
  ByzantineBehavior() = default;

  bool any() const { return !indices_.empty(); }
  bool Has(std::string_view name) const;
  // Registry indices of the behaviours, ascending, each once.
  const std::vector<size_t>& indices() const { return indices_; }

  // Comma-separated names, in any order, repeats and empty parts ignored
  // ("" is no behaviour). On an unknown name returns InvalidArgument naming
  // it and listing the known ones.
  static absl::StatusOr<ByzantineBehavior> Parse(std::string_view names);
  // The names, comma-separated, in registry order: Parse(ToString()) is the
  // same set.
  std::string ToString() const;
  // Every known name, in registry order (core/byzantine/behaviors.def).
  static std::vector<std::string> AllNames();

 private:
  std::vector<size_t> indices_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_BYZANTINE_H_
