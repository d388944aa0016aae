// A running 64-bit hash over everything that happened in a run (frames
// delivered, timers fired, commits): two runs of one seed must end with the
// same value. Not cryptographic; it only has to notice differences.
#ifndef NARWHAL_TRANSPORT_SIM_TRACE_HASH_H_
#define NARWHAL_TRANSPORT_SIM_TRACE_HASH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace narwhal::sim {

// Fast 64-bit hash of a byte string (8 bytes at a time, multiply-mix).
uint64_t Hash64(std::string_view data);

class TraceHash {
 public:
  void Mix(uint64_t v);
  void MixBytes(std::string_view data) { Mix(Hash64(data)); }
  uint64_t value() const { return state_; }
  std::string Hex() const;

 private:
  uint64_t state_ = 0x6a09e667f3bcc908ULL;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_TRANSPORT_SIM_TRACE_HASH_H_
