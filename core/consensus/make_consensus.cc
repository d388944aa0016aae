#include "core/consensus/make_consensus.h"

#include "core/consensus/bullshark.h"
#include "core/consensus/tusk.h"
#include "glog/logging.h"

namespace narwhal {

std::unique_ptr<Consensus> MakeConsensus(ConsensusKind kind, const Committee& committee,
                                         const ConsensusOptions& options) {
  switch (kind) {
    case ConsensusKind::kBullshark:
      return std::make_unique<Bullshark>(committee, options);
    case ConsensusKind::kTusk:
      return std::make_unique<Tusk>(committee, options);
  }
  LOG(FATAL) << "unknown ConsensusKind " << static_cast<int>(kind);
  return nullptr;  // not reached
}

}  // namespace narwhal
