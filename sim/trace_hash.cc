#include "sim/trace_hash.h"

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
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ data.size();
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, data.data() + i, 8);  // little-endian hosts only (x86-64, arm64)
    h = Mix64(h ^ w) * 0x9e3779b97f4a7c15ULL;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i < data.size(); ++i, ++k) {
    tail |= static_cast<uint64_t>(static_cast<unsigned char>(data[i])) << (8 * k);
  }
  return Mix64(h ^ tail);
}

void TraceHash::Mix(uint64_t v) { state_ = Mix64(state_ ^ Mix64(v + 0x632be59bd9b4e019ULL)); }

std::string TraceHash::Hex() const { return absl::StrFormat("%016x", state_); }

}  // namespace narwhal::sim
