// replay_stale: with each own header past round gc_depth, re-sends the
// certificates of the oldest round it still holds and its own header of the
// round before, once each, to every other primary: old news they must drop.
#include "core/byzantine/registry.h"

namespace narwhal::byzantine {
namespace {

class ReplayStale : public Behavior {
 public:
  void AfterOwnHeaderBroadcast(const PrimaryContext& ctx, const Header& header) override {
    if (header.round <= ctx.params.gc_depth) return;
    // Certificates of long-finished rounds we still know of.
    auto it = ctx.dag.begin();
    if (it != ctx.dag.end()) {
      for (const auto& [author, cert] : it->second) {
        if (cert->round() == 0) continue;
        wire::Request req;
        req.set_certificate(cert->Serialize());
        SendToOthers(ctx, req);
      }
    }
    auto stale = ctx.store.GetOwnHeader(header.round - 1);
    if (stale.ok() && stale->has_value()) {
      wire::Request req;
      req.set_header(**stale);
      SendToOthers(ctx, req);
    }
  }

 private:
  static void SendToOthers(const PrimaryContext& ctx, const wire::Request& req) {
    for (AuthorityIndex a = 0; a < ctx.committee.size(); ++a) {
      if (a != ctx.self) (void)ctx.messenger.SendUnreliable(Endpoint::Primary(a), req, nullptr, 0);
    }
  }
};

}  // namespace

const Entry& ReplayStaleEntry() {
  static const Entry e{"replay_stale", "re-sends old headers and certificates",
                       []() -> std::unique_ptr<Behavior> { return std::make_unique<ReplayStale>(); }};
  return e;
}

}  // namespace narwhal::byzantine
