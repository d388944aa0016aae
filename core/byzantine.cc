#include "core/byzantine.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace narwhal {

std::vector<std::string> ByzantineBehavior::AllNames() {
  return {"equivocate", "bad_signatures", "withhold_votes", "flood_future", "replay_stale",
          "withhold_batches"};
}

absl::StatusOr<ByzantineBehavior> ByzantineBehavior::Parse(std::string_view names) {
  ByzantineBehavior b;
  for (absl::string_view n : absl::StrSplit(absl::string_view(names.data(), names.size()), ',',
                                            absl::SkipEmpty())) {
    if (n == "equivocate") b.equivocate_headers = true;
    else if (n == "bad_signatures") b.invalid_signatures = true;
    else if (n == "withhold_votes") b.withhold_votes = true;
    else if (n == "flood_future") b.flood_future_headers = true;
    else if (n == "replay_stale") b.replay_stale = true;
    else if (n == "withhold_batches") b.withhold_batches = true;
    else
      return absl::InvalidArgumentError(absl::StrCat("unknown Byzantine behaviour \"", n,
                                                     "\"; known: ", absl::StrJoin(AllNames(), ", ")));
  }
  return b;
}

std::string ByzantineBehavior::ToString() const {
  std::vector<std::string> out;
  if (equivocate_headers) out.push_back("equivocate");
  if (invalid_signatures) out.push_back("bad_signatures");
  if (withhold_votes) out.push_back("withhold_votes");
  if (flood_future_headers) out.push_back("flood_future");
  if (replay_stale) out.push_back("replay_stale");
  if (withhold_batches) out.push_back("withhold_batches");
  return absl::StrJoin(out, ",");
}

}  // namespace narwhal
