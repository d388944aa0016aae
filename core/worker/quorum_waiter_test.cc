#include "core/worker/quorum_waiter.h"

#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

// Stakes 1, 1, 1, 2 (total 5): the quorum threshold is 2*5/3+1 = 4.
Committee Weighted() {
  std::vector<PublicKey> keys(4);
  for (size_t i = 0; i < keys.size(); ++i) keys[i][0] = static_cast<uint8_t>(i + 1);
  return Committee::ForTest(keys, {1, 1, 1, 2}, 1);
}

PendingBatch Batch(size_t bytes) {
  PendingBatch b;
  b.batch.assign(bytes, 'x');
  return b;
}

TEST(QuorumWaiterTest, ReleasesOnceWhenAckStakeReachesTheQuorum) {
  Committee committee = Weighted();
  std::vector<size_t> released;
  QuorumWaiter w(&committee, 0, [&](PendingBatch b) { released.push_back(b.batch.size()); });
  w.Track(7, Batch(100), {});
  EXPECT_EQ(w.pending_bytes(), 100u);
  w.OnAck(7, 1);  // 1 + 1 = 2
  w.OnAck(7, 1);  // the same worker twice counts once
  w.OnAck(7, 0);  // our own ACK is already counted
  w.OnAck(7, 9);  // not in the committee
  EXPECT_TRUE(released.empty());
  w.OnAck(7, 3);  // + 2 = 4: a quorum
  ASSERT_EQ(released, (std::vector<size_t>{100}));
  EXPECT_EQ(w.pending(), 0u);
  EXPECT_EQ(w.pending_bytes(), 0u);
  w.OnAck(7, 2);  // late
  EXPECT_EQ(released.size(), 1u);
  EXPECT_EQ(w.late_acks(), 1u);
}

TEST(QuorumWaiterTest, StakeNotCountDecides) {
  Committee committee = Weighted();
  int released = 0;
  // Authority 3 holds stake 2: with two light ACKs it is a quorum (2+1+1),
  // while authority 0 needs three ACKs' worth.
  QuorumWaiter heavy(&committee, 3, [&](PendingBatch) { ++released; });
  heavy.Track(1, Batch(1), {});
  heavy.OnAck(1, 0);
  EXPECT_EQ(released, 0);
  heavy.OnAck(1, 1);
  EXPECT_EQ(released, 1);
  QuorumWaiter light(&committee, 0, [&](PendingBatch) { ++released; });
  light.Track(1, Batch(1), {});
  light.OnAck(1, 1);
  light.OnAck(1, 2);
  EXPECT_EQ(released, 1);  // 1+1+1 = 3 < 4
  light.OnAck(1, 3);
  EXPECT_EQ(released, 2);
}

TEST(QuorumWaiterTest, ACommitteeOfOneReleasesAtOnce) {
  std::vector<PublicKey> keys(1);
  Committee one = Committee::ForTest(keys, {1}, 1);
  int released = 0;
  QuorumWaiter w(&one, 0, [&](PendingBatch) { ++released; });
  w.Track(1, Batch(10), {});
  EXPECT_EQ(released, 1);
  EXPECT_EQ(w.pending(), 0u);
}

TEST(QuorumWaiterTest, ABatchIdIsTrackedOnce) {
  Committee committee = Weighted();
  QuorumWaiter w(&committee, 0, [](PendingBatch) {});
  w.Track(5, Batch(1), {});
  EXPECT_DEATH(w.Track(5, Batch(1), {}), "batch id reused");
}

}  // namespace
}  // namespace narwhal
