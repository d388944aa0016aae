// equivocate: two different headers per round, one to each half of the
// committee. Honest primaries vote for at most one header per (author,
// round), so at most one of the two can be certified.
#include <algorithm>

#include "core/byzantine/registry.h"

namespace narwhal::byzantine {
namespace {

class Equivocate : public Behavior {
 public:
  void PlanOwnHeaderBroadcast(const PrimaryContext& ctx, std::vector<HeaderSend>* sends) override {
    std::vector<HeaderSend> out;
    for (HeaderSend& s : *sends) {
      if (s.to.size() < 2) {
        out.push_back(std::move(s));
        continue;
      }
      Header twin = Twin(ctx, s.header);
      std::vector<AuthorityIndex> first(s.to.begin(), s.to.begin() + s.to.size() / 2);
      std::vector<AuthorityIndex> second(s.to.begin() + s.to.size() / 2, s.to.end());
      out.push_back({std::move(s.header), std::move(first)});
      out.push_back({std::move(twin), std::move(second)});
    }
    *sends = std::move(out);
  }

 private:
  // A second header for the same round, validly signed. It must differ from
  // `h` even when there is no payload: drop a parent if the rest still
  // carries a quorum, else claim a batch nobody has.
  static Header Twin(const PrimaryContext& ctx, const Header& h) {
    Header twin = h;
    if (!twin.payload.empty()) {
      twin.payload.clear();
    } else {
      const auto& parents = ctx.dag.at(h.round - 1);
      uint64_t stake = 0;
      for (const auto& [author, cert] : parents) stake += ctx.committee.Stake(author);
      const AuthorityIndex last_author = parents.rbegin()->first;
      if (stake - ctx.committee.Stake(last_author) >= ctx.committee.QuorumThreshold()) {
        const Digest dropped = parents.rbegin()->second->digest;
        twin.parents.erase(std::find(twin.parents.begin(), twin.parents.end(), dropped));
      } else {
        Hasher bogus;
        bogus.Update("equivocation");
        bogus.UpdateU64(h.round);
        twin.payload.push_back({bogus.Finish(), 0});
      }
    }
    twin.Seal();
    twin.signature = ctx.key.Sign(SigningBytes(twin.digest));
    return twin;
  }
};

}  // namespace

const Entry& EquivocateEntry() {
  static const Entry e{"equivocate", "two different headers per round, one to each half of the committee",
                       []() -> std::unique_ptr<Behavior> { return std::make_unique<Equivocate>(); }};
  return e;
}

}  // namespace narwhal::byzantine
