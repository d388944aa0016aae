#include "transport_zmq/sender_header.h"

#include <string>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

std::string Bytes(const Endpoint& e) {
  auto header = EncodeSenderHeader(e);
  return std::string(header.data(), header.size());
}

TEST(SenderHeaderTest, RoundTripsIncludingExtremes) {
  for (Endpoint e : {Endpoint::Primary(0), Endpoint::Worker(3, 7),
                     Endpoint{0xFFFFFFFFu, 0xFFFFFFFFu}}) {
    std::optional<Endpoint> back = DecodeSenderHeader(Bytes(e));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, e);
  }
}

TEST(SenderHeaderTest, LayoutIsVersionThenBigEndianFields) {
  EXPECT_EQ(Bytes(Endpoint{0x01020304u, 0x0A0B0C0Du}),
            std::string("\x01\x01\x02\x03\x04\x0A\x0B\x0C\x0D", 9));
}

TEST(SenderHeaderTest, RejectsWrongLengthOrVersion) {
  std::string good = Bytes(Endpoint::Primary(1));
  EXPECT_FALSE(DecodeSenderHeader("").has_value());
  EXPECT_FALSE(DecodeSenderHeader(good.substr(0, 8)).has_value());
  EXPECT_FALSE(DecodeSenderHeader(good + "x").has_value());
  std::string other_version = good;
  other_version[0] = 2;
  EXPECT_FALSE(DecodeSenderHeader(other_version).has_value());
}

}  // namespace
}  // namespace narwhal
