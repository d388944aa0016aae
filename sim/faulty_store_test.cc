#include "sim/faulty_store.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace narwhal::sim {
namespace {

class ManualClock final : public Clock {
 public:
  TimeUs NowUs() const override { return now_us; }
  TimeUs now_us = 0;
};

Digest D(int i) {
  Digest d;
  d.bytes[0] = static_cast<uint8_t>(i);
  d.bytes[1] = 1;
  return d;
}

FaultyStoreOptions Always() {
  FaultyStoreOptions o;
  o.write_failure_probability = 1;
  o.read_failure_probability = 1;
  return o;
}

TEST(FaultyStoreTest, UnarmedPassesEverythingThrough) {
  ManualClock clock;
  auto store = FaultyStore::OverMemory(&clock, 1, Always());
  ASSERT_TRUE(store->PutBatch(D(1), "batch", 3).ok());
  auto got = store->GetBatch(D(1));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value(), "batch");
  EXPECT_EQ(store->stats().writes_failed + store->stats().reads_failed, 0u);
}

TEST(FaultyStoreTest, FailedWriteNamesTheOperationAndWritesNothing) {
  ManualClock clock;
  auto store = FaultyStore::OverMemory(&clock, 1, Always());
  store->set_armed(true);
  absl::Status s = store->PutVote(2, 7, D(1));
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "PutVote")) << s;
  auto vote = store->inner()->GetVote(2, 7);
  ASSERT_TRUE(vote.ok());
  EXPECT_FALSE(vote->has_value());
  EXPECT_EQ(store->stats().writes_failed, 1u);
}

TEST(FaultyStoreTest, FailedReadNamesTheOperation) {
  ManualClock clock;
  auto store = FaultyStore::OverMemory(&clock, 1, Always());
  ASSERT_TRUE(store->PutOwnHeader(4, "header").ok());
  store->set_armed(true);
  auto got = store->GetOwnHeader(4);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::StrContains(got.status().message(), "GetOwnHeader")) << got.status();
}

TEST(FaultyStoreTest, CorruptedReadFlipsAByteOfThisReadOnly) {
  ManualClock clock;
  FaultyStoreOptions o;
  o.corrupt_read_probability = 1;
  auto store = FaultyStore::OverMemory(&clock, 5, o);
  const std::string batch(100, 'x');
  ASSERT_TRUE(store->PutBatch(D(1), batch, 1).ok());
  store->set_armed(true);
  for (int i = 0; i < 20; ++i) {
    auto got = store->GetBatch(D(1));
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->value().size(), batch.size());
    int differ = 0;
    for (size_t k = 0; k < batch.size(); ++k) differ += got->value()[k] != batch[k];
    EXPECT_EQ(differ, 1);
  }
  // The stored bytes are intact.
  EXPECT_EQ(store->inner()->GetBatch(D(1))->value(), batch);
  EXPECT_EQ(store->stats().reads_corrupted, 20u);
}

