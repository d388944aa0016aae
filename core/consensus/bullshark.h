// Bullshark, partially synchronous version (Spiegelman, Giridharan, Sonnino,
// Kokoris-Kogias, "Bullshark: The Partially Synchronous Version", arXiv
// 2209.05633), the ordering logic only. Round advance (waiting for the
// leader, then for f+1 votes or 2f+1 non-votes) is the proposer's job.
#ifndef NARWHAL_CORE_CONSENSUS_BULLSHARK_H_
#define NARWHAL_CORE_CONSENSUS_BULLSHARK_H_

#include <optional>

#include "core/consensus/dag_consensus.h"

namespace narwhal {

// The paper's commit rule: the anchor (leader) of even round r is committed
// as soon as the vertices of round r+1 that reference it ("votes") reach
// f+1 -- here f+1 of stake, the validity threshold. Committing an anchor
// first orders the earlier anchors it has a path to (the paper's walk back
// to the last ordered anchor), then each anchor's causal history in a
// deterministic order (ordering.h). Leaders are committee.Leader(r).
class Bullshark final : public DagConsensus {
 public:
  Bullshark(const Committee& committee, const ConsensusOptions& options)
      : DagConsensus(committee, options) {}

 protected:
  std::optional<Round> DecidedLeaderRound(Round round) const override;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_BULLSHARK_H_
