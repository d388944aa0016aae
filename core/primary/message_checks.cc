#include "core/primary/message_checks.h"

#include "absl/strings/str_cat.h"
#include "core/limits.h"

namespace narwhal {

absl::Status CheckHeader(const Committee& committee, SignatureScheme scheme, const Header& h,
                         bool require_signature) {
  if (!committee.Contains(h.author)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown author ", h.author));
  }
  if (h.round == 0) return absl::InvalidArgumentError("round 0 is genesis only");
  if (h.parents.empty() || h.parents.size() > committee.size()) {
    return absl::InvalidArgumentError(absl::StrCat("header has ", h.parents.size(),
                                                   " parents, committee has ", committee.size()));
  }
  if (h.payload.size() > limits::kHeaderPayloadDigestsMax) {
    return absl::InvalidArgumentError(absl::StrCat("payload of ", h.payload.size(), " batches"));
  }
  for (const BatchRef& b : h.payload) {
    if (b.worker_id >= committee.workers_per_authority()) {
      return absl::InvalidArgumentError(absl::StrCat("payload names worker ", b.worker_id));
    }
  }
  if (require_signature &&
      !Verify(scheme, committee.authority(h.author).public_key, SigningBytes(h.digest), h.signature)) {
    return absl::PermissionDeniedError("bad header signature");
  }
  return absl::OkStatus();
}

absl::Status CheckCertificate(const Committee& committee, SignatureScheme scheme, const Certificate& c) {
  absl::Status s = CheckHeader(committee, scheme, c.header, /*require_signature=*/true);
  if (!s.ok()) return s;
  uint64_t stake = 0;
  for (size_t i = 0; i < c.votes.size(); ++i) {
    const auto& [voter, sig] = c.votes[i];
    // Parsing enforces this; a certificate built in memory must too, or
    // one vote could count twice.
    if (i > 0 && c.votes[i - 1].first >= voter) {
      return absl::InvalidArgumentError("votes must be sorted by author, no repeats");
    }
    if (!committee.Contains(voter)) {
      return absl::InvalidArgumentError(absl::StrCat("vote by unknown authority ", voter));
    }
    if (!Verify(scheme, committee.authority(voter).public_key, SigningBytes(c.header.digest), sig)) {
      return absl::PermissionDeniedError(absl::StrCat("bad vote signature by ", voter));
    }
    stake += committee.Stake(voter);
  }
  if (stake < committee.QuorumThreshold()) {
    return absl::InvalidArgumentError(absl::StrCat("votes carry stake ", stake, " < quorum ",
                                                   committee.QuorumThreshold()));
  }
  return absl::OkStatus();
}

}  // namespace narwhal
