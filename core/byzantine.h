// Named Byzantine behaviours an authority can be given in the simulator
// (DESIGN.md section 8). They live in the product code, like FoundationDB's
// BUGGIFY, because a Byzantine node is the real node doing the wrong thing;
// the node binary never sets them.
#ifndef NARWHAL_CORE_BYZANTINE_H_
#define NARWHAL_CORE_BYZANTINE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace narwhal {

struct ByzantineBehavior {
  // Two different headers per round: one to half the committee, one to the rest.
  bool equivocate_headers = false;
  // Headers and votes carry signatures that do not verify.
  bool invalid_signatures = false;
  // Never votes for anyone's header.
  bool withhold_votes = false;
  // Each round, also sends headers for rounds far in the future.
  bool flood_future_headers = false;
  // Re-sends old headers, votes and certificates (from gc_depth rounds back).
  bool replay_stale = false;
  // The worker ACKs batches but never serves them to anyone who asks.
  bool withhold_batches = false;

  bool any() const {
    return equivocate_headers || invalid_signatures || withhold_votes || flood_future_headers ||
           replay_stale || withhold_batches;
  }
  // "equivocate", "bad_signatures", "withhold_votes", "flood_future",
  // "replay_stale", "withhold_batches"; comma-separated.
  static absl::StatusOr<ByzantineBehavior> Parse(std::string_view names);
  std::string ToString() const;
  static std::vector<std::string> AllNames();
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_BYZANTINE_H_
