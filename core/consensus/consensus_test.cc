// Scenario tests for both protocols, after the Narwhal reference's consensus
// tests: hand-built DAGs of 4 authorities, exact committed sequences.
#include "core/consensus/make_consensus.h"
#include "core/consensus/consensus.h"

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "core/consensus/test_util.h"
#include "gtest/gtest.h"

namespace narwhal::consensus_test {
namespace {

struct Protocol {
  ConsensusKind kind;
  // Rounds between a leader's round and the round whose first certificate
  // decides it: Bullshark decides the leader of r at r+1, Tusk at r+3.
  Round decision_lag;
};

void PrintTo(const Protocol& p, std::ostream* os) { *os << ConsensusKindName(p.kind); }

std::string ProtocolName(const testing::TestParamInfo<Protocol>& info) {
  return std::string(ConsensusKindName(info.param.kind));
}

class ConsensusTest : public testing::TestWithParam<Protocol> {
 protected:
  std::unique_ptr<Consensus> Make(const Committee& committee, ConsensusOptions options = {}) {
    return MakeConsensus(GetParam().kind, committee, options);
  }
  Round DecisionRound(Round leader_round) const { return leader_round + GetParam().decision_lag; }
};

// In a DAG where every certificate cites the whole previous round, a leader's
// history is everything below its round: the expected sub-DAG is what of
// that was not committed yet, in (round, author) order, then the leader.
std::vector<Digest> FullDagSubDag(const DagBuilder& dag, const CertificatePtr& leader,
                                  absl::flat_hash_set<Digest>& done) {
  std::vector<Digest> expected;
  for (const CertificatePtr& c : dag.Rounds(1, leader->round() - 1)) {
    if (done.insert(c->digest).second) expected.push_back(c->digest);
  }
  expected.push_back(leader->digest);
  done.insert(leader->digest);
  return expected;
}

std::vector<AuthorityIndex> All(size_t n) {
  std::vector<AuthorityIndex> out;
  for (AuthorityIndex a = 0; a < n; ++a) out.push_back(a);
  return out;
}

TEST_P(ConsensusTest, CommitOne) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  // Bullshark: rounds 1..4; Tusk: 1..5. Only the round-2 leader is decided.
  dag.AddRounds(1, DecisionRound(2) + (GetParam().decision_lag == 1 ? 1 : 0), All(4));
  auto consensus = Make(committee);

  // The commit happens exactly when the f+1-th (2nd) vote arrives for
  // Bullshark, and at the first certificate of round 5 for Tusk.
  const CertificatePtr trigger = GetParam().decision_lag == 1 ? dag.Get(3, 1) : dag.Get(5, 0);
  std::vector<CommittedSubDag> sequence;
  for (const CertificatePtr& c : dag.all()) {
    std::vector<CommittedSubDag> out = consensus->ProcessCertificate(c);
    if (c == trigger) {
      EXPECT_EQ(out.size(), 1u);
    } else {
      EXPECT_TRUE(out.empty()) << "unexpected commit at (" << c->round() << "," << c->author()
                               << ")";
    }
    for (auto& s : out) sequence.push_back(std::move(s));
  }

  ASSERT_EQ(sequence.size(), 1u);
  const CertificatePtr leader = dag.Get(2, committee.Leader(2));
  EXPECT_EQ(committee.Leader(2), 1u);
  EXPECT_EQ(sequence[0].index, 0u);
  EXPECT_EQ(sequence[0].leader, leader);
  EXPECT_EQ(Digests(sequence[0].certificates),
            (std::vector<Digest>{dag.Get(1, 0)->digest, dag.Get(1, 1)->digest,
                                 dag.Get(1, 2)->digest, dag.Get(1, 3)->digest, leader->digest}));
  EXPECT_EQ(consensus->last_committed_round(), 2u);
  ExpectValidSequence(sequence, dag.all(), ConsensusOptions{}.gc_depth);
}

TEST_P(ConsensusTest, DeadNode) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  // Authority 3 never produces a certificate; it leads round 6.
  ASSERT_EQ(committee.Leader(6), 3u);
  dag.AddRounds(1, DecisionRound(8) + 1, {0, 1, 2});
  auto consensus = Make(committee);
  std::vector<CommittedSubDag> sequence = Feed(*consensus, dag.all());

