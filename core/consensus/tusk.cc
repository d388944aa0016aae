#include "core/consensus/tusk.h"

namespace narwhal {

std::optional<Round> Tusk::DecidedLeaderRound(Round round) const {
  // The reference reacts to a certificate of round R with r = R-1: r must be
  // even (a coin round) and r >= 4, and it decides the leader of r-2 with
  // votes from r-1. So the leader of round 2 is decided at round 5.
  if (round < 5 || round % 2 == 0) return std::nullopt;
  return round - 3;
}

}  // namespace narwhal
