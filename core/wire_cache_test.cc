#include "core/wire_cache.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace narwhal {
namespace {

// A stand-in message: "ok:<text>" parses to <text>, anything else fails.
int parses = 0;
absl::StatusOr<std::string> ParseText(std::string_view bytes) {
  ++parses;
  if (bytes.substr(0, 3) != "ok:") return absl::InvalidArgumentError("not ok");
  return std::string(bytes.substr(3));
}

class WireCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { parses = 0; }
  void TearDown() override { WireCache<std::string>::SetCapacity(0); }
};

TEST_F(WireCacheTest, OffParsesEveryTimeIntoDistinctObjects) {
  auto a = WireCache<std::string>::Get("ok:x", &ParseText);
  ASSERT_TRUE(a.ok());
  auto first = (*a)->value;
  auto b = WireCache<std::string>::Get("ok:x", &ParseText);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(parses, 2);
  EXPECT_EQ(*first, "x");
  EXPECT_NE(first.get(), (*b)->value.get());
  EXPECT_FALSE((*b)->CheckedBy(this));  // nothing is remembered when off
}

TEST_F(WireCacheTest, OnSharesOneParsedObjectPerExactBytes) {
  WireCache<std::string>::SetCapacity(16);
  auto a = WireCache<std::string>::Get("ok:x", &ParseText);
  ASSERT_TRUE(a.ok());
  auto first = (*a)->value;
  auto b = WireCache<std::string>::Get(std::string("ok:x"), &ParseText);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(first.get(), (*b)->value.get());
  auto c = WireCache<std::string>::Get("ok:y", &ParseText);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*(*c)->value, "y");
  EXPECT_EQ(parses, 2);
}

TEST_F(WireCacheTest, MalformedBytesAreReportedAndNotKept) {
  WireCache<std::string>::SetCapacity(16);
  EXPECT_FALSE(WireCache<std::string>::Get("bad", &ParseText).ok());
  EXPECT_FALSE(WireCache<std::string>::Get("bad", &ParseText).ok());
  EXPECT_EQ(parses, 2);
}

TEST_F(WireCacheTest, CheckResultIsPerContext) {
  WireCache<std::string>::SetCapacity(16);
  int context_a = 0, context_b = 0;
  auto e = WireCache<std::string>::Get("ok:x", &ParseText);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE((*e)->CheckedBy(&context_a));
  (*e)->MarkChecked(&context_a);
  auto again = WireCache<std::string>::Get("ok:x", &ParseText);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->CheckedBy(&context_a));
  EXPECT_FALSE((*again)->CheckedBy(&context_b));
  EXPECT_FALSE((*again)->CheckedBy(nullptr));
}

TEST_F(WireCacheTest, StartsOverWhenFullAndOnNewCapacity) {
  WireCache<std::string>::SetCapacity(2);
  int context = 0;
  auto a = WireCache<std::string>::Get("ok:a", &ParseText);
  (*a)->MarkChecked(&context);
  ASSERT_TRUE(WireCache<std::string>::Get("ok:b", &ParseText).ok());
  ASSERT_TRUE(WireCache<std::string>::Get("ok:c", &ParseText).ok());  // full: starts over
  auto a2 = WireCache<std::string>::Get("ok:a", &ParseText);
  EXPECT_FALSE((*a2)->CheckedBy(&context));
  EXPECT_EQ(parses, 4);
  (*a2)->MarkChecked(&context);
  WireCache<std::string>::SetCapacity(2);  // a new cluster: nothing carries over
  auto a3 = WireCache<std::string>::Get("ok:a", &ParseText);
  EXPECT_FALSE((*a3)->CheckedBy(&context));
}

}  // namespace
}  // namespace narwhal
