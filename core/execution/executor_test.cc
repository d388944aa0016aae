// The executor on its own: a MemoryStore, manual timers and clock, a
// transport that records frames, and local reads standing in for the
// workers' stores.
#include "core/execution/executor.h"

#include <map>

#include "core/batch.h"
#include "core/store/memory_store.h"
#include "gtest/gtest.h"

namespace narwhal {
namespace {

class ManualTime final : public Clock, public Timers {
 public:
  TimeUs NowUs() const override { return now_; }
  TimerId Schedule(TimeUs delay_us, std::function<void()> cb) override {
    timers_.emplace(std::make_pair(now_ + delay_us, ++next_), std::move(cb));
    return next_;
  }
  void Cancel(TimerId id) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
    }
  }
  void Advance(TimeUs us) {
    const TimeUs end = now_ + us;
    while (!timers_.empty() && timers_.begin()->first.first <= end) {
      auto it = timers_.begin();
      now_ = it->first.first;
      auto cb = std::move(it->second);
      timers_.erase(it);
      cb();
    }
    now_ = end;
  }

 private:
  TimeUs now_ = 0;
  TimerId next_ = 0;
  std::map<std::pair<TimeUs, TimerId>, std::function<void()>> timers_;
};

class RecordingTransport final : public Transport {
 public:
  Endpoint self() const override { return Endpoint::Primary(0); }
  absl::Status Send(const Endpoint& to, std::string frame) override {
    sent.emplace_back(to, std::move(frame));
    return absl::OkStatus();
  }
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }
  std::vector<std::pair<Endpoint, std::string>> sent;

 private:
  Receiver receiver_;
};

Committee FourEqual() {
  std::vector<PublicKey> keys(4);
  for (size_t i = 0; i < keys.size(); ++i) keys[i][0] = static_cast<uint8_t>(i + 1);
  return Committee::ForTest(keys, std::vector<uint64_t>(4, 1), 1);
}

std::string MakeBatch(int seed) {
  BatchBuilder b;
  b.Add(std::string(16, static_cast<char>('a' + seed)));
  b.Add(std::string(8, static_cast<char>('0' + seed)));
  return b.Seal();
}

// A store whose AppendExecuted fails at one index, as a full disk would.
class StoreFailingAt final : public MemoryStore {
 public:
  std::optional<uint64_t> fail_append_index;
  absl::Status AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) override {
    if (fail_append_index == index) return absl::ResourceExhaustedError("database or disk is full");
    return MemoryStore::AppendExecuted(index, std::move(row));
  }
};

class ExecutorTest : public ::testing::Test {
 protected:
  ExecutorTest() : committee_(FourEqual()), random_(1) {
    env_ = Env{&time_, &time_, &random_, &transport_, &store_};
  }

  std::unique_ptr<Executor> Make() {
    messenger_ = std::make_unique<Messenger>(env_, MessengerOptions{});
    auto e = std::make_unique<Executor>(env_, committee_, params_, 0, messenger_.get());
    EXPECT_TRUE(e->Recover().ok());
    e->SetLocalRead([this](WorkerId, const Digest& d) -> std::optional<std::string> {
      auto it = worker_.find(d);
      if (it == worker_.end()) return std::nullopt;
      return it->second;
    });
    e->SetOnExecuted([this](const ExecutedRow& row) { executed_.push_back(row.index); });
    return e;
  }

  // A sub-DAG of one certificate by `author` carrying `batches`.
  CommittedSubDag SubDag(uint64_t index, AuthorityIndex author, const std::vector<std::string>& batches) {
    Certificate c;
    c.header.author = author;
    c.header.round = 2 * (index + 1);
    for (const std::string& b : batches) c.header.payload.push_back({BatchDigest(b), 0});
    c.header.Seal();
    c.Seal();
    CommittedSubDag sub;
    sub.index = index;
    sub.leader = std::make_shared<const Certificate>(c);
    sub.certificates = {sub.leader};
    sub.batches = c.header.payload;
    return sub;
  }

