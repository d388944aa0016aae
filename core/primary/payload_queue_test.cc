#include "core/primary/payload_queue.h"

#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

BatchRef B(uint8_t i) {
  BatchRef b;
  b.digest.bytes[0] = i;
  return b;
}

TEST(PayloadQueueTest, NewBatchesGoLastAgainFirstEachOnce) {
  PayloadQueue q;
  EXPECT_TRUE(q.PushBack(B(1), 5));
  EXPECT_TRUE(q.PushBack(B(2), 6));
  EXPECT_FALSE(q.PushBack(B(1), 7));  // queued already: keeps its place and age
  EXPECT_TRUE(q.PushFront(B(3)));
  EXPECT_FALSE(q.PushFront(B(2)));
  EXPECT_EQ(q.size(), 3u);
  auto taken = q.Take(10);
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].first, B(3));
  EXPECT_FALSE(taken[0].second.has_value());  // no age: never re-tagged
  EXPECT_EQ(taken[1].first, B(1));
  EXPECT_EQ(taken[1].second, 5u);
  EXPECT_EQ(taken[2].second, 6u);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.Contains(B(1)));
}

TEST(PayloadQueueTest, TakeStopsAtTheLimitAndMarkOldResetsTheAge) {
  PayloadQueue q;
  for (uint8_t i = 0; i < 5; ++i) q.PushBack(B(i), 9);
  q.MarkOld(B(1));
  auto first = q.Take(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[1].second, 0u);
  EXPECT_EQ(q.size(), 3u);
  // A batch taken and put back first has no age any more.
  EXPECT_TRUE(q.PushFront(B(0)));
  EXPECT_FALSE(q.Take(1)[0].second.has_value());
}

TEST(PayloadQueueTest, OnlyQueuedBatchesCanBeMarkedOld) {
  PayloadQueue q;
  EXPECT_DEATH(q.MarkOld(B(4)), "not queued");
}

}  // namespace
}  // namespace narwhal
