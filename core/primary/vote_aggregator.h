// Our header in flight and the votes it gathers, until they carry quorum
// stake and become its certificate.
//
// Invariants (CHECKed): one vote per authority; a certificate forms once
// per header and only with quorum stake, counted over distinct voters
// whose signatures verified.
#ifndef NARWHAL_CORE_PRIMARY_VOTE_AGGREGATOR_H_
#define NARWHAL_CORE_PRIMARY_VOTE_AGGREGATOR_H_

#include <optional>
#include <string_view>

#include "absl/container/btree_map.h"
#include "core/committee.h"
#include "core/crypto.h"
#include "core/dag.h"

namespace narwhal {

class VoteAggregator {
 public:
  VoteAggregator(const Committee* committee, SignatureScheme scheme, AuthorityIndex self)
      : committee_(committee), scheme_(scheme), self_(self) {}

  // Our new signed header: collecting starts over, with our own vote.
  void Start(const Header& header);
  // Our header's certificate is known already (recovery found it).
  void MarkCertified();

  struct Result {
    // Non-empty if the vote was not counted: "stale_vote" (not for our
    // header in flight, or it is certified), "duplicate_vote",
    // "bad_signature".
    std::string_view rejected;
    // Set by the vote that brought the stake to a quorum.
    std::optional<Certificate> certificate;
  };
  // A vote whose sender is its author and whose origin is us.
  Result Add(const Vote& vote);
  // The certificate, if our own stake alone is a quorum (a committee of
  // one); then no vote will come.
  std::optional<Certificate> CertifyAlone();

  const std::optional<Header>& header() const { return header_; }
  bool certified() const { return certified_; }
  const absl::btree_map<AuthorityIndex, Signature>& votes() const { return votes_; }
  uint64_t stake() const { return stake_; }

 private:
  Certificate Form();

  const Committee* const committee_;
  const SignatureScheme scheme_;
  const AuthorityIndex self_;
  std::optional<Header> header_;
  absl::btree_map<AuthorityIndex, Signature> votes_;
  uint64_t stake_ = 0;
  bool certified_ = false;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_PRIMARY_VOTE_AGGREGATOR_H_