  wire::ExecutedSubDag Row(uint64_t index) {
    auto rows = store_.ExecutedFrom(index, 1);
    EXPECT_TRUE(rows.ok());
    wire::ExecutedSubDag w;
    if (rows->empty()) return w;
    EXPECT_EQ(rows->front().index, index);
    EXPECT_TRUE(w.ParseFromString(*rows->front().row));
    return w;
  }

  Committee committee_;
  Parameters params_;
  ManualTime time_;
  Random random_;
  RecordingTransport transport_;
  StoreFailingAt store_;
  Env env_;
  std::unique_ptr<Messenger> messenger_;
  std::map<Digest, std::string> worker_;
  std::vector<uint64_t> executed_;
};

TEST_F(ExecutorTest, AppendsEachSubDagWithItsBatchesInOrder) {
  auto e = Make();
  const std::string b0 = MakeBatch(0), b1 = MakeBatch(1);
  worker_[BatchDigest(b0)] = b0;
  worker_[BatchDigest(b1)] = b1;
  e->OnCommitted(SubDag(0, 1, {b0, b1}), 0);
  e->OnCommitted(SubDag(1, 2, {}), 0);
  EXPECT_EQ(executed_, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(e->next_index(), 2u);
  wire::ExecutedSubDag row = Row(0);
  ASSERT_EQ(row.certificates_size(), 1);
  EXPECT_EQ(row.certificates(0).author(), 1u);
  ASSERT_EQ(row.certificates(0).batches_size(), 2);
  EXPECT_EQ(row.certificates(0).batches(0).batch(), b0);
  EXPECT_EQ(row.certificates(0).batches(1).batch(), b1);
  EXPECT_EQ(Row(1).certificates(0).batches_size(), 0);
  EXPECT_FALSE(e->PruneFloor().has_value());
}

TEST_F(ExecutorTest, WaitsForAMissingBatchAndHoldsLaterSubDagsBehindIt) {
  auto e = Make();
  const std::string b0 = MakeBatch(0), b1 = MakeBatch(1);
  worker_[BatchDigest(b1)] = b1;  // b0 is nowhere yet
  e->OnCommitted(SubDag(0, 1, {b0}), 7);
  e->OnCommitted(SubDag(1, 2, {b1}), 9);
  EXPECT_TRUE(executed_.empty());
  EXPECT_EQ(e->pending_sub_dags(), 2u);
  // Workers must keep what the oldest pending sub-DAG may need.
  ASSERT_TRUE(e->PruneFloor().has_value());
  EXPECT_EQ(*e->PruneFloor(), 7u);
  // Asked its own worker (a BatchRequest) at once.
  EXPECT_FALSE(transport_.sent.empty());
  EXPECT_TRUE(transport_.sent.front().first == Endpoint::Worker(0, 0));
  const size_t first_attempt = transport_.sent.size();
  // A second attempt goes to peer primaries as well.
  time_.Advance(params_.sync_retry_delay_us);
  bool asked_peer = false;
  for (size_t i = first_attempt; i < transport_.sent.size(); ++i) {
    asked_peer |= transport_.sent[i].first.is_primary() && transport_.sent[i].first.authority != 0;
  }
  EXPECT_TRUE(asked_peer);
  worker_[BatchDigest(b0)] = b0;  // the worker synchronized it
  time_.Advance(params_.sync_retry_delay_us);
  EXPECT_EQ(executed_, (std::vector<uint64_t>{0, 1}));
  EXPECT_FALSE(e->PruneFloor().has_value());
}

TEST_F(ExecutorTest, ResumesAfterARestartWithoutExecutingTwice) {
  const std::string b0 = MakeBatch(0);
  worker_[BatchDigest(b0)] = b0;
  {
    auto e = Make();
    e->OnCommitted(SubDag(0, 1, {b0}), 0);
    e->OnCommitted(SubDag(1, 2, {}), 0);
  }
  executed_.clear();
  auto e = Make();
  EXPECT_EQ(e->next_index(), 2u);
  e->OnCommitted(SubDag(1, 2, {}), 0);  // fed again from the committed rows: ignored
  e->OnCommitted(SubDag(2, 3, {}), 0);
  EXPECT_EQ(executed_, (std::vector<uint64_t>{2}));
  EXPECT_EQ(store_.NextExecutedIndex().value(), 3u);
}

TEST_F(ExecutorTest, RetentionDropsTheOldestRowsAndKeepsTheLast) {
  params_.committed_output_retention = 2;
  auto e = Make();
  for (uint64_t i = 0; i < 5; ++i) e->OnCommitted(SubDag(i, 1, {}), 0);
  EXPECT_EQ(e->first_kept_index(), 3u);
  auto rows = store_.ExecutedFrom(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].index, 3u);
  // By bytes: every row is over 1 byte, so only the last stays.
  params_.committed_output_retention_bytes = 1;
  e->OnCommitted(SubDag(5, 1, {}), 0);
  EXPECT_EQ(e->first_kept_index(), 5u);
  EXPECT_EQ(store_.ExecutedFrom(0, 10)->size(), 1u);
}