TEST(FaultyStoreTest, TornReadIsAStrictPrefix) {
  ManualClock clock;
  FaultyStoreOptions o;
  o.torn_read_probability = 1;
  auto store = FaultyStore::OverMemory(&clock, 9, o);
  const std::string state = "consensus state bytes";
  ASSERT_TRUE(store->AppendCommitted({0, "row0"}, state).ok());
  store->set_armed(true);
  auto got = store->GetConsensusState();
  ASSERT_TRUE(got.ok());
  EXPECT_LT(got->value().size(), state.size());
  EXPECT_TRUE(absl::StartsWith(state, got->value()));
  // Executed rows are shared: tearing one must not touch the stored row.
  ASSERT_TRUE(store->inner()->AppendExecuted(0, std::make_shared<const std::string>("executed row")).ok());
  auto rows = store->ExecutedFrom(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_LT((*rows)[0].row->size(), std::string("executed row").size());
  EXPECT_EQ(*(*store->inner()->ExecutedFrom(0, 10))[0].row, "executed row");
}

TEST(FaultyStoreTest, FailedCommitRollsTheTransactionBack) {
  ManualClock clock;
  FaultyStoreOptions o;
  o.write_failure_probability = 1;
  auto store = FaultyStore::OverMemory(&clock, 1, o);
  store->set_armed(true);
  // Every write inside fails, so the body fails; the inner store has nothing.
  absl::Status s = store->RunInTransaction([&] { return store->PutOwnHeader(1, "h"); });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(*store->inner()->LastOwnHeaderRound(), 0u);
  // Writes that succeed inside a transaction whose commit fails are undone.
  o.write_failure_probability = 0.5;
  auto half = FaultyStore::OverMemory(&clock, 3, o);
  half->set_armed(true);
  int commit_failures = 0;
  for (Round r = 1; r <= 40; ++r) {
    absl::Status t = half->RunInTransaction([&] { return half->inner()->PutOwnHeader(r, "h"); });
    if (!t.ok()) {
      EXPECT_TRUE(absl::StrContains(t.message(), "RunInTransaction")) << t;
      EXPECT_FALSE(half->inner()->GetOwnHeader(r)->has_value());
      ++commit_failures;
    } else {
      EXPECT_TRUE(half->inner()->GetOwnHeader(r)->has_value());
    }
  }
  EXPECT_GT(commit_failures, 5);
  EXPECT_LT(commit_failures, 35);
}

TEST(FaultyStoreTest, FullLosesNothingAtAPowerLoss) {
  ManualClock clock;
  auto store = FaultyStore::OverMemory(&clock, 1, FaultyStoreOptions{});
  ASSERT_TRUE(store->PutVote(1, 1, D(1)).ok());
  clock.now_us = 1;
  ASSERT_TRUE(store->PutVote(1, 2, D(2)).ok());
  store->PowerLoss();
  EXPECT_TRUE(store->GetVote(1, 1)->has_value());
  EXPECT_TRUE(store->GetVote(1, 2)->has_value());
  EXPECT_EQ(store->stats().writes_lost, 0u);
}

TEST(FaultyStoreTest, NormalLosesTheWholeTransactionsAfterTheLastSyncPoint) {
  ManualClock clock;
  FaultyStoreOptions o;
  o.synchronous = SynchronousMode::kNormal;
  o.sync_interval_us = 100;  // sync points 50..150 us apart
  auto store = FaultyStore::OverMemory(&clock, 1, o);
  ASSERT_TRUE(store->PutVote(1, 1, D(1)).ok());
  clock.now_us = 1000;  // a sync point falls before the next write
  ASSERT_TRUE(store->RunInTransaction([&] {
                     if (absl::Status s = store->PutVote(1, 2, D(2)); !s.ok()) return s;
                     clock.now_us = 2000;  // never a sync point inside a transaction
                     return store->PutVote(1, 3, D(3));
                   }).ok());
  ASSERT_TRUE(store->PutVote(1, 4, D(4)).ok());  // after a due sync point: vote 2 and 3 durable
  clock.now_us = 2010;                            // not due again yet
  ASSERT_TRUE(store->PutVote(1, 5, D(5)).ok());
  store->PowerLoss();
  EXPECT_TRUE(store->GetVote(1, 1)->has_value());
  EXPECT_TRUE(store->GetVote(1, 2)->has_value());
  EXPECT_TRUE(store->GetVote(1, 3)->has_value());
  EXPECT_FALSE(store->GetVote(1, 4)->has_value());
  EXPECT_FALSE(store->GetVote(1, 5)->has_value());
  EXPECT_EQ(store->stats().writes_lost, 2u);
  // A second power loss right away loses nothing more.
  store->PowerLoss();
  EXPECT_TRUE(store->GetVote(1, 3)->has_value());
}

TEST(FaultyStoreTest, NormalBeforeAnySyncPointLosesEverything) {
  ManualClock clock;
  FaultyStoreOptions o;
  o.synchronous = SynchronousMode::kNormal;
  auto store = FaultyStore::OverMemory(&clock, 1, o);
  ASSERT_TRUE(store->PutBatch(D(1), "b", 1).ok());
  store->PowerLoss();
  EXPECT_FALSE(store->GetBatch(D(1))->has_value());
}

TEST(FaultyStoreTest, SameSeedSameFaults) {
  auto run = [](uint64_t seed) {
    ManualClock clock;
    FaultyStoreOptions o;
    o.write_failure_probability = 0.3;
    o.read_failure_probability = 0.3;
    o.corrupt_read_probability = 0.3;
    o.torn_read_probability = 0.3;
    auto store = FaultyStore::OverMemory(&clock, seed, o);
    store->set_armed(true);
    std::string trace;
    for (int i = 0; i < 200; ++i) {
      trace += store->PutBatch(D(i % 7), std::string(20, 'a' + i % 7), 1).ok() ? 'w' : 'W';
      auto got = store->GetBatch(D(i % 7));
      trace += got.ok() ? (got->has_value() ? **got : std::string("-")) : std::string("R");
    }
    return trace;
  };
  EXPECT_EQ(run(4), run(4));
  EXPECT_NE(run(4), run(5));
}

}  // namespace
}  // namespace narwhal::sim
