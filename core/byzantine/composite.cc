#include "core/byzantine/composite.h"

#include "core/byzantine/registry.h"
#include "glog/logging.h"

namespace narwhal::byzantine {

Composite::Composite(const ByzantineBehavior& names) {
  for (size_t i : names.indices()) {
    CHECK_LT(i, Registry().size());
    behaviors_.push_back(Registry()[i]->make());
    CHECK(behaviors_.back() != nullptr) << Registry()[i]->name;
  }
}

void Composite::OnOwnHeaderSigned(Header* header) {
  for (auto& b : behaviors_) b->OnOwnHeaderSigned(header);
}

void Composite::PlanOwnHeaderBroadcast(const PrimaryContext& ctx, std::vector<HeaderSend>* sends) {
  for (auto& b : behaviors_) b->PlanOwnHeaderBroadcast(ctx, sends);
}

void Composite::AfterOwnHeaderBroadcast(const PrimaryContext& ctx, const Header& header) {
  for (auto& b : behaviors_) b->AfterOwnHeaderBroadcast(ctx, header);
}

bool Composite::WithholdVote(const Header& header) {
  bool withhold = false;
  for (auto& b : behaviors_) withhold |= b->WithholdVote(header);
  return withhold;
}

void Composite::OnVoteSigned(Vote* vote) {
  for (auto& b : behaviors_) b->OnVoteSigned(vote);
}

bool Composite::WithholdBatches(AuthorityIndex self, const Endpoint& from) {
  bool withhold = false;
  for (auto& b : behaviors_) withhold |= b->WithholdBatches(self, from);
  return withhold;
}

}  // namespace narwhal::byzantine
