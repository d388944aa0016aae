// Signatures and digests. Ed25519 and BLAKE2b-256 come from libsodium (the
// library ZeroMQ already uses for CurveZMQ). A second, simulation-only scheme
// (kSimInsecure) makes huge simulated committees cheap: it is a keyed hash
// anyone holding the public key can forge, so the node refuses to use it.
//
//   KeyPair kp = KeyPair::FromSeed(SignatureScheme::kEd25519, seed);
//   Signature sig = kp.Sign(message);
//   CHECK(Verify(kp.scheme, kp.public_key, message, sig));
#ifndef NARWHAL_CORE_CRYPTO_H_
#define NARWHAL_CORE_CRYPTO_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/types.h"

namespace narwhal {

enum class SignatureScheme : uint8_t {
  kEd25519 = 0,
  kSimInsecure = 1,  // simulator only: fast, forgeable by design
};

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

struct KeyPair {
  SignatureScheme scheme = SignatureScheme::kEd25519;
  PublicKey public_key{};
  std::array<uint8_t, 64> secret_key{};  // libsodium layout: seed || public

  // Deterministic: the same 32-byte seed gives the same key pair.
  static KeyPair FromSeed(SignatureScheme scheme, const std::array<uint8_t, 32>& seed);
  Signature Sign(std::string_view message) const;
};

bool Verify(SignatureScheme scheme, const PublicKey& key, std::string_view message,
            const Signature& signature);

// Remembers the results of Verify on this thread (at most `entries`, then it
// starts over). Verification is a pure function, so this changes no outcome;
// the simulator turns it on because every simulated node verifies the same
// certificates again (n times per certificate). 0 turns it off.
void SetThreadVerifyCache(size_t entries);

// BLAKE2b with a 32-byte output.
Digest Blake2b256(std::string_view data);

// Incremental BLAKE2b-256 for digests over several pieces.
class Hasher {
 public:
  Hasher();
  void Update(std::string_view data);
  void UpdateU32(uint32_t v);  // little-endian
  void UpdateU64(uint64_t v);  // little-endian
  Digest Finish();

 private:
  alignas(64) unsigned char state_[384];
};

std::string PublicKeyHex(const PublicKey& key);
absl::StatusOr<PublicKey> PublicKeyFromHex(std::string_view hex);
absl::StatusOr<std::string> HexDecode(std::string_view hex);

}  // namespace narwhal

#endif  // NARWHAL_CORE_CRYPTO_H_
