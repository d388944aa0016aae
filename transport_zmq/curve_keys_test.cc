#include "transport_zmq/curve_keys.h"

#include "gtest/gtest.h"

namespace narwhal {
namespace {

TEST(CurveKeysTest, GeneratedPairIsRawAndConsistent) {
  absl::StatusOr<CurveKeyPair> pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ(pair->public_key.size(), kCurveKeyBytes);
  EXPECT_EQ(pair->secret_key.size(), kCurveKeyBytes);
  absl::StatusOr<std::string> derived = CurvePublicFromSecret(pair->secret_key);
  ASSERT_TRUE(derived.ok()) << derived.status();
  EXPECT_EQ(*derived, pair->public_key);

  absl::StatusOr<CurveKeyPair> other = GenerateCurveKeyPair();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->public_key, pair->public_key);
}

TEST(CurveKeysTest, Z85RoundTripsAndMatchesTheRfcVector) {
  // ZeroMQ RFC 32 test vector.
  const std::string raw("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8);
  absl::StatusOr<std::string> text = Z85Encode(raw);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "HelloWorld");
  absl::StatusOr<std::string> back = Z85Decode(*text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, raw);

  absl::StatusOr<CurveKeyPair> pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  absl::StatusOr<std::string> key_text = Z85Encode(pair->public_key);
  ASSERT_TRUE(key_text.ok());
  EXPECT_EQ(key_text->size(), kCurveKeyZ85Chars);
  EXPECT_EQ(*Z85Decode(*key_text), pair->public_key);
}

TEST(CurveKeysTest, BadInputsAreErrors) {
  EXPECT_EQ(Z85Encode("abc").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Z85Decode("abcd").status().code(), absl::StatusCode::kInvalidArgument);
  // '~' and ' ' are not in the Z85 alphabet.
  EXPECT_EQ(Z85Decode("Hell~").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CurvePublicFromSecret("short").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace narwhal
