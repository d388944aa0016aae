#include "core/wire_format.h"

#include <cstdint>
#include <string>

#include "core/messages.pb.h"
#include "gtest/gtest.h"

namespace narwhal {
namespace {

TEST(WireFormatTest, VarintsRoundTripAndMatchProtobuf) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300},
                     uint64_t{1} << 35, ~uint64_t{0}}) {
    std::string s;
    AppendVarint(s, v);
    EXPECT_EQ(s.size(), VarintSize(v));
    size_t at = 0;
    uint64_t back = 0;
    ASSERT_TRUE(ReadVarint(s, &at, &back));
    EXPECT_EQ(back, v);
    EXPECT_EQ(at, s.size());
    // Same bytes as protobuf's own encoding of a uint64 field (after its tag).
    wire::Cleanup c;
    c.set_round(v);
    if (v != 0) EXPECT_EQ(c.SerializeAsString().substr(1), s);
  }
}

TEST(WireFormatTest, RejectsTruncatedOverlongAndOverflowingVarints) {
  size_t at = 0;
  uint64_t v = 0;
  EXPECT_FALSE(ReadVarint(std::string("\x80\x80", 2), &at, &v));
  at = 0;
  EXPECT_FALSE(ReadVarint(std::string(11, '\x80'), &at, &v));
  at = 0;
  EXPECT_FALSE(ReadVarint(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10), &at, &v));
  at = 0;
  EXPECT_TRUE(ReadVarint(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10), &at, &v));
  EXPECT_EQ(v, ~uint64_t{0});
}

TEST(WireFormatTest, LengthDelimitedStaysInsideTheInput) {
  std::string s;
  AppendVarint(s, 3);
  s += "abcd";
  size_t at = 0;
  std::string_view field;
  ASSERT_TRUE(ReadLengthDelimited(s, &at, &field));
  EXPECT_EQ(field, "abc");
  EXPECT_EQ(at, 4u);
  std::string too_long;
  AppendVarint(too_long, 9);
  too_long += "abc";
  at = 0;
  EXPECT_FALSE(ReadLengthDelimited(too_long, &at, &field));
}

}  // namespace
}  // namespace narwhal
