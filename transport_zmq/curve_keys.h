// CurveZMQ key material: generating a keypair and moving keys between their
// raw 32-byte form (what the transport's options and ZAP requests carry) and
// Z85 text (what config files and `zmq_curve_keypair` use).
//
// Example:
//   absl::StatusOr<CurveKeyPair> keys = GenerateCurveKeyPair();
//   std::string text = *Z85Encode(keys->public_key);  // 40 characters
//   std::string raw = *Z85Decode(text);               // == keys->public_key
#ifndef NARWHAL_TRANSPORT_ZMQ_CURVE_KEYS_H_
#define NARWHAL_TRANSPORT_ZMQ_CURVE_KEYS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace narwhal {

constexpr size_t kCurveKeyBytes = 32;
constexpr size_t kCurveKeyZ85Chars = 40;

// Raw 32-byte Curve25519 keys.
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};

// Fails if libzmq was built without CURVE support.
absl::StatusOr<CurveKeyPair> GenerateCurveKeyPair();

// Derives the public key from a raw 32-byte secret key (so a node's key file
// need only hold the secret).
absl::StatusOr<std::string> CurvePublicFromSecret(std::string_view secret_key);

// Z85 (ZeroMQ RFC 32). Encoding needs a length that is a multiple of 4,
// decoding a length that is a multiple of 5 and only Z85 characters.
absl::StatusOr<std::string> Z85Encode(std::string_view raw);
absl::StatusOr<std::string> Z85Decode(std::string_view text);

}  // namespace narwhal

#endif  // NARWHAL_TRANSPORT_ZMQ_CURVE_KEYS_H_
