#include "core/primary/message_checks.h"

#include <vector>

#include "core/limits.h"
#include "gtest/gtest.h"

namespace narwhal {
namespace {

constexpr SignatureScheme kScheme = SignatureScheme::kEd25519;

class MessageChecksTest : public ::testing::Test {
 protected:
  MessageChecksTest() {
    std::vector<PublicKey> keys;
    for (uint8_t i = 0; i < 4; ++i) {
      std::array<uint8_t, 32> seed{};
      seed[0] = i + 1;
      keys_.push_back(KeyPair::FromSeed(kScheme, seed));
      keys.push_back(keys_.back().public_key);
    }
    committee_ = std::make_unique<Committee>(Committee::ForTest(keys, {1, 1, 1, 1}, 2));
  }

  Header SignedHeader(AuthorityIndex author, Round round) {
    Header h;
    h.author = author;
    h.round = round;
    h.parents = {Digest{}};
    h.payload = {{Digest{}, 1}};
    h.Seal();
    h.signature = keys_[author].Sign(SigningBytes(h.digest));
    return h;
  }
  Certificate Certified(const Header& h, std::vector<AuthorityIndex> voters) {
    Certificate c;
    c.header = h;
    for (AuthorityIndex v : voters) c.votes.emplace_back(v, keys_[v].Sign(SigningBytes(h.digest)));
    c.Seal();
    return c;
  }

  std::vector<KeyPair> keys_;
  std::unique_ptr<Committee> committee_;
};

TEST_F(MessageChecksTest, AcceptsAWellFormedSignedHeader) {
  EXPECT_TRUE(CheckHeader(*committee_, kScheme, SignedHeader(2, 5), true).ok());
}

TEST_F(MessageChecksTest, RejectsEachMalformedField) {
  Header h = SignedHeader(1, 3);
  h.author = 4;
  EXPECT_EQ(CheckHeader(*committee_, kScheme, h, false).code(), absl::StatusCode::kInvalidArgument);
  h = SignedHeader(1, 3);
  h.round = 0;
  EXPECT_EQ(CheckHeader(*committee_, kScheme, h, false).code(), absl::StatusCode::kInvalidArgument);
  h = SignedHeader(1, 3);
  h.parents.clear();
  EXPECT_EQ(CheckHeader(*committee_, kScheme, h, false).code(), absl::StatusCode::kInvalidArgument);
  h.parents.assign(5, Digest{});
  EXPECT_EQ(CheckHeader(*committee_, kScheme, h, false).code(), absl::StatusCode::kInvalidArgument);
  h = SignedHeader(1, 3);
  h.payload = {{Digest{}, 2}};  // two workers: 0 and 1
  EXPECT_EQ(CheckHeader(*committee_, kScheme, h, false).code(), absl::StatusCode::kInvalidArgument);
  h = SignedHeader(1, 3);
  h.payload.assign(limits::kHeaderPayloadDigestsMax + 1, BatchRef{Digest{}, 0});
  EXPECT_EQ(CheckHeader(*committee_, kScheme, h, false).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MessageChecksTest, ABadSignatureIsPermissionDeniedOnlyWhenAsked) {
  Header h = SignedHeader(1, 3);
  h.signature[0] ^= 0xff;
  EXPECT_EQ(CheckHeader(*committee_, kScheme, h, true).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckHeader(*committee_, kScheme, h, false).ok());
  // Signed by someone else.
  Header other = SignedHeader(1, 3);
  other.signature = keys_[2].Sign(SigningBytes(other.digest));
  EXPECT_EQ(CheckHeader(*committee_, kScheme, other, true).code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(MessageChecksTest, ACertificateNeedsQuorumStakeOfValidDistinctVotes) {
  const Header h = SignedHeader(0, 4);
  EXPECT_TRUE(CheckCertificate(*committee_, kScheme, Certified(h, {0, 1, 3})).ok());
  EXPECT_EQ(CheckCertificate(*committee_, kScheme, Certified(h, {0, 1})).code(),
            absl::StatusCode::kInvalidArgument);
  // One vote twice does not make a quorum.
  EXPECT_EQ(CheckCertificate(*committee_, kScheme, Certified(h, {0, 1, 1})).code(),
            absl::StatusCode::kInvalidArgument);
  Certificate forged = Certified(h, {0, 1, 2});
  forged.votes[2].second[5] ^= 1;
  EXPECT_EQ(CheckCertificate(*committee_, kScheme, forged).code(), absl::StatusCode::kPermissionDenied);
  Certificate stranger = Certified(h, {0, 1, 2});
  stranger.votes.emplace_back(7, stranger.votes[0].second);
  EXPECT_EQ(CheckCertificate(*committee_, kScheme, stranger).code(), absl::StatusCode::kInvalidArgument);
  Header unsigned_header = h;
  unsigned_header.signature[0] ^= 0xff;
  EXPECT_EQ(CheckCertificate(*committee_, kScheme, Certified(unsigned_header, {0, 1, 2})).code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace narwhal
