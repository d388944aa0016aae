#include "transport_zmq/curve_keys.h"

#include <zmq.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "transport_zmq/zmq_status.h"

namespace narwhal {

absl::StatusOr<CurveKeyPair> GenerateCurveKeyPair() {
  // zmq_curve_keypair writes 40 characters plus a terminating NUL.
  char public_z85[kCurveKeyZ85Chars + 1] = {};
  char secret_z85[kCurveKeyZ85Chars + 1] = {};
  if (zmq_curve_keypair(public_z85, secret_z85) != 0) {
    return ZmqErrnoToStatus(zmq_errno(), "zmq_curve_keypair");
  }
  CurveKeyPair pair;
  absl::StatusOr<std::string> public_key = Z85Decode(public_z85);
  absl::StatusOr<std::string> secret_key = Z85Decode(secret_z85);
  if (!public_key.ok()) return public_key.status();
  if (!secret_key.ok()) return secret_key.status();
  pair.public_key = *std::move(public_key);
  pair.secret_key = *std::move(secret_key);
  return pair;
}

absl::StatusOr<std::string> CurvePublicFromSecret(std::string_view secret_key) {
  if (secret_key.size() != kCurveKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "curve secret key must be ", kCurveKeyBytes, " bytes, got ", secret_key.size()));
  }
  absl::StatusOr<std::string> secret_z85 = Z85Encode(secret_key);
  if (!secret_z85.ok()) return secret_z85.status();
  char public_z85[kCurveKeyZ85Chars + 1] = {};
  if (zmq_curve_public(public_z85, secret_z85->c_str()) != 0) {
    return ZmqErrnoToStatus(zmq_errno(), "zmq_curve_public");
  }
  return Z85Decode(public_z85);
}

absl::StatusOr<std::string> Z85Encode(std::string_view raw) {
  if (raw.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Z85 encoding needs a multiple of 4 bytes, got ", raw.size()));
  }
  // zmq_z85_encode writes size * 5 / 4 characters and a NUL.
  std::string text(raw.size() * 5 / 4 + 1, '\0');
  if (zmq_z85_encode(text.data(), reinterpret_cast<const uint8_t*>(raw.data()), raw.size()) ==
      nullptr) {
    return absl::InvalidArgumentError("Z85 encoding failed");
  }
  text.pop_back();
  return text;
}

absl::StatusOr<std::string> Z85Decode(std::string_view text) {
  if (text.size() % 5 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Z85 text must be a multiple of 5 characters, got ", text.size()));
  }
  // zmq_z85_decode wants a NUL-terminated string; string_view need not be.
  std::string terminated(text);
  std::string raw(text.size() * 4 / 5, '\0');
  if (zmq_z85_decode(reinterpret_cast<uint8_t*>(raw.data()), terminated.c_str()) == nullptr) {
    return absl::InvalidArgumentError("Z85 text contains a character outside the Z85 alphabet");
  }
  return raw;
}

}  // namespace narwhal
