// The one place that knows every protocol: makes the Consensus of a kind.
// Separate from consensus.h (the interface the protocols implement), so the
// protocols depend on the interface and this file on them, and no include
// goes back.
#ifndef NARWHAL_CORE_CONSENSUS_MAKE_CONSENSUS_H_
#define NARWHAL_CORE_CONSENSUS_MAKE_CONSENSUS_H_

#include <memory>

#include "core/consensus/consensus.h"

namespace narwhal {

std::unique_ptr<Consensus> MakeConsensus(ConsensusKind kind, const Committee& committee,
                                         const ConsensusOptions& options);

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_MAKE_CONSENSUS_H_
