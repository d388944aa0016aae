#include "core/crypto.h"

#include <sodium.h>

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {
namespace {

void EnsureSodium() {
  static const bool ok = [] { return sodium_init() >= 0; }();
  CHECK(ok) << "libsodium failed to initialise";
}

static_assert(sizeof(crypto_generichash_state) <= 384, "Hasher state too small");

}  // namespace

KeyPair KeyPair::FromSeed(SignatureScheme scheme, const std::array<uint8_t, 32>& seed) {
  EnsureSodium();
  KeyPair kp;
  kp.scheme = scheme;
  if (scheme == SignatureScheme::kEd25519) {
    crypto_sign_seed_keypair(kp.public_key.data(), kp.secret_key.data(), seed.data());
  } else {
    Digest pk = Blake2b256(std::string_view(reinterpret_cast<const char*>(seed.data()), 32));
    std::memcpy(kp.public_key.data(), pk.bytes.data(), 32);
    std::memcpy(kp.secret_key.data(), seed.data(), 32);
    std::memcpy(kp.secret_key.data() + 32, pk.bytes.data(), 32);
  }
  return kp;
}

namespace {
// The insecure scheme: H(public || message), twice to fill 64 bytes.
Signature InsecureSign(const PublicKey& key, std::string_view message) {
  Hasher h;
  h.Update(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  h.Update(message);
  Digest d = h.Finish();
  Signature sig{};
  std::memcpy(sig.data(), d.bytes.data(), 32);
  std::memcpy(sig.data() + 32, d.bytes.data(), 32);
  return sig;
}
}  // namespace

Signature KeyPair::Sign(std::string_view message) const {
  EnsureSodium();
  if (scheme == SignatureScheme::kSimInsecure) return InsecureSign(public_key, message);
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_key.data());
  return sig;
}

namespace {

struct VerifyCache {
  size_t capacity = 0;
  absl::flat_hash_map<std::string, bool> results;  // lookup only
};
thread_local VerifyCache verify_cache;

bool VerifyUncached(SignatureScheme scheme, const PublicKey& key, std::string_view message,
                    const Signature& signature);

}  // namespace

void SetThreadVerifyCache(size_t entries) {
  verify_cache.capacity = entries;
  verify_cache.results.clear();
}

bool Verify(SignatureScheme scheme, const PublicKey& key, std::string_view message,
            const Signature& signature) {
  constexpr size_t kMaxCachedMessage = 64;
  if (verify_cache.capacity == 0 || message.size() > kMaxCachedMessage) {
    return VerifyUncached(scheme, key, message, signature);
  }
  std::string k;
  k.reserve(1 + key.size() + signature.size() + message.size());
  k.push_back(static_cast<char>(scheme));
  k.append(reinterpret_cast<const char*>(key.data()), key.size());
  k.append(reinterpret_cast<const char*>(signature.data()), signature.size());
  k.append(message);
  if (auto it = verify_cache.results.find(k); it != verify_cache.results.end()) return it->second;
  const bool ok = VerifyUncached(scheme, key, message, signature);
  if (verify_cache.results.size() >= verify_cache.capacity) verify_cache.results.clear();
  verify_cache.results.emplace(std::move(k), ok);
  return ok;
}

namespace {

bool VerifyUncached(SignatureScheme scheme, const PublicKey& key, std::string_view message,
                    const Signature& signature) {
  EnsureSodium();
  if (scheme == SignatureScheme::kSimInsecure) {
    return InsecureSign(key, message) == signature;
  }
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

}  // namespace

Digest Blake2b256(std::string_view data) {
  EnsureSodium();
  Digest d;
  crypto_generichash(d.bytes.data(), Digest::kSize,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(), nullptr, 0);
  return d;
}

Hasher::Hasher() {
  EnsureSodium();
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0,
                          Digest::kSize);
}

void Hasher::Update(std::string_view data) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

void Hasher::UpdateU32(uint32_t v) {
  unsigned char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  Update(std::string_view(reinterpret_cast<const char*>(b), 4));
}

void Hasher::UpdateU64(uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  Update(std::string_view(reinterpret_cast<const char*>(b), 8));
}

Digest Hasher::Finish() {
  Digest d;
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), d.bytes.data(),
                           Digest::kSize);
  return d;
}

std::string PublicKeyHex(const PublicKey& key) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

absl::StatusOr<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return absl::InvalidArgumentError("hex string has odd length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat("not a hex digit at offset ", 2 * i));
    }
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

absl::StatusOr<PublicKey> PublicKeyFromHex(std::string_view hex) {
  auto raw = HexDecode(hex);
  if (!raw.ok()) return raw.status();
  if (raw->size() != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key must be 32 bytes (64 hex digits), got ", raw->size()));
  }
  PublicKey key{};
  std::memcpy(key.data(), raw->data(), 32);
  return key;
}

}  // namespace narwhal
