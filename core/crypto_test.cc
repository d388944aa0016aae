#include "core/crypto.h"

#include "gtest/gtest.h"

namespace narwhal {
namespace {

std::array<uint8_t, 32> Seed(uint8_t b) {
  std::array<uint8_t, 32> s{};
  s.fill(b);
  return s;
}

TEST(CryptoTest, Ed25519RoundTrip) {
  KeyPair kp = KeyPair::FromSeed(SignatureScheme::kEd25519, Seed(7));
  Signature sig = kp.Sign("hello");
  EXPECT_TRUE(Verify(SignatureScheme::kEd25519, kp.public_key, "hello", sig));
  EXPECT_FALSE(Verify(SignatureScheme::kEd25519, kp.public_key, "hellO", sig));
}

TEST(CryptoTest, TamperedSignatureRejected) {
  KeyPair kp = KeyPair::FromSeed(SignatureScheme::kEd25519, Seed(9));
  Signature sig = kp.Sign("message");
  for (size_t i : {0u, 31u, 63u}) {
    Signature bad = sig;
    bad[i] ^= 1;
    EXPECT_FALSE(Verify(SignatureScheme::kEd25519, kp.public_key, "message", bad)) << i;
  }
  KeyPair other = KeyPair::FromSeed(SignatureScheme::kEd25519, Seed(10));
  EXPECT_FALSE(Verify(SignatureScheme::kEd25519, other.public_key, "message", sig));
}

TEST(CryptoTest, SeedIsDeterministic) {
  KeyPair a = KeyPair::FromSeed(SignatureScheme::kEd25519, Seed(3));
  KeyPair b = KeyPair::FromSeed(SignatureScheme::kEd25519, Seed(3));
  EXPECT_EQ(a.public_key, b.public_key);
  EXPECT_EQ(a.Sign("x"), b.Sign("x"));  // Ed25519 signatures are deterministic
}

TEST(CryptoTest, InsecureSchemeRoundTripAndTamper) {
  KeyPair kp = KeyPair::FromSeed(SignatureScheme::kSimInsecure, Seed(4));
  Signature sig = kp.Sign("m");
  EXPECT_TRUE(Verify(SignatureScheme::kSimInsecure, kp.public_key, "m", sig));
  sig[5] ^= 0x80;
  EXPECT_FALSE(Verify(SignatureScheme::kSimInsecure, kp.public_key, "m", sig));
}

TEST(CryptoTest, VerifyCacheGivesTheSameAnswers) {
  KeyPair kp = KeyPair::FromSeed(SignatureScheme::kEd25519, Seed(12));
  Signature sig = kp.Sign("cached");
  Signature bad = sig;
  bad[3] ^= 1;
  SetThreadVerifyCache(2);
  for (int i = 0; i < 3; ++i) {  // hits, misses and a reset when full
    EXPECT_TRUE(Verify(SignatureScheme::kEd25519, kp.public_key, "cached", sig));
    EXPECT_FALSE(Verify(SignatureScheme::kEd25519, kp.public_key, "cached", bad));
    EXPECT_FALSE(Verify(SignatureScheme::kEd25519, kp.public_key, "cacheD", sig));
  }
  SetThreadVerifyCache(0);
  EXPECT_TRUE(Verify(SignatureScheme::kEd25519, kp.public_key, "cached", sig));
}

TEST(CryptoTest, Blake2bKnownAnswer) {
  // BLAKE2b-256 of the empty string (RFC 7693 parameterisation, 32-byte output).
  EXPECT_EQ(Blake2b256("").Hex(),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(Blake2b256("abc").Hex(),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(CryptoTest, HasherMatchesOneShot) {
  Hasher h;
  h.Update("ab");
  h.Update("c");
  EXPECT_EQ(h.Finish(), Blake2b256("abc"));
  Hasher g;
  g.UpdateU32(0x04030201);
  EXPECT_EQ(g.Finish(), Blake2b256(std::string("\x01\x02\x03\x04", 4)));
}

TEST(CryptoTest, HexRoundTrip) {
  KeyPair kp = KeyPair::FromSeed(SignatureScheme::kEd25519, Seed(1));
  auto back = PublicKeyFromHex(PublicKeyHex(kp.public_key));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, kp.public_key);
  EXPECT_FALSE(PublicKeyFromHex("abc").ok());
  EXPECT_FALSE(PublicKeyFromHex(std::string(64, 'g')).ok());
}

}  // namespace
}  // namespace narwhal
