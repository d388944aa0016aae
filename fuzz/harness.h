// A fuzz harness: the checks one libFuzzer binary runs on every input, and
// that the harness's replay test (a gtest, built by the default toolchain)
// runs on every committed input: the seed corpus (fuzz/corpus/<name>/), the
// crash reproducers (fuzz/regressions/<name>/) and the seeds the harness
// makes from the real encoders right now. A failed check aborts with a
// message (glog's CHECK): libFuzzer records a crash, the replay test fails.
// So every crash found becomes a regression test by copying one file.
//
// Checks are about behaviour, not only the absence of crashes: what decodes
// re-encodes to the same value, a rejected input gets a non-OK status with a
// message, limits hold. See docs/fuzzing.md.
//
//   // foo_harness.cc
//   namespace { void Run(std::string_view data) { ... CHECK(...) ...; }
//               std::vector<Seed> Seeds() { ... } }
//   extern const Harness kFooHarness = {"foo", &Run, &Seeds};
#ifndef NARWHAL_FUZZ_HARNESS_H_
#define NARWHAL_FUZZ_HARNESS_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace narwhal::fuzz {

// A named input, made by real encoders (the generator writes it to
// fuzz/corpus/<harness>/<name>).
using Seed = std::pair<std::string, std::string>;

struct Harness {
  const char* name;                   // the corpus folder and target prefix
  void (*run)(std::string_view data);
  std::vector<Seed> (*seeds)();
};

// Reads fuzz bytes as values; past the end it yields zeros and empty
// strings, so a harness never needs to check the length first.
class Input {
 public:
  explicit Input(std::string_view data) : data_(data) {}
  uint8_t U8() { return at_ < data_.size() ? static_cast<uint8_t>(data_[at_++]) : 0; }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{U8()} << (8 * i);
    return v;
  }
  uint64_t U64() { return uint64_t{U32()} | (uint64_t{U32()} << 32); }
  bool Bool() { return (U8() & 1) != 0; }
  // Up to `n` bytes.
  std::string_view Bytes(size_t n) {
    n = std::min(n, data_.size() - at_);
    std::string_view out = data_.substr(at_, n);
    at_ += n;
    return out;
  }
  // A length byte, then that many bytes.
  std::string_view ShortBytes() { return Bytes(U8()); }
  std::string_view Rest() { return Bytes(data_.size() - at_); }
  bool empty() const { return at_ >= data_.size(); }

 private:
  std::string_view data_;
  size_t at_ = 0;
};

}  // namespace narwhal::fuzz

#endif  // NARWHAL_FUZZ_HARNESS_H_
