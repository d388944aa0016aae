#include "transport_sim/trace_hash.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace narwhal::sim {
namespace {
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t Hash64(std::string_view data) {
  // Four independent lanes over 32-byte blocks, so the multiplies overlap;
  // then the tail 8 bytes at a time. Little-endian hosts only (x86-64, arm64).
  const char* p = data.data();
  size_t n = data.size();
  uint64_t h0 = 0x9e3779b97f4a7c15ULL ^ n, h1 = 0xc2b2ae3d27d4eb4fULL, h2 = 0x165667b19e3779f9ULL,
           h3 = 0x27d4eb2f165667c5ULL;
  auto load = [](const char* at) {
    uint64_t w;
    std::memcpy(&w, at, 8);
    return w;
  };
  for (; n >= 32; p += 32, n -= 32) {
    h0 = (h0 ^ load(p)) * 0x9e3779b97f4a7c15ULL;
    h1 = (h1 ^ load(p + 8)) * 0xbf58476d1ce4e5b9ULL;
    h2 = (h2 ^ load(p + 16)) * 0x94d049bb133111ebULL;
    h3 = (h3 ^ load(p + 24)) * 0xff51afd7ed558ccdULL;
    h0 ^= h0 >> 29;
    h1 ^= h1 >> 31;
    h2 ^= h2 >> 27;
    h3 ^= h3 >> 33;
  }
  uint64_t h = Mix64(h0) ^ Mix64(h1 + 1) ^ Mix64(h2 + 2) ^ Mix64(h3 + 3);
  for (; n >= 8; p += 8, n -= 8) h = Mix64(h ^ load(p)) * 0x9e3779b97f4a7c15ULL;
  uint64_t tail = 0;
  for (size_t k = 0; k < n; ++k) tail |= static_cast<uint64_t>(static_cast<unsigned char>(p[k])) << (8 * k);
  return Mix64(h ^ tail ^ (static_cast<uint64_t>(n) << 59));
}

void TraceHash::Mix(uint64_t v) { state_ = Mix64(state_ ^ Mix64(v + 0x632be59bd9b4e019ULL)); }

std::string TraceHash::Hex() const { return absl::StrFormat("%016x", state_); }

}  // namespace narwhal::sim
