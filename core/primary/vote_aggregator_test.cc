#include "core/primary/vote_aggregator.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

constexpr SignatureScheme kScheme = SignatureScheme::kEd25519;

class VoteAggregatorTest : public ::testing::Test {
 protected:
  // Stakes 1, 1, 1, 2: the quorum is 2*5/3+1 = 4.
  VoteAggregatorTest() {
    std::vector<PublicKey> keys;
    for (uint8_t i = 0; i < 4; ++i) {
      std::array<uint8_t, 32> seed{};
      seed[0] = i + 1;
      keys_.push_back(KeyPair::FromSeed(kScheme, seed));
      keys.push_back(keys_.back().public_key);
    }
    committee_ = std::make_unique<Committee>(Committee::ForTest(keys, {1, 1, 1, 2}, 1));
    header_.author = 0;
    header_.round = 3;
    header_.parents = {Digest{}};
    header_.Seal();
    header_.signature = keys_[0].Sign(SigningBytes(header_.digest));
  }
  Vote VoteBy(AuthorityIndex a, const Header& h) {
    return Vote{h.digest, h.round, h.author, a, keys_[a].Sign(SigningBytes(h.digest))};
  }

  std::vector<KeyPair> keys_;
  std::unique_ptr<Committee> committee_;
  Header header_;
};

TEST_F(VoteAggregatorTest, FormsOneCertificateWhenTheStakeReachesAQuorum) {
  VoteAggregator agg(committee_.get(), kScheme, 0);
  agg.Start(header_);
  EXPECT_EQ(agg.stake(), 1u);
  EXPECT_FALSE(agg.Add(VoteBy(1, header_)).certificate.has_value());  // 2
  EXPECT_EQ(agg.Add(VoteBy(1, header_)).rejected, "duplicate_vote");
  EXPECT_EQ(agg.stake(), 2u);
  VoteAggregator::Result r = agg.Add(VoteBy(3, header_));  // 4: a quorum
  ASSERT_TRUE(r.certificate.has_value());
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_TRUE(agg.certified());
  EXPECT_EQ(r.certificate->header.digest, header_.digest);
  ASSERT_EQ(r.certificate->votes.size(), 3u);
  EXPECT_EQ(r.certificate->votes[0].first, 0u);
  EXPECT_EQ(r.certificate->votes[2].first, 3u);
  ASSERT_TRUE(r.certificate->encoded);
  // Late votes for a certified header count for nothing.
  EXPECT_EQ(agg.Add(VoteBy(2, header_)).rejected, "stale_vote");
}

TEST_F(VoteAggregatorTest, RejectsVotesForAnotherHeaderOrWithBadSignatures) {
  VoteAggregator agg(committee_.get(), kScheme, 0);
  EXPECT_EQ(agg.Add(VoteBy(1, header_)).rejected, "stale_vote");  // nothing in flight
  agg.Start(header_);
  Header other = header_;
  other.round = 4;
  other.Seal();
  EXPECT_EQ(agg.Add(VoteBy(1, other)).rejected, "stale_vote");
  Vote forged = VoteBy(3, header_);
  forged.signature[1] ^= 1;
  EXPECT_EQ(agg.Add(forged).rejected, "bad_signature");
  EXPECT_EQ(agg.stake(), 1u);
  // A new header starts over: the old votes do not carry.
  EXPECT_FALSE(agg.Add(VoteBy(3, header_)).certificate.has_value());
  other.signature = keys_[0].Sign(SigningBytes(other.digest));
  agg.Start(other);
  EXPECT_EQ(agg.stake(), 1u);
  EXPECT_EQ(agg.votes().size(), 1u);
}

TEST_F(VoteAggregatorTest, ACommitteeOfOneCertifiesAlone) {
  std::array<uint8_t, 32> seed{};
  KeyPair k = KeyPair::FromSeed(kScheme, seed);
  Committee one = Committee::ForTest({k.public_key}, {1}, 1);
  Header h = header_;
  h.Seal();
  h.signature = k.Sign(SigningBytes(h.digest));
  VoteAggregator agg(&one, kScheme, 0);
  EXPECT_FALSE(agg.CertifyAlone().has_value());
  agg.Start(h);
  EXPECT_TRUE(agg.CertifyAlone().has_value());
  EXPECT_FALSE(agg.CertifyAlone().has_value());  // once
  // Four authorities need votes.
  VoteAggregator four(committee_.get(), kScheme, 0);
  four.Start(header_);
  EXPECT_FALSE(four.CertifyAlone().has_value());
}

TEST_F(VoteAggregatorTest, OnlyOurOwnHeadersAreCollected) {
  VoteAggregator agg(committee_.get(), kScheme, 1);
  EXPECT_DEATH(agg.Start(header_), "");
}

}  // namespace
}  // namespace narwhal