  ASSERT_EQ(sequence.size(), 3u) << testing::PrintToString(Describe(sequence));
  absl::flat_hash_set<Digest> done;
  const std::vector<Round> leader_rounds = {2, 4, 8};
  for (size_t i = 0; i < sequence.size(); ++i) {
    const CertificatePtr leader = dag.Get(leader_rounds[i], committee.Leader(leader_rounds[i]));
    ASSERT_NE(leader, nullptr);
    EXPECT_EQ(sequence[i].index, i);
    EXPECT_EQ(sequence[i].leader, leader);
    EXPECT_EQ(Digests(sequence[i].certificates), FullDagSubDag(dag, leader, done));
  }
  EXPECT_EQ(consensus->last_committed_round(), 8u);
  ExpectValidSequence(sequence, dag.all(), ConsensusOptions{}.gc_depth);
}

// The round-2 leader gets one vote (< f+1): not committed when decided, but
// committed first when the round-4 leader commits, since it reaches it.
DagBuilder NotEnoughSupportDag(const Committee& committee, Round last_round) {
  DagBuilder dag(committee);
  dag.AddRounds(1, 2, All(4));
  dag.Add(0, 3, {0, 1, 2, 3});  // the only vote for leader (2,1)
  for (AuthorityIndex a : {1, 2, 3}) dag.Add(a, 3, {0, 2, 3});
  dag.AddRounds(4, last_round, All(4));
  return dag;
}

TEST_P(ConsensusTest, NotEnoughSupport) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag = NotEnoughSupportDag(committee, DecisionRound(4));
  auto consensus = Make(committee);

  EXPECT_TRUE(Feed(*consensus, dag.Rounds(1, DecisionRound(2))).empty())
      << "leader of round 2 has a single vote";
  EXPECT_EQ(consensus->last_committed_round(), 0u);
  std::vector<CommittedSubDag> sequence =
      Feed(*consensus, dag.Rounds(DecisionRound(2) + 1, DecisionRound(4)));

  ASSERT_EQ(sequence.size(), 2u) << testing::PrintToString(Describe(sequence));
  absl::flat_hash_set<Digest> done;
  EXPECT_EQ(sequence[0].index, 0u);
  EXPECT_EQ(sequence[0].leader, dag.Get(2, 1));
  EXPECT_EQ(Digests(sequence[0].certificates), FullDagSubDag(dag, dag.Get(2, 1), done));
  EXPECT_EQ(sequence[1].index, 1u);
  EXPECT_EQ(sequence[1].leader, dag.Get(4, 2));
  EXPECT_EQ(Digests(sequence[1].certificates), FullDagSubDag(dag, dag.Get(4, 2), done));
  ExpectValidSequence(sequence, dag.all(), ConsensusOptions{}.gc_depth);
}

// The simulator's own tests rely on this switch to prove their checkers
// catch a broken commit rule.
TEST_P(ConsensusTest, BrokenCommitRuleCommitsWithoutSupport) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag = NotEnoughSupportDag(committee, DecisionRound(2));
  ConsensusOptions options;
  options.test_only_break_commit_rule = true;
  auto consensus = Make(committee, options);
  std::vector<CommittedSubDag> sequence = Feed(*consensus, dag.all());
  ASSERT_FALSE(sequence.empty());
  EXPECT_EQ(sequence[0].leader, dag.Get(2, 1));
}

