// Basic value types shared by every part of the core: indices, rounds,
// virtual/monotonic time, digests and transport endpoints.
#ifndef NARWHAL_CORE_TYPES_H_
#define NARWHAL_CORE_TYPES_H_

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace narwhal {

// Index of an authority in committee order (0..n-1).
using AuthorityIndex = uint32_t;
using WorkerId = uint32_t;
using Round = uint64_t;
// Monotonic time in microseconds: virtual in the simulator, steady clock in
// the node. Signed so that differences are safe.
using TimeUs = int64_t;

constexpr TimeUs kMillisecondUs = 1000;
constexpr TimeUs kSecondUs = 1000 * 1000;

// A BLAKE2b-256 digest. Ordered bytewise so it can key deterministic maps.
struct Digest {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};

  // Word-wise comparisons: digests key the hottest maps of the primary, and
  // a library memcmp call per comparison showed up in profiles. The order is
  // the same as bytewise (big-endian words).
  std::strong_ordering operator<=>(const Digest& o) const {
    for (size_t i = 0; i < kSize; i += 8) {
      const uint64_t a = Word(i), b = o.Word(i);
      if (a != b) return a < b ? std::strong_ordering::less : std::strong_ordering::greater;
    }
    return std::strong_ordering::equal;
  }
  bool operator==(const Digest& o) const {
    uint64_t diff = 0;
    for (size_t i = 0; i < kSize; i += 8) diff |= RawWord(i) ^ o.RawWord(i);
    return diff == 0;
  }

  std::string ToBytes() const {
    return std::string(reinterpret_cast<const char*>(bytes.data()), kSize);
  }
  // Fails unless `raw` is exactly kSize bytes.
  static absl::StatusOr<Digest> FromBytes(std::string_view raw);
  std::string Hex() const;
  // First 8 hex characters: for logs.
  std::string Short() const { return Hex().substr(0, 8); }

  uint64_t RawWord(size_t at) const {
    uint64_t w;
    std::memcpy(&w, bytes.data() + at, 8);
    return w;
  }
  // Big-endian word: one load and a byte swap (a shift loop compiled to
  // eight steps and led the profile of the parent check).
  uint64_t Word(size_t at) const {
    const uint64_t w = RawWord(at);
    if constexpr (std::endian::native == std::endian::little) return __builtin_bswap64(w);
    return w;
  }

  // A digest is already uniformly distributed: 8 of its bytes are a good
  // hash-table key, and hashing all 32 was a visible cost in large
  // committees (lookups only; never used to order anything).
  template <typename H>
  friend H AbslHashValue(H h, const Digest& d) {
    return H::combine(std::move(h), d.RawWord(0));
  }
};

// Who a frame is for or from: the primary (role 0) or worker k (role k+1)
// of an authority.
struct Endpoint {
  AuthorityIndex authority = 0;
  uint32_t role = 0;

  static constexpr uint32_t kPrimaryRole = 0;
  static Endpoint Primary(AuthorityIndex a) { return {a, kPrimaryRole}; }
  static Endpoint Worker(AuthorityIndex a, WorkerId w) { return {a, w + 1}; }
  bool is_primary() const { return role == kPrimaryRole; }
  WorkerId worker_id() const { return role - 1; }

  auto operator<=>(const Endpoint&) const = default;
  bool operator==(const Endpoint&) const = default;
  std::string ToString() const;

  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(std::move(h), e.authority, e.role);
  }
};

std::string HexEncode(std::string_view raw);

}  // namespace narwhal

#endif  // NARWHAL_CORE_TYPES_H_
