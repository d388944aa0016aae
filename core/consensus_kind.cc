#include "core/consensus_kind.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

absl::StatusOr<ConsensusKind> ParseConsensusKind(std::string_view name) {
  if (name == "bullshark") return ConsensusKind::kBullshark;
  if (name == "tusk") return ConsensusKind::kTusk;
  return absl::InvalidArgumentError(
      absl::StrCat("consensus: unknown protocol '", absl::string_view(name.data(), name.size()),
                   "', expected 'bullshark' or 'tusk'"));
}

std::string_view ConsensusKindName(ConsensusKind kind) {
  switch (kind) {
    case ConsensusKind::kBullshark:
      return "bullshark";
    case ConsensusKind::kTusk:
      return "tusk";
  }
  LOG(FATAL) << "unknown ConsensusKind " << static_cast<int>(kind);
  return {};  // not reached: glog's FATAL is not declared noreturn
}

}  // namespace narwhal