TEST_P(ConsensusTest, MissingLeader) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  dag.AddRounds(1, 1, All(4));
  dag.AddRounds(2, 2, {0, 2, 3});  // no certificate from the round-2 leader, 1
  dag.AddRounds(3, DecisionRound(4), All(4));
  auto consensus = Make(committee);
  std::vector<CommittedSubDag> sequence = Feed(*consensus, dag.all());

  ASSERT_EQ(sequence.size(), 1u) << testing::PrintToString(Describe(sequence));
  absl::flat_hash_set<Digest> done;
  EXPECT_EQ(sequence[0].index, 0u);
  EXPECT_EQ(sequence[0].leader, dag.Get(4, 2));
  EXPECT_EQ(Digests(sequence[0].certificates), FullDagSubDag(dag, dag.Get(4, 2), done));
  ExpectValidSequence(sequence, dag.all(), ConsensusOptions{}.gc_depth);
}

TEST_P(ConsensusTest, OrphanIsNeverCommittedAndGarbageCollected) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  dag.AddRounds(1, 3, All(4));
  // Nobody cites (3,3).
  for (AuthorityIndex a = 0; a < 4; ++a) dag.Add(a, 4, {0, 1, 2});
  dag.AddRounds(5, 30, All(4));
  const CertificatePtr orphan = dag.Get(3, 3);
  ConsensusOptions options;
  options.gc_depth = 4;
  auto consensus = Make(committee, options);

  std::vector<CommittedSubDag> sequence = Feed(*consensus, dag.all());
  ASSERT_GE(sequence.size(), 10u);
  for (const CommittedSubDag& sub_dag : sequence) {
    for (const CertificatePtr& c : sub_dag.certificates) EXPECT_NE(c, orphan);
  }
  ExpectValidSequence(sequence, dag.all(), options.gc_depth);
  EXPECT_EQ(consensus->gc_round(), consensus->last_committed_round() - 4);
  EXPECT_GT(consensus->gc_round(), orphan->round());

  // Below the GC round everything is ignored: the orphan again, a late
  // certificate citing it, and a leader-round certificate there.
  EXPECT_TRUE(consensus->ProcessCertificate(orphan).empty());
  EXPECT_TRUE(consensus->ProcessCertificate(MakeCertificate(0, 5, {orphan->digest})).empty());
  const Round gc = consensus->gc_round();
  EXPECT_TRUE(consensus->ProcessCertificate(MakeCertificate(1, gc, {})).empty());
  EXPECT_EQ(consensus->gc_round(), gc);
}

TEST_P(ConsensusTest, DuplicatesAreIgnored) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  dag.AddRounds(1, 12, All(4));
  auto once = Make(committee);
  auto twice = Make(committee);
  std::vector<CommittedSubDag> expected = Feed(*once, dag.all());
  std::vector<CertificatePtr> doubled;
  for (const CertificatePtr& c : dag.all()) {
    doubled.push_back(c);
    // A fresh copy too: same digest, different pointer.
    doubled.push_back(std::make_shared<Certificate>(*c));
  }
  std::vector<CommittedSubDag> actual = Feed(*twice, doubled);
  EXPECT_EQ(Describe(actual), Describe(expected));
  ExpectValidSequence(actual, dag.all(), ConsensusOptions{}.gc_depth);
}

TEST_P(ConsensusTest, SurvivesCallerBugs) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  dag.AddRounds(1, DecisionRound(2), All(4));
  auto consensus = Make(committee);
  // Round 1 never fed: every round-2 parent is missing. The leader still
  // commits, with only what the DAG holds.
  std::vector<CommittedSubDag> sequence = Feed(*consensus, dag.Rounds(2, DecisionRound(2)));
  ASSERT_EQ(sequence.size(), 1u);
  EXPECT_EQ(Digests(sequence[0].certificates), std::vector<Digest>{dag.Get(2, 1)->digest});
  // An author outside the committee, and an equivocating second certificate.
  EXPECT_TRUE(consensus->ProcessCertificate(MakeCertificate(7, 9, {})).empty());
  EXPECT_TRUE(consensus->ProcessCertificate(MakeCertificate(2, 3, {})).empty());
}

