#include "core/byzantine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/byzantine/registry.h"

namespace narwhal {

std::vector<std::string> ByzantineBehavior::AllNames() {
  std::vector<std::string> out;
  for (const byzantine::Entry* e : byzantine::Registry()) out.emplace_back(e->name);
  return out;
}

bool ByzantineBehavior::Has(std::string_view name) const {
  const int i = byzantine::IndexOf(name);
  return i >= 0 && std::binary_search(indices_.begin(), indices_.end(), static_cast<size_t>(i));
}

absl::StatusOr<ByzantineBehavior> ByzantineBehavior::Parse(std::string_view names) {
  ByzantineBehavior b;
  for (absl::string_view n : absl::StrSplit(absl::string_view(names.data(), names.size()), ',',
                                            absl::SkipEmpty())) {
    const int i = byzantine::IndexOf(std::string_view(n.data(), n.size()));
    if (i < 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown Byzantine behaviour \"", n,
                                                     "\"; known: ", absl::StrJoin(AllNames(), ", ")));
    }
    b.indices_.push_back(static_cast<size_t>(i));
  }
  std::sort(b.indices_.begin(), b.indices_.end());
  b.indices_.erase(std::unique(b.indices_.begin(), b.indices_.end()), b.indices_.end());
  return b;
}

std::string ByzantineBehavior::ToString() const {
  std::vector<std::string> out;
  for (size_t i : indices_) out.emplace_back(byzantine::Registry()[i]->name);
  return absl::StrJoin(out, ",");
}

}  // namespace narwhal
