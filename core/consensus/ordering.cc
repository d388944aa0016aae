#include "core/consensus/ordering.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "glog/logging.h"

namespace narwhal {
namespace {

bool HasParent(const Certificate& child, const Digest& parent) {
  const auto& parents = child.parents();
  return std::binary_search(parents.begin(), parents.end(), parent);
}

// The certificates of round `round` that some certificate of `frontier`
// (all of round `round` + 1) has as a parent, each once.
std::vector<const Certificate*> ParentsInRound(const DagState& dag,
                                               const std::vector<const Certificate*>& frontier,
                                               Round round, size_t committee_size) {
  std::vector<bool> reached(committee_size, false);
  std::vector<const Certificate*> parents;
  for (const Certificate* child : frontier) {
    for (const Digest& digest : child->parents()) {
      const CertificatePtr& parent = dag.Find(digest);
      // A parent from another round would be a malformed header; skip it.
      if (parent == nullptr || parent->round() != round || reached[parent->author()]) continue;
      reached[parent->author()] = true;
      parents.push_back(parent.get());
    }
  }
  return parents;
}

}  // namespace

bool Linked(const DagState& dag, const Certificate& from, const Certificate& to) {
  if (from.round() <= to.round()) return from.digest == to.digest;
  // Breadth-first, one round at a time: each round holds at most one
  // certificate per author, so the frontier never exceeds the committee.
  std::vector<const Certificate*> frontier = {&from};
  for (Round round = from.round() - 1; round > to.round(); --round) {
    frontier = ParentsInRound(dag, frontier, round, dag.committee_size());
    if (frontier.empty()) return false;
  }
  return std::any_of(frontier.begin(), frontier.end(),
                     [&](const Certificate* c) { return HasParent(*c, to.digest); });
}

std::vector<CertificatePtr> LeadersToCommit(const DagState& dag, const Committee& committee,
                                            const CertificatePtr& leader,
                                            Round last_committed_round) {
  CHECK(leader != nullptr);
  CHECK(leader->round() >= 2 && leader->round() % 2 == 0) << "leaders live on even rounds";
  CHECK_GT(leader->round(), last_committed_round);
  std::vector<CertificatePtr> leaders = {leader};
  const Certificate* newest_kept = leader.get();
  for (Round round = leader->round() - 2; round >= last_committed_round + 2 && round >= 2;
       round -= 2) {
    const CertificatePtr& earlier = dag.Get(round, committee.Leader(round));
    if (earlier == nullptr || !Linked(dag, *newest_kept, *earlier)) continue;
    leaders.push_back(earlier);
    newest_kept = earlier.get();
  }
  std::reverse(leaders.begin(), leaders.end());
  return leaders;
}

std::vector<CertificatePtr> OrderSubDag(const DagState& dag, const CommitState& committed,
                                        const CertificatePtr& leader) {
  CHECK(leader != nullptr);
  CHECK(!committed.IsCommitted(leader->author(), leader->round()));
  const Round gc_round = committed.gc_round();
  std::vector<CertificatePtr> ordered;
  // Membership only; the output order comes from the sort below.
  absl::flat_hash_set<Digest> seen = {leader->digest};
  std::vector<CertificatePtr> stack = {leader};
  while (!stack.empty()) {
    CertificatePtr certificate = std::move(stack.back());
    stack.pop_back();
    for (const Digest& digest : certificate->parents()) {
      const CertificatePtr& parent = dag.Find(digest);
      // Missing: garbage-collected, or never fed (a caller bug we survive).
      if (parent == nullptr || parent->round() <= gc_round) continue;
      if (committed.IsCommitted(parent->author(), parent->round())) continue;
      if (seen.insert(digest).second) stack.push_back(parent);
    }
    ordered.push_back(std::move(certificate));
  }
  // (round, author) is unique within the DAG, so a plain sort is as
  // deterministic as a stable one.
  std::sort(ordered.begin(), ordered.end(), [](const CertificatePtr& a, const CertificatePtr& b) {
    return std::make_pair(a->round(), a->author()) < std::make_pair(b->round(), b->author());
  });
  CHECK(ordered.back() == leader) << "a leader's history is below its round";
  return ordered;
}

}  // namespace narwhal
