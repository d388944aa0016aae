// The sender header of every ZeroMQ frame (transport_zmq/sender_header.h):
// 9 bytes, version 1, authority and role big-endian. Checks: what decodes
// encodes back to the same 9 bytes; anything else (another length, another
// version) is refused; every endpoint encodes and decodes to itself.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/harness.h"
#include "glog/logging.h"
#include "transport_zmq/sender_header.h"

namespace narwhal::fuzz {
namespace {

std::string_view View(const std::array<char, kSenderHeaderBytes>& a) {
  return std::string_view(a.data(), a.size());
}

void Run(std::string_view data) {
  std::optional<Endpoint> decoded = DecodeSenderHeader(data);
  const bool well_formed = data.size() == kSenderHeaderBytes && static_cast<uint8_t>(data[0]) == kSenderHeaderVersion;
  CHECK_EQ(decoded.has_value(), well_formed);
  if (decoded.has_value()) {
    CHECK(View(EncodeSenderHeader(*decoded)) == data) << "decode then encode changed the bytes";
  }
  Input in(data);
  const Endpoint e{in.U32(), in.U32()};
  const auto encoded = EncodeSenderHeader(e);
  CHECK_EQ(static_cast<uint8_t>(encoded[0]), kSenderHeaderVersion);
  std::optional<Endpoint> back = DecodeSenderHeader(View(encoded));
  CHECK(back.has_value() && *back == e) << e.ToString();
}

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  for (const Endpoint& e : {Endpoint::Primary(0), Endpoint::Worker(3, 0), Endpoint::Worker(0xffffffffu, 15)}) {
    out.push_back({"header_" + e.ToString(), std::string(View(EncodeSenderHeader(e)))});
  }
  out.push_back({"version_2", std::string("\x02\0\0\0\1\0\0\0\0", 9)});
  out.push_back({"short", std::string("\x01\0\0\0\1", 5)});
  return out;
}

}  // namespace

extern const Harness kSenderHeaderHarness = {"sender_header", &Run, &Seeds};

}  // namespace narwhal::fuzz
