// The Byzantine behaviours of one authority, called as one: each hook runs
// on every behaviour the authority was given, in registry order. Primary
// and Worker hold one and call its hooks where an honest node signs,
// broadcasts, votes and serves batches; with no behaviour (every honest
// authority, and always in the node binary) each hook does nothing.
//
//   byzantine::Composite b(*ByzantineBehavior::Parse("equivocate,withhold_votes"));
//   if (b.WithholdVote(header)) return;
#ifndef NARWHAL_CORE_BYZANTINE_COMPOSITE_H_
#define NARWHAL_CORE_BYZANTINE_COMPOSITE_H_

#include <memory>
#include <vector>

#include "core/byzantine.h"
#include "core/byzantine/behavior.h"

namespace narwhal::byzantine {

class Composite {
 public:
  // Implicit on purpose: Primary and Worker take a ByzantineBehavior (the
  // names) and keep the behaviours it names.
  Composite(const ByzantineBehavior& names);  // NOLINT(google-explicit-constructor)

  bool empty() const { return behaviors_.empty(); }

  // The hooks of behavior.h, each called on every behaviour in turn.
  void OnOwnHeaderSigned(Header* header);
  void PlanOwnHeaderBroadcast(const PrimaryContext& ctx, std::vector<HeaderSend>* sends);
  void AfterOwnHeaderBroadcast(const PrimaryContext& ctx, const Header& header);
  // True if any behaviour withholds (the others are still asked).
  bool WithholdVote(const Header& header);
  void OnVoteSigned(Vote* vote);
  bool WithholdBatches(AuthorityIndex self, const Endpoint& from);

 private:
  std::vector<std::unique_ptr<Behavior>> behaviors_;
};

}  // namespace narwhal::byzantine

#endif  // NARWHAL_CORE_BYZANTINE_COMPOSITE_H_
