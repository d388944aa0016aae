#include "core/primary/execution_filter.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

Digest D(uint8_t i) {
  Digest d;
  d.bytes[0] = i;
  return d;
}

CommittedSubDag Sub(uint64_t index, Round leader_round, std::vector<std::vector<uint8_t>> payloads) {
  CommittedSubDag sub;
  sub.index = index;
  Round r = leader_round - payloads.size() + 1;
  for (const auto& p : payloads) {
    Certificate c;
    c.header.round = r++;
    for (uint8_t i : p) c.header.payload.push_back({D(i), 0});
    c.header.Seal();
    c.Seal();
    sub.certificates.push_back(std::make_shared<const Certificate>(std::move(c)));
  }
  sub.leader = sub.certificates.back();
  return sub;
}

std::vector<uint8_t> Firsts(const CommittedSubDag& sub) {
  std::vector<uint8_t> out;
  for (const BatchRef& b : sub.batches) out.push_back(b.digest.bytes[0]);
  return out;
}

TEST(ExecutionFilterTest, ASecondCopyOfABatchIsSkippedInsideTheWindow) {
  ExecutionFilter f(8);
  CommittedSubDag a = Sub(0, 2, {{1, 2}, {3}});
  f.Fill(a);
  EXPECT_EQ(Firsts(a), (std::vector<uint8_t>{1, 2, 3}));
  CommittedSubDag b = Sub(1, 4, {{2, 4}, {1}});
  f.Fill(b);
  EXPECT_EQ(Firsts(b), (std::vector<uint8_t>{4}));
  EXPECT_EQ(f.size(), 4u);
}

TEST(ExecutionFilterTest, ForgetsWhatIsOlderThanTheWindow) {
  ExecutionFilter f(8);
  CommittedSubDag a = Sub(0, 2, {{1}});
  f.Fill(a);
  CommittedSubDag b = Sub(1, 10, {{2}});  // 2 + 8 is not < 10: still remembered
  f.Fill(b);
  EXPECT_EQ(f.size(), 2u);
  CommittedSubDag c = Sub(2, 12, {{3}});  // 2 + 8 < 12: digest 1 is forgotten after this fill
  f.Fill(c);
  EXPECT_EQ(f.size(), 2u);
  CommittedSubDag d = Sub(3, 14, {{1}});  // so a copy this late executes again
  f.Fill(d);
  EXPECT_EQ(Firsts(d), (std::vector<uint8_t>{1}));
}

TEST(ExecutionFilterTest, RecoveryRemembersWithoutFilling) {
  ExecutionFilter f(8);
  EXPECT_TRUE(f.Remember(D(5), 6));
  EXPECT_FALSE(f.Remember(D(5), 6));
  CommittedSubDag a = Sub(3, 8, {{5, 6}});
  f.Fill(a);
  EXPECT_EQ(Firsts(a), (std::vector<uint8_t>{6}));
}

TEST(ExecutionFilterTest, CommitsGoForwardOnly) {
  ExecutionFilter f(8);
  CommittedSubDag a = Sub(0, 6, {{1}});
  f.Fill(a);
  CommittedSubDag back = Sub(1, 4, {{2}});
  EXPECT_DEATH(f.Fill(back), "out of order");
}

}  // namespace
}  // namespace narwhal