// The core's store-failure policy (core/fail_stop.h): an append that did
// not happen stops the executor; it never skips the index nor goes on.
TEST_F(ExecutorTest, AStoreFailureHaltsAndNothingAfterItIsExecuted) {
  std::vector<absl::Status> halts;
  env_.on_halt = [&](const absl::Status& s) { halts.push_back(s); };
  auto e = Make();
  store_.fail_append_index = 1;
  e->OnCommitted(SubDag(0, 1, {}), 0);
  EXPECT_FALSE(e->halted());
  e->OnCommitted(SubDag(1, 2, {}), 0);
  EXPECT_TRUE(e->halted());
  ASSERT_EQ(halts.size(), 1u);
  EXPECT_NE(halts[0].message().find("appending executed sub-DAG 1"), std::string::npos) << halts[0];
  EXPECT_NE(halts[0].message().find("disk is full"), std::string::npos) << halts[0];
  store_.fail_append_index.reset();  // even if the disk recovers: stopped is stopped
  e->OnCommitted(SubDag(2, 3, {}), 0);
  EXPECT_EQ(executed_, (std::vector<uint64_t>{0}));
  EXPECT_EQ(store_.NextExecutedIndex().value(), 1u);
  EXPECT_EQ(halts.size(), 1u);
}

TEST(EncodeExecutedRow, WritesWhatProtobufWrites) {
  auto b0 = std::make_shared<const std::string>(MakeBatch(0));
  auto b1 = std::make_shared<const std::string>(MakeBatch(1));
  std::vector<ExecutedCertificateView> certs(3);
  certs[0] = {BatchDigest("c0"), 0, 2, {{{BatchDigest(*b0), 0}, b0}, {{BatchDigest(*b1), 3}, b1}}};
  certs[1] = {BatchDigest("c1"), 2, 0, {}};  // zero round: left out, as proto3 does
  certs[2] = {BatchDigest("c2"), 1, 300, {{{BatchDigest(*b1), 1}, b1}}};
  for (uint64_t index : {uint64_t{0}, uint64_t{1} << 40}) {
    wire::ExecutedSubDag w;
    w.set_index(index);
    w.set_leader(BatchDigest("leader").ToBytes());
    w.set_leader_round(index == 0 ? 0 : 301);
    for (const ExecutedCertificateView& c : certs) {
      auto* wc = w.add_certificates();
      wc->set_digest(c.digest.ToBytes());
      wc->set_author(c.author);
      wc->set_round(c.round);
      for (const auto& [ref, bytes] : c.batches) {
        auto* wb = wc->add_batches();
        wb->set_digest(ref.digest.ToBytes());
        wb->set_worker_id(ref.worker_id);
        wb->set_batch(*bytes);
      }
    }
    EXPECT_EQ(EncodeExecutedRow(index, BatchDigest("leader"), index == 0 ? 0 : 301, certs), w.SerializeAsString());
  }
}

