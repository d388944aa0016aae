// Tusk (Danezis, Kokoris-Kogias, Sonnino, Spiegelman, "Narwhal and Tusk",
// EuroSys 2022), as in the Narwhal reference implementation's consensus:
// the leader of even round r-2 is decided once the DAG reaches round r
// (signalled by the first certificate of round r+1) if the certificates of
// round r-1 that reference it carry f+1 stake. Ordering is shared with
// Bullshark (ordering.h).
//
// The paper and the reference elect the leader with a random coin revealed
// at round r, so an adversary cannot target it in advance. We use the same
// deterministic round-robin as Bullshark (committee.Leader): this core has no
// threshold coin, and determinism is what the simulator needs. It is
// therefore Tusk's commit timing, not its asynchronous liveness guarantee.
#ifndef NARWHAL_CORE_CONSENSUS_TUSK_H_
#define NARWHAL_CORE_CONSENSUS_TUSK_H_

#include <optional>

#include "core/consensus/dag_consensus.h"

namespace narwhal {

class Tusk final : public DagConsensus {
 public:
  Tusk(const Committee& committee, const ConsensusOptions& options)
      : DagConsensus(committee, options) {}

 protected:
  std::optional<Round> DecidedLeaderRound(Round round) const override;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_TUSK_H_
