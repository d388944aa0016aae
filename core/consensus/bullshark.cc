#include "core/consensus/bullshark.h"

namespace narwhal {

std::optional<Round> Bullshark::DecidedLeaderRound(Round round) const {
  // Each certificate of odd round r+1 is a possible new vote for the leader
  // of round r, so check as soon as one arrives: Bullshark commits within
  // two rounds (the leader's round and its votes' round).
  if (round < 3 || round % 2 == 0) return std::nullopt;
  return round - 1;
}

}  // namespace narwhal
