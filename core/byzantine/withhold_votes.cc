// withhold_votes: never votes for anyone's header (its own still counts for
// itself). Honest stake alone must still reach a quorum.
#include "core/byzantine/registry.h"

namespace narwhal::byzantine {
namespace {

class WithholdVotes : public Behavior {
 public:
  bool WithholdVote(const Header& header) override { return true; }
};

}  // namespace

const Entry& WithholdVotesEntry() {
  static const Entry e{"withhold_votes", "never votes",
                       []() -> std::unique_ptr<Behavior> { return std::make_unique<WithholdVotes>(); }};
  return e;
}

}  // namespace narwhal::byzantine
