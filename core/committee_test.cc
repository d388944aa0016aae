#include "core/committee.h"

#include "gtest/gtest.h"

namespace narwhal {
namespace {

std::vector<PublicKey> Keys(size_t n) {
  std::vector<PublicKey> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i][0] = static_cast<uint8_t>(i + 1);
  return keys;
}

TEST(CommitteeTest, EqualStakeThresholds) {
  Committee c = Committee::ForTest(Keys(4), {1, 1, 1, 1}, 1);
  EXPECT_EQ(c.TotalStake(), 4u);
  EXPECT_EQ(c.QuorumThreshold(), 3u);   // 2f+1 with f=1
  EXPECT_EQ(c.ValidityThreshold(), 2u); // f+1
  Committee c7 = Committee::ForTest(Keys(7), std::vector<uint64_t>(7, 1), 1);
  EXPECT_EQ(c7.QuorumThreshold(), 5u);
  EXPECT_EQ(c7.ValidityThreshold(), 3u);
  Committee c10 = Committee::ForTest(Keys(10), std::vector<uint64_t>(10, 1), 1);
  EXPECT_EQ(c10.QuorumThreshold(), 7u);
  EXPECT_EQ(c10.ValidityThreshold(), 4u);
}

TEST(CommitteeTest, UnequalStakeThresholds) {
  // S = 7: quorum floor(14/3)+1 = 5, validity floor(9/3) = 3.
  Committee c = Committee::ForTest(Keys(4), {4, 1, 1, 1}, 1);
  EXPECT_EQ(c.TotalStake(), 7u);
  EXPECT_EQ(c.QuorumThreshold(), 5u);
  EXPECT_EQ(c.ValidityThreshold(), 3u);
  // The heavy authority plus one light one reach quorum; three light ones do not.
  EXPECT_GE(c.Stake(0) + c.Stake(1), c.QuorumThreshold());
  EXPECT_LT(c.Stake(1) + c.Stake(2) + c.Stake(3), c.QuorumThreshold());
  // S = 100 with stakes 10,20,30,40: quorum 67, validity 34.
  Committee d = Committee::ForTest(Keys(4), {10, 20, 30, 40}, 2);
  EXPECT_EQ(d.QuorumThreshold(), 67u);
  EXPECT_EQ(d.ValidityThreshold(), 34u);
  EXPECT_EQ(d.workers_per_authority(), 2u);
}

TEST(CommitteeTest, QuorumsIntersectInMoreThanFaultyStake) {
  // For every total stake S, two quorums overlap by more than S - quorum
  // (the stake that may be Byzantine), and validity > (S-1)/3.
  for (uint64_t s = 1; s < 200; ++s) {
    uint64_t q = 2 * s / 3 + 1, v = (s + 2) / 3;
    EXPECT_GT(2 * q, s + (s - q)) << s;
    EXPECT_GT(3 * v, s - 1) << s;
  }
}

TEST(CommitteeTest, LeaderScheduleVisitsEveryAuthority) {
  for (size_t n : {4u, 6u, 7u, 10u}) {
    Committee c = Committee::ForTest(Keys(n), std::vector<uint64_t>(n, 1), 1);
    std::vector<int> led(n, 0);
    for (Round r = 2; r <= 2 * n + 1; r += 2) led[c.Leader(r)]++;
    for (size_t i = 0; i < n; ++i) EXPECT_GT(led[i], 0) << "n=" << n << " authority " << i;
  }
}

TEST(CommitteeTest, FromProtoNamesTheBadField) {
  config::Committee proto;
  auto* a = proto.add_authorities();
  a->set_public_key("zz");
  a->set_stake(1);
  a->add_workers();
  auto c = Committee::FromProto(proto);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("committee.authorities[0].public_key"), std::string::npos)
      << c.status();
  a->set_public_key(std::string(64, 'a'));
  a->set_stake(0);
  c = Committee::FromProto(proto);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("authorities[0].stake"), std::string::npos);
  a->set_stake(3);
  EXPECT_TRUE(Committee::FromProto(proto).ok());
  auto* b = proto.add_authorities();
  *b = *a;
  c = Committee::FromProto(proto);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("authorities[1].public_key: duplicate"), std::string::npos);
  proto.clear_authorities();
  EXPECT_FALSE(Committee::FromProto(proto).ok());
}

}  // namespace
}  // namespace narwhal
