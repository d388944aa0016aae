#include "core/consensus/dag_state.h"

#include "core/consensus/ordering.h"
#include "core/consensus/test_util.h"
#include "gtest/gtest.h"

namespace narwhal {
namespace {

using consensus_test::DagBuilder;
using consensus_test::EqualCommittee;
using consensus_test::MakeCertificate;
using Result = DagState::InsertResult;

TEST(DagStateTest, InsertLookupAndRefusals) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  dag.AddRounds(1, 2, {0, 1, 2, 3});
  DagState state(committee);
  for (const CertificatePtr& c : dag.all()) EXPECT_EQ(state.Insert(c), Result::kInserted);
  EXPECT_EQ(state.size(), 8u);
  EXPECT_EQ(state.Get(2, 3), dag.Get(2, 3));
  EXPECT_EQ(state.Find(dag.Get(1, 2)->digest), dag.Get(1, 2));
  EXPECT_EQ(state.Get(3, 0), nullptr);
  EXPECT_EQ(state.Insert(dag.Get(1, 1)), Result::kDuplicate);
  EXPECT_EQ(state.Insert(MakeCertificate(1, 1, {})), Result::kEquivocation);
  EXPECT_EQ(state.Get(1, 1), dag.Get(1, 1)) << "the first certificate stays";
  EXPECT_EQ(state.Insert(MakeCertificate(4, 1, {})), Result::kUnknownAuthor);
  EXPECT_EQ(state.Insert(MakeCertificate(0, 0, {})), Result::kGarbageCollected);
}

TEST(DagStateTest, CountsLeaderSupportByStake) {
  Committee committee = consensus_test::MakeCommittee({4, 1, 1, 1});
  DagBuilder dag(committee);
  dag.AddRounds(1, 2, {0, 1, 2, 3});
  dag.Add(0, 3, {0, 1, 2, 3});
  dag.Add(1, 3, {0, 2, 3});
  dag.Add(2, 3, {0, 1, 2});
  DagState state(committee);
  for (const CertificatePtr& c : dag.all()) state.Insert(c);
  // Leader of round 2 is authority 1; votes from 0 (stake 4) and 2 (stake 1).
  EXPECT_EQ(state.LeaderSupport(2), 5u);
  EXPECT_EQ(state.LeaderSupport(4), 0u);
}

TEST(DagStateTest, GarbageCollectDropsRoundsAndRefusesThem) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  dag.AddRounds(1, 5, {0, 1, 2, 3});
  DagState state(committee);
  for (const CertificatePtr& c : dag.all()) state.Insert(c);
  state.GarbageCollect(3);
  EXPECT_EQ(state.size(), 8u);
  EXPECT_EQ(state.Find(dag.Get(3, 0)->digest), nullptr);
  EXPECT_EQ(state.Get(4, 0), dag.Get(4, 0));
  EXPECT_EQ(state.Insert(MakeCertificate(0, 3, {})), Result::kGarbageCollected);
}

TEST(OrderingTest, LinkedFollowsParentPaths) {
  Committee committee = EqualCommittee(4);
  DagBuilder dag(committee);
  dag.AddRounds(1, 2, {0, 1, 2, 3});
  for (AuthorityIndex a = 0; a < 4; ++a) dag.Add(a, 3, {0, 2, 3});  // nobody cites (2,1)
  dag.AddRounds(4, 4, {0, 1, 2, 3});
  DagState state(committee);
  for (const CertificatePtr& c : dag.all()) state.Insert(c);
  EXPECT_TRUE(Linked(state, *dag.Get(4, 2), *dag.Get(2, 0)));
  EXPECT_FALSE(Linked(state, *dag.Get(4, 2), *dag.Get(2, 1)));
  EXPECT_TRUE(Linked(state, *dag.Get(4, 2), *dag.Get(1, 1)));
  EXPECT_TRUE(Linked(state, *dag.Get(4, 2), *dag.Get(4, 2)));
  EXPECT_FALSE(Linked(state, *dag.Get(2, 0), *dag.Get(4, 2)));
}

}  // namespace
}  // namespace narwhal
