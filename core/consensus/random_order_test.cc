// Agreement across delivery orders: for random valid DAGs, every causal
// delivery order must give the same committed sequence (same sub-DAGs, same
// indices), the property that lets nodes receiving certificates in different
// orders agree. All randomness comes from narwhal::Random with fixed seeds.
#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/consensus/make_consensus.h"
#include "core/consensus/consensus.h"
#include "core/consensus/test_util.h"
#include "core/random.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

namespace narwhal::consensus_test {
namespace {

struct DagShape {
  std::string name;
  std::vector<uint64_t> stakes;
  std::vector<AuthorityIndex> dead;  // never produce a certificate
  std::vector<AuthorityIndex> slow;  // skip rounds, and are cited last
  Round rounds = 0;
  // Chance to cite a previous-round certificate beyond the quorum; lean DAGs
  // (low values) leave votes uncited, which is when linked commits happen.
  double extra_parent_probability = 0.5;
  // Chance that a producer ranks candidate parents by the round's shared
  // preference (most nodes receive the same certificates first) rather than
  // its own; correlated choices leave the same votes uncited everywhere.
  double correlation = 0;
  // When >= 0, the chance that a certificate cites the previous round's
  // leader at all (if the quorum allows): leaders near f+1 votes.
  double leader_citation_probability = -1;
  // The shape is known to make some delivery orders commit a leader through
  // the linked path where the reference order commits it directly (or the
  // reverse); the test then insists it happened, so it keeps testing that.
  bool expect_order_dependent_decisions = false;
};

bool Contains(const std::vector<AuthorityIndex>& set, AuthorityIndex a) {
  return std::find(set.begin(), set.end(), a) != set.end();
}

// Fisher-Yates with our own range mapping (std::shuffle's is unspecified).
void Shuffle(std::vector<AuthorityIndex>& v, Random& random) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[random.Uniform(i)]);
}

// A valid DAG: every certificate cites previous-round certificates with at
// least quorum stake. Slow authorities sometimes skip a round (when the rest
// still make a quorum) and are cited only once the quorum is met and a coin
// says so, so their certificates are often cited late or never.
DagBuilder RandomDag(const DagShape& shape, Random& random) {
  Committee committee = MakeCommittee(shape.stakes);
  DagBuilder dag(committee);
  const uint64_t quorum = committee.QuorumThreshold();
  for (Round round = 1; round <= shape.rounds; ++round) {
    std::vector<AuthorityIndex> producers;
    uint64_t producing_stake = 0;
    for (AuthorityIndex a = 0; a < committee.size(); ++a) {
      if (!Contains(shape.dead, a)) {
        producers.push_back(a);
        producing_stake += committee.Stake(a);
      }
    }
    for (AuthorityIndex a : shape.slow) {
      if (producing_stake - committee.Stake(a) >= quorum && random.Bernoulli(0.3)) {
        producers.erase(std::find(producers.begin(), producers.end(), a));
        producing_stake -= committee.Stake(a);
      }
    }
    CHECK_GE(producing_stake, quorum) << shape.name << ": the shape cannot make progress";
    const std::vector<AuthorityIndex> previous = dag.AuthorsAt(round - 1);
    std::vector<AuthorityIndex> shared_fast, shared_slow;
    for (AuthorityIndex p : previous) {
      (Contains(shape.slow, p) ? shared_slow : shared_fast).push_back(p);
    }
    Shuffle(shared_fast, random);
    Shuffle(shared_slow, random);
    const bool previous_is_leader_round = round >= 3 && (round - 1) % 2 == 0;
    const AuthorityIndex previous_leader = committee.Leader(round - 1);
    for (AuthorityIndex author : producers) {
      std::vector<AuthorityIndex> fast = shared_fast, slow = shared_slow;
      if (!random.Bernoulli(shape.correlation)) {
        Shuffle(fast, random);
        Shuffle(slow, random);
      }
      std::vector<AuthorityIndex> candidates = fast;
      candidates.insert(candidates.end(), slow.begin(), slow.end());
      bool skip_leader = false;
      if (previous_is_leader_round && shape.leader_citation_probability >= 0) {
        skip_leader = !random.Bernoulli(shape.leader_citation_probability);
      }
      uint64_t available = 0;
      for (AuthorityIndex p : candidates) available += committee.Stake(p);
      std::vector<AuthorityIndex> parents;
      uint64_t stake = 0;
      for (AuthorityIndex p : candidates) {
        if (skip_leader && p == previous_leader &&
            available - committee.Stake(p) >= quorum) {
          available -= committee.Stake(p);
          continue;
        }
        const bool needed = stake < quorum;
        const double extra = shape.extra_parent_probability * (Contains(shape.slow, p) ? 0.5 : 1);
        if (needed || random.Bernoulli(extra)) {
          parents.push_back(p);
          stake += committee.Stake(p);
        }
      }
      CHECK_GE(stake, quorum);
      dag.Add(author, round, parents);
    }
  }
  return dag;
}

