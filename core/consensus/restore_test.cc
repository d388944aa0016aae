// SerializeState/Restore: a node restored mid-run from its saved state and
// the certificates its store holds must continue with exactly the commits of
// a node that never stopped.
#include <memory>
#include <string>
#include <vector>

#include "core/consensus/make_consensus.h"
#include "core/consensus/consensus.h"
#include "core/consensus/test_util.h"
#include "core/random.h"
#include "gtest/gtest.h"

namespace narwhal::consensus_test {
namespace {

std::vector<AuthorityIndex> All(size_t n) {
  std::vector<AuthorityIndex> out;
  for (AuthorityIndex a = 0; a < n; ++a) out.push_back(a);
  return out;
}

// Feeds order[0, split) to one node, restores a second node from its state
// and the certificates above its GC round, feeds it the rest, and returns
// the commits of the first node followed by those of the second.
std::vector<CommittedSubDag> RunWithRestart(ConsensusKind kind, const Committee& committee,
                                            const ConsensusOptions& options,
                                            const std::vector<CertificatePtr>& order,
                                            size_t split) {
  auto before = MakeConsensus(kind, committee, options);
  std::vector<CertificatePtr> head(order.begin(), order.begin() + split);
  std::vector<CommittedSubDag> sequence = Feed(*before, head);
  std::vector<CertificatePtr> stored;
  for (const CertificatePtr& c : head) {
    if (c->round() > before->gc_round()) stored.push_back(c);
  }
  auto after = MakeConsensus(kind, committee, options);
  absl::Status status = after->Restore(before->SerializeState(), stored);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(after->SerializeState(), before->SerializeState());
  EXPECT_EQ(after->last_committed_round(), before->last_committed_round());
  EXPECT_EQ(after->gc_round(), before->gc_round());
  std::vector<CertificatePtr> tail(order.begin() + split, order.end());
  for (CommittedSubDag& s : Feed(*after, tail)) sequence.push_back(std::move(s));
  return sequence;
}

class RestoreTest : public testing::TestWithParam<ConsensusKind> {};

// A restart at every point of a run with a slow authority, missing
// certificates and a small GC depth gives the uninterrupted sequence.
TEST_P(RestoreTest, RestartAnywhereContinuesTheSameSequence) {
  Committee committee = EqualCommittee(4);
  Random random(Random::DeriveSeed(7, "restore"));
  DagBuilder dag(committee);
  for (Round round = 1; round <= 24; ++round) {
    std::vector<AuthorityIndex> previous = dag.AuthorsAt(round - 1);
    for (AuthorityIndex author = 0; author < 4; ++author) {
      // Authority 3 is slow: it skips a round now and then, and others cite
      // it only half of the time (they always have the other three).
      if (author == 3 && random.Bernoulli(0.25)) continue;
      std::vector<AuthorityIndex> parents;
      for (AuthorityIndex p : previous) {
        if (p != 3 || round == 1 || random.Bernoulli(0.5)) parents.push_back(p);
      }
      dag.Add(author, round, parents);
    }
  }
  ConsensusOptions options;
  options.gc_depth = 6;
  auto uninterrupted = MakeConsensus(GetParam(), committee, options);
  const std::vector<CommittedSubDag> expected = Feed(*uninterrupted, dag.all());
  ASSERT_GE(expected.size(), 5u);
  ASSERT_GT(uninterrupted->gc_round(), 0u) << "the run should exercise GC";
  for (size_t split = 0; split <= dag.all().size(); ++split) {
    std::vector<CommittedSubDag> actual =
        RunWithRestart(GetParam(), committee, options, dag.all(), split);
    ASSERT_EQ(Describe(actual), Describe(expected)) << "restart after " << split;
    ExpectValidSequence(actual, dag.all(), options.gc_depth);
  }
}

// Author 3's round-3 certificate is committed only after its round-6 one:
// it reaches a leader's history through late children. A restored node must
// not take it for committed just because round 3 <= 6.
TEST_P(RestoreTest, CertificateCommittedAfterALaterOneOfItsAuthor) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  dag.AddRounds(1, 3, All(4));
  dag.Add(0, 4, {0, 1, 3});  // y: the only child of (3,3)
  for (AuthorityIndex a : {1, 2, 3}) dag.Add(a, 4, {0, 1, 2});
  dag.Add(0, 5, {0, 1, 2});  // z: the only child of y
  for (AuthorityIndex a : {1, 2, 3}) dag.Add(a, 5, {1, 2, 3});
  dag.Add(0, 6, {0, 1, 2});  // w: the only child of z
  for (AuthorityIndex a : {1, 2, 3}) dag.Add(a, 6, {1, 2, 3});  // (6,3) leads round 6
  dag.Add(0, 7, {0, 1, 3});  // cites w
  for (AuthorityIndex a : {1, 2, 3}) dag.Add(a, 7, {1, 2, 3});
  dag.AddRounds(8, 11, All(4));
  ASSERT_EQ(committee.Leader(6), 3u);

