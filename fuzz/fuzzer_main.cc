// The libFuzzer entry point of one harness (built under --config=fuzz; the
// harness is chosen by the NARWHAL_HARNESS define, see fuzz.bzl).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/harness.h"
#include "glog/logging.h"

namespace narwhal::fuzz {
extern const Harness NARWHAL_HARNESS;
}

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Product code logs every malformed input at WARNING: millions of lines
  // and most of the time. Errors and check failures still print.
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 2;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  narwhal::fuzz::NARWHAL_HARNESS.run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
