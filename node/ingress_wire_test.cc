#include "node/ingress_wire.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "node/client.pb.h"

namespace narwhal::node {
namespace {

std::string Serialize(uint64_t request_id, const std::vector<std::string>& txs) {
  client::IngressRequest r;
  r.mutable_submit()->set_request_id(request_id);
  for (const std::string& tx : txs) r.mutable_submit()->add_transactions(tx);
  return r.SerializeAsString();
}

// Whenever the fast reader answers, it must answer what protobuf reads.
void ExpectAgreesWithProtobuf(const std::string& bytes, size_t max) {
  std::optional<SubmitView> fast = ParseSubmitFast(bytes, max);
  if (!fast.has_value()) return;
  client::IngressRequest r;
  ASSERT_TRUE(r.ParseFromString(bytes));
  ASSERT_TRUE(r.has_submit());
  EXPECT_EQ(fast->request_id, r.submit().request_id());
  ASSERT_EQ(fast->transactions.size(), static_cast<size_t>(r.submit().transactions_size()));
  for (size_t i = 0; i < fast->transactions.size(); ++i) {
    EXPECT_EQ(fast->transactions[i], r.submit().transactions(static_cast<int>(i)));
  }
}

TEST(IngressWireTest, ReadsWhatProtobufWrites) {
  for (uint64_t id : {uint64_t{0}, uint64_t{1}, uint64_t{300}, ~uint64_t{0}}) {
    const std::string bytes = Serialize(id, {"a", std::string(1000, 'x'), "", "zz"});
    std::optional<SubmitView> fast = ParseSubmitFast(bytes, 10);
    ASSERT_TRUE(fast.has_value()) << id;
    EXPECT_EQ(fast->request_id, id);
    ASSERT_EQ(fast->transactions.size(), 4u);
    EXPECT_EQ(fast->transactions[1], std::string(1000, 'x'));
    EXPECT_EQ(fast->transactions[2], "");
    ExpectAgreesWithProtobuf(bytes, 10);
  }
  std::optional<SubmitView> empty = ParseSubmitFast(Serialize(5, {}), 10);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->transactions.empty());
}

TEST(IngressWireTest, LeavesEverythingElseToProtobuf) {
  EXPECT_FALSE(ParseSubmitFast("", 10).has_value());  // no submit at all
  EXPECT_FALSE(ParseSubmitFast(Serialize(1, {"a", "b", "c"}), 2).has_value());  // over the cap
  const std::string good = Serialize(7, {"abc", "de"});
  EXPECT_FALSE(ParseSubmitFast(good + good, 10).has_value());  // submit twice (protobuf merges)
  EXPECT_FALSE(ParseSubmitFast(good.substr(0, good.size() - 1), 10).has_value());  // truncated
  // request_id after a transaction, an unknown field: valid protobuf, other layout.
  std::string inner = std::string("\x12\x01q\x08\x09", 5);
  std::string reordered = std::string("\x0a") + char(inner.size()) + inner;
  EXPECT_FALSE(ParseSubmitFast(reordered, 10).has_value());
  std::string unknown_inner = std::string("\x08\x01\x18\x05", 4);
  EXPECT_FALSE(ParseSubmitFast(std::string("\x0a\x04", 2) + unknown_inner, 10).has_value());
  // A length running past the end.
  EXPECT_FALSE(ParseSubmitFast(std::string("\x0a\x05\x12\x09xy", 6), 10).has_value());
  // An 11-byte varint.
  EXPECT_FALSE(ParseSubmitFast(std::string("\x0a\x0b\x08") + std::string(10, '\xff'), 10).has_value());
}

TEST(IngressWireTest, RandomCorruptionsNeverDisagreeWithProtobuf) {
  std::mt19937_64 rng(42);
  const std::string base = Serialize(123456, {"hello", std::string(200, 'y'), "x", "world!"});
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0: bytes[at] = static_cast<char>(rng()); break;
        case 1: bytes.erase(at, 1 + rng() % 3); break;
        default: bytes.insert(at, 1, static_cast<char>(rng())); break;
      }
      if (bytes.empty()) bytes = "x";
    }
    ExpectAgreesWithProtobuf(bytes, 100);
  }
}

}  // namespace
}  // namespace narwhal::node
