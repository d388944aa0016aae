// flood_future: with each own header, also sends validly signed headers for
// rounds far ahead (just past max_round_ahead, four times it, and 2^40
// rounds on), once each, to every other primary: what they must refuse
// without holding on to it.
#include "core/byzantine/registry.h"

namespace narwhal::byzantine {
namespace {

class FloodFuture : public Behavior {
 public:
  void AfterOwnHeaderBroadcast(const PrimaryContext& ctx, const Header& header) override {
    for (Round ahead : {ctx.params.max_round_ahead + 1, ctx.params.max_round_ahead * 4, Round{1} << 40}) {
      Header future = header;
      future.round = header.round + ahead;
      future.Seal();
      future.signature = ctx.key.Sign(SigningBytes(future.digest));
      wire::Request req;
      req.set_header(future.ToWire().SerializeAsString());
      for (AuthorityIndex a = 0; a < ctx.committee.size(); ++a) {
        if (a == ctx.self) continue;
        (void)ctx.messenger.SendUnreliable(Endpoint::Primary(a), req, nullptr, 0);
      }
    }
  }
};

}  // namespace

const Entry& FloodFutureEntry() {
  static const Entry e{"flood_future", "also sends headers for rounds far in the future",
                       []() -> std::unique_ptr<Behavior> { return std::make_unique<FloodFuture>(); }};
  return e;
}

}  // namespace narwhal::byzantine