TEST_F(ExecutorTest, ServesPeersFromItsRows) {
  auto e = Make();
  const std::string b0 = MakeBatch(0);
  worker_[BatchDigest(b0)] = b0;
  e->OnCommitted(SubDag(0, 1, {b0}), 0);
  worker_.clear();  // the worker pruned it: the row still holds it
  wire::ExecutedBatchesRequest req;
  req.set_index(0);
  req.add_digests(BatchDigest(b0).ToBytes());
  req.add_digests(BatchDigest(MakeBatch(5)).ToBytes());
  std::vector<std::string> items;
  bool ok = false;
  e->OnBatchesRequest(Endpoint::Primary(2), req, [&](bool success, std::string, std::vector<std::string> got) {
    ok = success;
    items = std::move(got);
  });
  EXPECT_TRUE(ok);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0], b0);
  EXPECT_EQ(items[1], "");
}

// Regression (seen on real processes, docs/deploy.md section 7): a primary
// restarted on an empty store re-executes the whole history from its
// peers. Each ExecutedBatchesRequest made the serving primary read and parse
// the whole row once per digest asked, on its event loop, and the requester
// sent new rounds while the old ones were still unanswered: every primary's
// loop was busy serving and the committee stopped committing. Now a row is
// read once for all requests for it, and a sub-DAG has one round of peer
// requests out at a time.
TEST_F(ExecutorTest, ServingPeersReadsARowOncePerIndex) {
  auto e = Make();
  std::vector<std::string> batches;
  for (int i = 0; i < 6; ++i) batches.push_back(MakeBatch(i));
  for (const std::string& b : batches) worker_[BatchDigest(b)] = b;
  e->OnCommitted(SubDag(0, 1, batches), 0);
  e->OnCommitted(SubDag(1, 2, {MakeBatch(7)}), 0);
  worker_.clear();
  for (int repeat = 0; repeat < 3; ++repeat) {
    wire::ExecutedBatchesRequest req;
    req.set_index(0);
    for (const std::string& b : batches) req.add_digests(BatchDigest(b).ToBytes());
    std::vector<std::string> items;
    e->OnBatchesRequest(Endpoint::Primary(2), req,
                        [&](bool, std::string, std::vector<std::string> got) { items = std::move(got); });
    ASSERT_EQ(items, batches);
  }
  EXPECT_EQ(e->stats().rows_read_for_peers, 1u);
}

TEST_F(ExecutorTest, PeersTooSlowToAnswerAreAskedLessOften) {
  auto e = Make();
  const std::string b0 = MakeBatch(0);  // nowhere: only peers could have it
  e->OnCommitted(SubDag(0, 1, {b0}), 0);
  auto peer_requests = [&] {
    size_t n = 0;
    for (const auto& [to, frame] : transport_.sent) n += to.is_primary() && to.authority != 0;
    return n;
  };
  const size_t per_round = ExecutorOptions{}.peers_per_attempt;
  // Peers are asked from the third attempt (~350 ms) and never answer.
  time_.Advance(params_.sync_retry_delay_us / 2);
  EXPECT_EQ(peer_requests(), per_round);
  // Attempts go on every sync_retry_delay (the own worker is asked each
  // time), but a round of peer requests waits for the last one to end, and
  // each timeout doubles the next one's: rounds at ~0.35, ~1.55, ~3.55 and
  // ~7.55 s over 10 s, where one a second went out before.
  time_.Advance(10 * params_.sync_retry_delay_us - params_.sync_retry_delay_us / 2);
  EXPECT_GE(peer_requests(), 3 * per_round);
  EXPECT_LE(peer_requests(), 4 * per_round);
}

}  // namespace
}  // namespace narwhal
