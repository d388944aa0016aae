// The worker data plane of seed 000 in the simulator: batches reach a stake
// quorum (not a head count), late ACKs are ignored, retries stop at quorum,
// loss and partitions do not lose or duplicate batches, the synchronizer
// fetches what is missing, and bad input is refused without harm.
#include <map>
#include <memory>

#include "core/batch.h"
#include "core/store/memory_store.h"
#include "gtest/gtest.h"
#include "sim/cluster.h"

namespace narwhal::sim {
namespace {

class WorkerSimTest : public ::testing::Test {
 protected:
  void Build(std::vector<uint64_t> stakes = {1, 1, 1, 1}, NetworkOptions net = {}) {
    ClusterOptions o;
    o.seed = 5;
    o.nodes = stakes.size();
    o.stakes = stakes;
    o.network = net;
    o.params.batch_size_bytes = 1000;
    o.params.max_batch_delay_us = 50 * kMillisecondUs;
    o.params.min_batch_delay_us = 25 * kMillisecondUs;  // early sealing on
    Cluster::Observers obs;
    obs.on_batch_accepted = [this](AuthorityIndex a, WorkerId, const SealedBatch& b) {
      accepted_[a].push_back(b);
    };
    cluster_ = std::make_unique<Cluster>(o, [] { return std::make_unique<MemoryStore>(); }, obs);
    cluster_->network().AddTap([this](const Endpoint& from, const Endpoint& to, std::string_view frame) {
      wire::Frame f;
      if (!f.ParseFromArray(frame.data(), frame.size()) || !f.has_request()) return;
      if (f.request().has_worker_batch()) batch_frames_to_[to.authority]++;
      if (f.request().has_our_batch() || f.request().has_others_batch()) {
        const std::string& d = f.request().has_our_batch() ? f.request().our_batch().digest()
                                                            : f.request().others_batch().digest();
        reports_[{to.authority, d}]++;
      }
    });
    cluster_->Start();
  }
  Worker* W(AuthorityIndex a) { return cluster_->worker(a, 0); }
  void Run(TimeUs us) { cluster_->scheduler().RunUntil(cluster_->scheduler().NowUs() + us); }
  // One full batch (1000 bytes of payload) at authority a.
  void FillBatch(AuthorityIndex a, char tag = 'x') {
    for (int i = 0; i < 10; ++i) {
      std::string tx(100, tag + i);
      tx[0] = static_cast<char>('0' + a);  // distinct batches per authority
      ASSERT_TRUE(W(a)->SubmitTransaction(tx).ok());
    }
  }

