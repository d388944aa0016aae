// The consensus protocol a committee runs: one enum for the idea, with its
// one spelling in configs, flags and scenarios ("bullshark", "tusk").
#ifndef NARWHAL_CORE_CONSENSUS_KIND_H_
#define NARWHAL_CORE_CONSENSUS_KIND_H_

#include <string_view>

#include "absl/status/statusor.h"

namespace narwhal {

enum class ConsensusKind { kBullshark, kTusk };

absl::StatusOr<ConsensusKind> ParseConsensusKind(std::string_view name);  // "bullshark" | "tusk"
std::string_view ConsensusKindName(ConsensusKind kind);

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_KIND_H_
