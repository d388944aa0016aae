#include "core/primary/certificate_dag.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

Committee FourEqual() {
  std::vector<PublicKey> keys(4);
  for (size_t i = 0; i < keys.size(); ++i) keys[i][0] = static_cast<uint8_t>(i + 1);
  return Committee::ForTest(keys, std::vector<uint64_t>(4, 1), 1);
}

CertificatePtr Make(AuthorityIndex author, Round round, std::vector<Digest> parents) {
  Certificate c;
  c.header.author = author;
  c.header.round = round;
  std::sort(parents.begin(), parents.end());
  c.header.parents = std::move(parents);
  c.header.Seal();
  c.Seal();
  return std::make_shared<const Certificate>(std::move(c));
}

class CertificateDagTest : public ::testing::Test {
 protected:
  CertificateDagTest() : committee_(FourEqual()), dag_(&committee_) {}

  // Round `round` by `authors`, each naming every certificate of round - 1.
  std::vector<CertificatePtr> AddRound(Round round, std::vector<AuthorityIndex> authors) {
    std::vector<Digest> parents;
    if (auto it = dag_.find(round - 1); it != dag_.end()) {
      for (const auto& [a, c] : it->second) parents.push_back(c->digest);
    }
    std::vector<CertificatePtr> out;
    for (AuthorityIndex a : authors) {
      out.push_back(Make(a, round, parents));
      dag_.Insert(out.back());
    }
    return out;
  }

  Committee committee_;
  CertificateDag dag_;
};

TEST_F(CertificateDagTest, FindsByDigestAndPositionAndSumsStake) {
  auto r1 = AddRound(1, {0, 1, 3});
  EXPECT_EQ(dag_.size(), 3u);
  EXPECT_TRUE(dag_.Contains(r1[1]->digest));
  EXPECT_EQ(dag_.Find(r1[2]->digest), r1[2].get());
  EXPECT_EQ(dag_.Find(Make(2, 1, {})->digest), nullptr);
  EXPECT_TRUE(dag_.HasAuthorAt(1, 3));
  EXPECT_FALSE(dag_.HasAuthorAt(1, 2));
  EXPECT_FALSE(dag_.HasAuthorAt(2, 0));
  EXPECT_EQ(dag_.StakeAt(1), 3u);
  EXPECT_EQ(dag_.StakeAt(7), 0u);
  // Iteration is by author within a round.
  std::vector<AuthorityIndex> order;
  for (const auto& [a, c] : dag_.at(1)) order.push_back(a);
  EXPECT_EQ(order, (std::vector<AuthorityIndex>{0, 1, 3}));
}

TEST_F(CertificateDagTest, CheckParentsReportsWhatIsMissingThenWhatIsWrong) {
  auto r1 = AddRound(1, {0, 1, 2});
  const CertificatePtr unknown = Make(3, 1, {});
  absl::btree_set<Digest> missing;
  auto h = Make(0, 2, {r1[0]->digest, r1[1]->digest, unknown->digest});
  EXPECT_EQ(dag_.CheckParents(h->header, 0, &missing).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing, (absl::btree_set<Digest>{unknown->digest}));

  // Too little stake: 2 of 4 where the quorum is 3.
  auto thin = Make(1, 2, {r1[0]->digest, r1[1]->digest});
  EXPECT_EQ(dag_.CheckParents(thin->header, 0, nullptr).code(), absl::StatusCode::kInvalidArgument);

  // A parent of the wrong round.
  auto r2 = AddRound(2, {0, 1, 2});
  auto skewed = Make(3, 3, {r2[0]->digest, r2[1]->digest, r1[2]->digest});
  absl::Status s = dag_.CheckParents(skewed->header, 0, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;

  auto good = Make(3, 3, {r2[0]->digest, r2[1]->digest, r2[2]->digest});
  EXPECT_TRUE(dag_.CheckParents(good->header, 0, nullptr).ok());
  // Parents at or below the GC round are not looked at.
  EXPECT_TRUE(dag_.CheckParents(thin->header, 1, nullptr).ok());
}

TEST_F(CertificateDagTest, PruneDropsRoundsAtOrBelowTheGcRound) {
  AddRound(1, {0, 1, 2});
  auto r2 = AddRound(2, {0, 1, 2});
  auto r3 = AddRound(3, {0, 1, 2, 3});
  dag_.Prune(2);
  EXPECT_EQ(dag_.size(), 4u);
  EXPECT_FALSE(dag_.Contains(r2[0]->digest));
  EXPECT_TRUE(dag_.Contains(r3[3]->digest));
  EXPECT_EQ(dag_.begin()->first, 3u);
  dag_.Prune(2);  // the same round again is fine
  EXPECT_EQ(dag_.size(), 4u);
}

TEST_F(CertificateDagTest, InvariantsAreChecked) {
  auto r1 = AddRound(1, {0, 1, 2});
  // One certificate per (round, author).
  EXPECT_DEATH(dag_.Insert(Make(0, 1, {Make(9, 0, {})->digest})), "second certificate of author 0");
  dag_.Prune(1);
  // Nothing below the GC round comes back, and the GC round never goes back.
  EXPECT_DEATH(dag_.Insert(Make(3, 1, {})), "below the GC round");
  EXPECT_DEATH(dag_.Prune(0), "GC round went back");
}

}  // namespace
}  // namespace narwhal