// Support is stake, not heads: with stakes 4,1,1,1 (validity 3), the heavy
// authority's vote alone commits; two light votes (f+1 heads) do not.
TEST_P(ConsensusTest, UnequalStakeHeavyVoteCommits) {
  Committee committee = MakeCommittee({4, 1, 1, 1});
  ASSERT_EQ(committee.ValidityThreshold(), 3u);
  DagBuilder dag(committee);
  dag.AddRounds(1, 2, All(4));
  dag.Add(0, 3, {0, 1, 2, 3});                                  // votes for (2,1)
  for (AuthorityIndex a : {1, 2, 3}) dag.Add(a, 3, {0, 2, 3});  // stake 6 >= quorum 5
  dag.AddRounds(4, DecisionRound(2), All(4));
  auto consensus = Make(committee);

  std::vector<CertificatePtr> first = dag.Rounds(1, 2);
  first.push_back(dag.Get(3, 0));  // one head, stake 4
  std::vector<CommittedSubDag> sequence = Feed(*consensus, first);
  // Bullshark commits on that single vote; Tusk waits for round 5, where the
  // votes of round 3 are still just authority 0's.
  EXPECT_EQ(sequence.size(), GetParam().decision_lag == 1 ? 1u : 0u);
  std::vector<CertificatePtr> rest;
  for (const CertificatePtr& c : dag.all()) {
    if (c->round() >= 3 && c != dag.Get(3, 0)) rest.push_back(c);
  }
  for (CommittedSubDag& s : Feed(*consensus, rest)) sequence.push_back(std::move(s));
  ASSERT_EQ(sequence.size(), 1u) << testing::PrintToString(Describe(sequence));
  EXPECT_EQ(sequence[0].leader, dag.Get(2, 1));
  ExpectValidSequence(sequence, dag.all(), ConsensusOptions{}.gc_depth);
}

TEST_P(ConsensusTest, UnequalStakeLightVotesDoNotCommit) {
  Committee committee = MakeCommittee({4, 1, 1, 1});
  DagBuilder dag(committee);
  dag.AddRounds(1, 2, All(4));
  for (AuthorityIndex a : {1, 2}) dag.Add(a, 3, {0, 1, 2, 3});  // 2 heads, stake 2
  for (AuthorityIndex a : {0, 3}) dag.Add(a, 3, {0, 2, 3});
  dag.AddRounds(4, DecisionRound(4), All(4));
  auto consensus = Make(committee);

  EXPECT_TRUE(Feed(*consensus, dag.Rounds(1, DecisionRound(2))).empty());
  std::vector<CommittedSubDag> sequence =
      Feed(*consensus, dag.Rounds(DecisionRound(2) + 1, DecisionRound(4)));
  // The round-4 leader reaches (2,1) through the light votes: both commit.
  ASSERT_EQ(sequence.size(), 2u) << testing::PrintToString(Describe(sequence));
  EXPECT_EQ(sequence[0].leader, dag.Get(2, 1));
  EXPECT_EQ(sequence[1].leader, dag.Get(4, 2));
  ExpectValidSequence(sequence, dag.all(), ConsensusOptions{}.gc_depth);
}

INSTANTIATE_TEST_SUITE_P(Protocols, ConsensusTest,
                         testing::Values(Protocol{ConsensusKind::kBullshark, 1},
                                         Protocol{ConsensusKind::kTusk, 3}),
                         ProtocolName);

TEST(ConsensusKindTest, ParsesAndNames) {
  for (ConsensusKind kind : {ConsensusKind::kBullshark, ConsensusKind::kTusk}) {
    auto parsed = ParseConsensusKind(ConsensusKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_FALSE(ParseConsensusKind("Bullshark").ok());
  EXPECT_FALSE(ParseConsensusKind("").ok());
}

}  // namespace
}  // namespace narwhal::consensus_test