  auto uninterrupted = MakeConsensus(GetParam(), committee, ConsensusOptions{});
  const std::vector<CommittedSubDag> expected = Feed(*uninterrupted, dag.all());
  ExpectValidSequence(expected, dag.all(), ConsensusOptions{}.gc_depth);
  // Find where (6,3) and (3,3) were committed.
  size_t leader6 = expected.size(), late = expected.size();
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i].leader == dag.Get(6, 3)) leader6 = i;
    for (const CertificatePtr& c : expected[i].certificates) {
      if (c == dag.Get(3, 3)) late = i;
    }
  }
  ASSERT_LT(leader6, expected.size());
  ASSERT_LT(late, expected.size()) << "(3,3) must be committed eventually";
  ASSERT_GT(late, leader6) << "(3,3) must be committed after (6,3)";

  // Restart once (6,3) is committed and (3,3) is not: after round 7 for
  // Bullshark, after round 9 for Tusk.
  const Round restart_round = GetParam() == ConsensusKind::kBullshark ? 7 : 9;
  const std::vector<CertificatePtr> order = dag.all();
  size_t split = 0;
  while (split < order.size() && order[split]->round() <= restart_round) ++split;
  auto probe = MakeConsensus(GetParam(), committee, ConsensusOptions{});
  Feed(*probe, std::vector<CertificatePtr>(order.begin(), order.begin() + split));
  const std::string state = probe->SerializeState();
  EXPECT_NE(state.find("author 3 last_committed 6 uncommitted 3\n"), std::string::npos)
      << state;
  std::vector<CommittedSubDag> actual =
      RunWithRestart(GetParam(), committee, ConsensusOptions{}, order, split);
  EXPECT_EQ(Describe(actual), Describe(expected));
}

TEST_P(RestoreTest, RejectsBadState) {
  Committee committee = EqualCommittee(4);
  auto consensus = MakeConsensus(GetParam(), committee, ConsensusOptions{});
  EXPECT_FALSE(consensus->Restore("", {}).ok());
  EXPECT_FALSE(consensus->Restore("garbage\n", {}).ok());
  // Written for a committee of 7.
  auto seven = MakeConsensus(GetParam(), EqualCommittee(7), ConsensusOptions{});
  EXPECT_FALSE(consensus->Restore(seven->SerializeState(), {}).ok());
  // A failed Restore leaves the state as it was.
  EXPECT_EQ(consensus->SerializeState(),
            MakeConsensus(GetParam(), committee, ConsensusOptions{})->SerializeState());
}

INSTANTIATE_TEST_SUITE_P(Protocols, RestoreTest,
                         testing::Values(ConsensusKind::kBullshark, ConsensusKind::kTusk),
                         [](const testing::TestParamInfo<ConsensusKind>& info) {
                           return std::string(ConsensusKindName(info.param));
                         });

}  // namespace
}  // namespace narwhal::consensus_test