enum class OrderMode {
  kUniform,  // any deliverable certificate, uniformly
  kGreedy,   // mostly a highest-round deliverable certificate
  kClosure,  // the missing ancestry of a random target, then the target
};

// Parents-before-children positions and edges of `all` (genesis excluded).
struct Edges {
  std::vector<std::vector<size_t>> parents, children;
};

Edges BuildEdges(const std::vector<CertificatePtr>& all) {
  absl::flat_hash_map<Digest, size_t> position;
  for (size_t i = 0; i < all.size(); ++i) position[all[i]->digest] = i;
  Edges edges{std::vector<std::vector<size_t>>(all.size()),
              std::vector<std::vector<size_t>>(all.size())};
  for (size_t i = 0; i < all.size(); ++i) {
    for (const Digest& parent : all[i]->parents()) {
      auto it = position.find(parent);
      if (it == position.end()) continue;  // genesis
      edges.parents[i].push_back(it->second);
      edges.children[it->second].push_back(i);
    }
  }
  return edges;
}

// kUniform and kGreedy: at each step one deliverable certificate (all parents
// delivered). Greedy orders race up the DAG, so later leaders may be decided
// before earlier ones.
std::vector<size_t> ReadyOrder(const std::vector<CertificatePtr>& all, const Edges& edges,
                               bool greedy, Random& random) {
  std::vector<size_t> missing_parents(all.size());
  std::vector<size_t> ready;
  for (size_t i = 0; i < all.size(); ++i) {
    missing_parents[i] = edges.parents[i].size();
    if (missing_parents[i] == 0) ready.push_back(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t pick = random.Uniform(ready.size());
    if (greedy && random.Bernoulli(0.9)) {
      for (size_t i = 0; i < ready.size(); ++i) {
        if (all[ready[i]]->round() > all[ready[pick]]->round()) pick = i;
      }
    }
    const size_t next = ready[pick];
    ready[pick] = ready.back();
    ready.pop_back();
    order.push_back(next);
    for (size_t child : edges.children[next]) {
      if (--missing_parents[child] == 0) ready.push_back(child);
    }
  }
  return order;
}

void DeliverClosure(size_t target, const Edges& edges, std::vector<bool>& delivered,
                    std::vector<size_t>& order) {
  if (delivered[target]) return;
  for (size_t parent : edges.parents[target]) DeliverClosure(parent, edges, delivered, order);
  delivered[target] = true;
  order.push_back(target);
}

// kClosure: picks a random undelivered target at most `window` rounds above
// the lowest undelivered round and delivers just what it needs. A vote for a
// leader that the targets do not need stays behind by up to `window` rounds,
// the way a slow link delays it.
std::vector<size_t> ClosureOrder(const std::vector<CertificatePtr>& all, const Edges& edges,
                                 Random& random) {
  const Round window = static_cast<Round>(random.UniformRange(2, 6));
  std::vector<bool> delivered(all.size(), false);
  std::vector<size_t> order;
  while (order.size() < all.size()) {
    Round lowest = ~Round{0};
    for (size_t i = 0; i < all.size(); ++i) {
      if (!delivered[i]) lowest = std::min(lowest, all[i]->round());
    }
    std::vector<size_t> targets;
    for (size_t i = 0; i < all.size(); ++i) {
      if (!delivered[i] && all[i]->round() <= lowest + window) targets.push_back(i);
    }
    DeliverClosure(targets[random.Uniform(targets.size())], edges, delivered, order);
  }
  return order;
}

// A random causal delivery order of `all`, with an occasional duplicate.
std::vector<CertificatePtr> RandomCausalOrder(const std::vector<CertificatePtr>& all,
                                              OrderMode mode, Random& random) {
  const Edges edges = BuildEdges(all);
  const std::vector<size_t> positions = mode == OrderMode::kClosure
                                            ? ClosureOrder(all, edges, random)
                                            : ReadyOrder(all, edges, mode == OrderMode::kGreedy,
                                                         random);
  CHECK_EQ(positions.size(), all.size());
  std::vector<CertificatePtr> order;
  for (size_t position : positions) {
    order.push_back(all[position]);
    if (random.Bernoulli(0.05)) order.push_back(order[random.Uniform(order.size())]);
  }
  return order;
}

struct Case {
  ConsensusKind kind;
  DagShape shape;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << ConsensusKindName(c.kind) << "/" << c.shape.name;
}

class RandomOrderTest : public testing::TestWithParam<Case> {};

void RunShape(const Case& c, Round gc_depth);

TEST_P(RandomOrderTest, EveryCausalOrderCommitsTheSameSequence) {
  const Case& c = GetParam();
  // Agreement must survive GC too: a certificate some order commits is an
  // ancestor of the committing leader, so every causal order delivers it
  // while the GC round is still below it. Run without GC and with a GC depth
  // small enough to collect while leaders are still being linked.
  for (Round gc_depth : {Round{100}, Round{2}}) {
    SCOPED_TRACE(testing::Message() << "gc_depth " << gc_depth);
    RunShape(c, gc_depth);
  }
}

void RunShape(const Case& c, Round gc_depth) {
  ConsensusOptions options;
  options.gc_depth = gc_depth;
  // Orders where some leader was committed through the linked path instead
  // of directly (or the reverse) compared with the reference order.
  int orders_deciding_differently = 0;
  constexpr int kDags = 3;
  constexpr OrderMode kModes[] = {OrderMode::kUniform, OrderMode::kGreedy, OrderMode::kClosure};
  constexpr int kOrdersPerDag = 100;
  for (int d = 0; d < kDags; ++d) {
    Random random(Random::DeriveSeed(Random::DeriveSeed(0xc0ffee, c.shape.name), d));
    DagBuilder dag = RandomDag(c.shape, random);
    auto reference = MakeConsensus(c.kind, dag.committee(), options);
    std::vector<CommittedSubDag> expected;
    std::vector<size_t> reference_batches;  // sub-DAGs per committing call
    for (const CertificatePtr& certificate : dag.all()) {
      std::vector<CommittedSubDag> out = reference->ProcessCertificate(certificate);
      if (!out.empty()) reference_batches.push_back(out.size());
      for (CommittedSubDag& s : out) expected.push_back(std::move(s));
    }
    // Some leaders must commit or agreement is vacuous.
    ASSERT_GE(expected.size(), c.shape.rounds / 6) << c.shape.name << " dag " << d;
    ExpectValidSequence(expected, dag.all(), options.gc_depth);
    const std::vector<std::string> expected_lines = Describe(expected);
    for (int o = 0; o < kOrdersPerDag; ++o) {
      auto consensus = MakeConsensus(c.kind, dag.committee(), options);
      std::vector<CommittedSubDag> actual;
      std::vector<size_t> batches;
      const OrderMode mode = kModes[o % 3];
      for (const CertificatePtr& certificate : RandomCausalOrder(dag.all(), mode, random)) {
        std::vector<CommittedSubDag> out = consensus->ProcessCertificate(certificate);
        if (!out.empty()) batches.push_back(out.size());
        for (CommittedSubDag& s : out) actual.push_back(std::move(s));
      }
      if (batches != reference_batches) ++orders_deciding_differently;
      ASSERT_EQ(Describe(actual), expected_lines) << c.shape.name << " dag " << d << " order " << o;
      ExpectValidSequence(actual, dag.all(), options.gc_depth);
      ASSERT_EQ(consensus->last_committed_round(), reference->last_committed_round());
    }
  }
  if (c.shape.expect_order_dependent_decisions) {
    EXPECT_GT(orders_deciding_differently, 0)
        << c.shape.name << ": no order changed how a leader was decided";
  }
}

std::vector<DagShape> Shapes() {
  return {
      {"n4_dead", {1, 1, 1, 1}, {3}, {}, 30},
      {"n4_slow", {1, 1, 1, 1}, {}, {2}, 30},
      {"n4_unequal", {4, 1, 1, 1}, {}, {1, 3}, 30},
      {"n7_dead_slow", std::vector<uint64_t>(7, 1), {6}, {1, 4}, 30},
      {"n10_dead_slow", std::vector<uint64_t>(10, 1), {0, 5}, {3, 7, 8}, 30},
      {"n10_unequal", {5, 1, 2, 3, 1, 1, 4, 2, 1, 3}, {9}, {2, 6}, 30},
      {"n4_lean", {1, 1, 1, 1}, {}, {}, 30, 0.1},
      {"n7_lean_slow", std::vector<uint64_t>(7, 1), {}, {3}, 30, 0.1},
      {"n10_lean_dead", std::vector<uint64_t>(10, 1), {4}, {}, 30, 0.1},
      {"n4_correlated", {1, 1, 1, 1}, {}, {}, 30, 0.05, 0.8, 0.5, true},
      {"n7_correlated", std::vector<uint64_t>(7, 1), {}, {5}, 30, 0.05, 0.8, 0.5, true},
      {"n10_correlated", std::vector<uint64_t>(10, 1), {1}, {}, 30, 0.05, 0.8, 0.4},
  };
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (ConsensusKind kind : {ConsensusKind::kBullshark, ConsensusKind::kTusk}) {
    for (const DagShape& shape : Shapes()) cases.push_back({kind, shape});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, RandomOrderTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(ConsensusKindName(info.param.kind)) + "_" +
                                  info.param.shape.name;
                         });

}  // namespace
}  // namespace narwhal::consensus_test