  std::unique_ptr<Cluster> cluster_;
  std::map<AuthorityIndex, std::vector<SealedBatch>> accepted_;
  std::map<AuthorityIndex, int> batch_frames_to_;
  std::map<std::pair<AuthorityIndex, std::string>, int> reports_;
};

TEST_F(WorkerSimTest, QuorumWithAllUpAndWithOneDown) {
  Build();
  FillBatch(0, 'a');
  Run(kSecondUs);
  EXPECT_EQ(W(0)->stats().batches_sealed_by_size, 1u);
  EXPECT_EQ(W(0)->stats().batches_quorum, 1u);
  ASSERT_EQ(accepted_[0].size(), 1u);
  EXPECT_EQ(accepted_[0][0].tx_count, 10u);
  cluster_->Crash(3);  // f = 1
  FillBatch(0, 'b');
  Run(kSecondUs);
  EXPECT_EQ(W(0)->stats().batches_quorum, 2u);
}

TEST_F(WorkerSimTest, NoQuorumWithTwoDownUntilOneReturns) {
  Build();
  cluster_->Crash(2);
  cluster_->Crash(3);
  FillBatch(0);
  Run(5 * kSecondUs);
  EXPECT_EQ(W(0)->stats().batches_sealed, 1u);
  EXPECT_EQ(W(0)->stats().batches_quorum, 0u);
  EXPECT_TRUE(accepted_[0].empty());
  cluster_->Restart(3);
  Run(10 * kSecondUs);  // the retry reaches the restarted worker
  EXPECT_EQ(W(0)->stats().batches_quorum, 1u);
  EXPECT_EQ(accepted_[0].size(), 1u);
}

TEST_F(WorkerSimTest, StakeNotHeadsDecidesQuorum) {
  // Stakes 4,1,1,1: total 7, quorum 5.
  Build({4, 1, 1, 1});
  cluster_->Crash(0);
  // Authority 1 (stake 1) with authorities 2 and 3 ACKing has 3 < 5: no quorum
  // although 3 of 4 heads are there.
  FillBatch(1);
  Run(5 * kSecondUs);
  EXPECT_EQ(W(1)->stats().batches_quorum, 0u);
  cluster_->Restart(0);
  Run(10 * kSecondUs);
  EXPECT_EQ(W(1)->stats().batches_quorum, 1u);  // 1 + 4 >= 5
  // Authority 0 (stake 4) needs a single ACK: cut it off from all but 2.
  cluster_->network().Partition({0}, {1, 3});
  FillBatch(0);
  Run(2 * kSecondUs);
  EXPECT_EQ(W(0)->stats().batches_quorum, 1u);  // 4 + 1 >= 5 with one head
}

TEST_F(WorkerSimTest, LateAckIgnoredAndRetriesStopAtQuorum) {
  Build();
  cluster_->network().Clog(0, 3, 3 * kSecondUs);  // authority 3 hears batches 3 s late
  FillBatch(0);
  Run(500 * kMillisecondUs);
  EXPECT_EQ(W(0)->stats().batches_quorum, 1u);  // 1 + 2 ACKs
  Run(20 * kSecondUs);
  // Exactly one batch frame reached authority 3: retries were cancelled at quorum.
  EXPECT_EQ(batch_frames_to_[3], 1);
  // Authority 3 got it once: from that late frame, or earlier from its
  // synchronizer (its executor asks for every committed batch it lacks),
  // when the late frame is a duplicate.
  EXPECT_EQ(W(3)->stats().batches_received + W(3)->stats().batches_received_duplicate, 1u);
  // Its ACK came back after quorum and was ignored; nothing was processed twice.
  EXPECT_GE(W(0)->messenger().stats().responses_ignored, 1u);
  EXPECT_EQ(W(0)->stats().batches_quorum, 1u);
  EXPECT_EQ(accepted_[0].size(), 1u);
}

TEST_F(WorkerSimTest, LossAndHealedPartitionLoseNothingAndDuplicateNothing) {
  NetworkOptions net;
  net.packet_loss_probability = 0.2;
  Build({1, 1, 1, 1}, net);
  cluster_->network().Partition({0, 1}, {2, 3});  // no side has a quorum
  for (int round = 0; round < 5; ++round) {
    for (AuthorityIndex a = 0; a < 4; ++a) FillBatch(a, 'a' + round);
    Run(500 * kMillisecondUs);
  }
  cluster_->network().HealAll();
  Run(60 * kSecondUs);
  std::set<std::string> digests;
  for (AuthorityIndex a = 0; a < 4; ++a) {
    EXPECT_EQ(W(a)->stats().batches_sealed, 5u);
    EXPECT_EQ(W(a)->stats().batches_quorum, 5u) << "authority " << a;
    EXPECT_EQ(accepted_[a].size(), 5u);
    for (const auto& b : accepted_[a]) digests.insert(b.digest.ToBytes());
  }
  EXPECT_EQ(digests.size(), 20u);
  // Each primary received each digest exactly once (ours or others').
  for (const auto& [key, count] : reports_) EXPECT_EQ(count, 1) << "primary " << key.first;
  for (AuthorityIndex p = 0; p < 4; ++p) {
    int seen = 0;
    for (const auto& d : digests) seen += reports_.count({p, d});
    EXPECT_EQ(seen, 20) << "primary " << p << " did not hear of every batch";
  }
}

// The three seal rules: early (min_batch_delay, once none of ours awaits a
// quorum), on delay (max_batch_delay, while one does) and on size (at once).
TEST_F(WorkerSimTest, SealsEarlyOnDelayAndOnSize) {
  Build();
  ASSERT_EQ(cluster_->options().params.min_batch_delay_us, 25 * kMillisecondUs);
  ASSERT_TRUE(W(0)->SubmitTransaction("small").ok());
  Run(15 * kMillisecondUs);
  EXPECT_EQ(W(0)->stats().batches_sealed, 0u);  // younger than min_batch_delay
  Run(15 * kMillisecondUs);
  EXPECT_EQ(W(0)->stats().batches_sealed_early, 1u);  // nothing in flight: early
  Run(kSecondUs);
  ASSERT_EQ(W(0)->stats().batches_quorum, 1u);

  // With our previous batch stuck short of a quorum, the next one fills up
  // until max_batch_delay.
  for (AuthorityIndex a = 1; a < 4; ++a) cluster_->network().Block(0, a);
  ASSERT_TRUE(W(0)->SubmitTransaction("stuck").ok());
  Run(30 * kMillisecondUs);
  ASSERT_EQ(W(0)->stats().batches_sealed_early, 2u);
  ASSERT_TRUE(W(0)->SubmitTransaction("waits").ok());
  Run(30 * kMillisecondUs);
  EXPECT_EQ(W(0)->stats().batches_sealed, 2u);  // past min_batch_delay, but one is in flight
  Run(30 * kMillisecondUs);
  EXPECT_EQ(W(0)->stats().batches_sealed_by_delay, 1u);

  FillBatch(0);
  EXPECT_EQ(W(0)->stats().batches_sealed_by_size, 1u);  // at once, no timer
}

TEST_F(WorkerSimTest, SynchronizerFetchesFromAuthorThenOthers) {
  Build();
  cluster_->network().Block(0, 3);  // authority 3 never gets authority 0's batch
  FillBatch(0);
  Run(kSecondUs);
  ASSERT_EQ(accepted_[0].size(), 1u);
  const Digest d = accepted_[0][0].digest;
  auto has = [&](AuthorityIndex a) {
    auto b = cluster_->worker_store(a, 0)->GetBatch(d);
    return b.ok() && b->has_value();
  };
  ASSERT_FALSE(has(3));
  // Primary 3 asks its worker to fetch it (as when voting for a header).
  auto sync = [&](const Digest& digest) {
    wire::Frame f;
    auto* s = f.mutable_request()->mutable_synchronize_batches();
    f.mutable_request()->set_request_id(77);
    s->add_digests(digest.ToBytes());
    s->set_author(0);
    s->set_round(1);
    cluster_->network().Send(Endpoint::Primary(3), Endpoint::Worker(3, 0), f.SerializeAsString());
  };
  cluster_->network().HealAll();
  sync(d);
  Run(kSecondUs);
  EXPECT_TRUE(has(3));
  // Now with the author down: another authority's worker serves it.
  FillBatch(1);
  Run(kSecondUs);
  const Digest d2 = accepted_[1][0].digest;
  // Authority 2 lost it: wipe by using a digest only 0 and 1 hold? Instead
  // crash the author and make 3 forget nothing: 3 got d2 by broadcast, so
  // test with a fresh node view: block 1 -> 3 before the next batch.
  cluster_->network().Block(1, 3);
  FillBatch(1, 'q');
  Run(kSecondUs);
  const Digest d3 = accepted_[1].back().digest;
  ASSERT_FALSE([&] { auto b = cluster_->worker_store(3, 0)->GetBatch(d3); return b.ok() && b->has_value(); }());
  cluster_->Crash(1);
  sync(d3);
  Run(5 * kSecondUs);  // author down: after sync_retry_delay the others are asked
  auto b = cluster_->worker_store(3, 0)->GetBatch(d3);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->has_value());
  (void)d2;
}

TEST_F(WorkerSimTest, OversizedTransactionAndMalformedBatchRefused) {
  Build();
  auto big = W(0)->SubmitTransaction(std::string(200 * 1024, 'z'));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("max_transaction_size_bytes"), std::string::npos);
  EXPECT_FALSE(W(0)->SubmitTransaction("").ok());
  // A malformed batch (truncated) from a peer worker: refused with a reason.
  wire::Frame f;
  f.mutable_request()->set_request_id(1);
  f.mutable_request()->mutable_worker_batch()->set_batch(std::string("\x05\x00\x00\x00\x03\x00", 6));
  cluster_->network().Send(Endpoint::Worker(1, 0), Endpoint::Worker(0, 0), f.SerializeAsString());
  Run(kSecondUs);
  EXPECT_EQ(W(0)->stats().batches_rejected, 1u);
  // Nothing else disturbed: a normal batch still goes through.
  FillBatch(0);
  Run(kSecondUs);
  EXPECT_EQ(W(0)->stats().batches_quorum, 1u);
}

}  // namespace
}  // namespace narwhal::sim
