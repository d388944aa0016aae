// Issue 5, crash recovery in the simulator (a crash drops all in-memory state
// of a node and keeps its store), with the in-memory store and with SQLite in
// memory (the node's SQL):
//   - random crash/restart cycles of up to f nodes during a 60 s run with
//     loss: agreement, integrity, availability, dag and votes checkers hold;
//   - restarted nodes catch up, and every node's committed output read from
//     its store (Store::CommittedFrom(0, ...)) is byte-for-byte the same on
//     the common prefix; what a consumer read before a crash reads the same
//     after the restart;
//   - crashing a node right after it persisted its own header (many times, at
//     several delays) never makes it send a second header for that round
//     (Header frames counted on the wire per (author, round));
//   - crashing a node right after it persisted a vote, then showing it the
//     other header of an equivocating authority, never makes it vote twice;
//   - a long run (300 simulated seconds, one restart) keeps the store
//     bounded: certificates, votes, own headers, payload and batches hold no
//     more rows in the second half of the run than in the first; the
//     committed output grows unless committed_output_retention caps it.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/store/memory_store.h"
#include "gtest/gtest.h"
#include "sim/checkers.h"
#include "sim/cluster.h"
#include "sim/simulation.h"
#include "sim/sqlite_factory.h"

namespace narwhal::sim {
namespace {

// ---------------------------------------------------------------------------
// Harness: a cluster driven here (so the test can reach each node's store and
// primary), with a client load and the simulator's checkers wired as
// RunSimulation wires them.

// A store that tells the test when its node persisted its own header or a
// vote; everything else is passed through.
class HookedStore final : public Store {
 public:
  explicit HookedStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}
  std::function<void(Round)> on_own_header;
  std::function<void(AuthorityIndex, Round, const Digest&)> on_vote;

  absl::Status PutBatch(const Digest& d, std::string_view b, Round r) override { return inner_->PutBatch(d, b, r); }
  absl::StatusOr<std::optional<std::string>> GetBatch(const Digest& d) override { return inner_->GetBatch(d); }
  absl::Status PruneBatchesBelow(Round r) override { return inner_->PruneBatchesBelow(r); }
  absl::Status PutPayload(const Digest& d, WorkerId w, Round r) override { return inner_->PutPayload(d, w, r); }
  absl::StatusOr<bool> HasPayload(const Digest& d, WorkerId w) override { return inner_->HasPayload(d, w); }
  absl::Status PutOwnPayload(const OwnPayloadRow& row) override { return inner_->PutOwnPayload(row); }
  absl::Status RemoveOwnPayload(const Digest& d, WorkerId w) override { return inner_->RemoveOwnPayload(d, w); }
  absl::StatusOr<std::vector<OwnPayloadRow>> ListOwnPayload() override { return inner_->ListOwnPayload(); }
  absl::Status PutCertificate(const Digest& d, Round r, AuthorityIndex a, std::string_view c) override {
    return inner_->PutCertificate(d, r, a, c);
  }
  absl::StatusOr<std::optional<std::string>> GetCertificate(const Digest& d) override { return inner_->GetCertificate(d); }
  absl::StatusOr<std::vector<std::string>> CertificatesInRounds(Round from, Round to) override {
    return inner_->CertificatesInRounds(from, to);
  }
  absl::Status PutOwnHeader(Round r, std::string_view h) override {
    absl::Status s = inner_->PutOwnHeader(r, h);
    if (s.ok() && on_own_header) on_own_header(r);
    return s;
  }
  absl::StatusOr<std::optional<std::string>> GetOwnHeader(Round r) override { return inner_->GetOwnHeader(r); }
  absl::StatusOr<Round> LastOwnHeaderRound() override { return inner_->LastOwnHeaderRound(); }
  absl::Status PutVote(AuthorityIndex a, Round r, const Digest& h) override {
    absl::Status s = inner_->PutVote(a, r, h);
    if (s.ok() && on_vote) on_vote(a, r, h);
    return s;
  }
  absl::StatusOr<std::optional<Digest>> GetVote(AuthorityIndex a, Round r) override { return inner_->GetVote(a, r); }
  absl::Status AppendCommitted(const CommittedSubDagRow& row, std::string_view state) override {
    return inner_->AppendCommitted(row, state);
  }
  absl::StatusOr<std::optional<std::string>> GetConsensusState() override { return inner_->GetConsensusState(); }
  absl::StatusOr<uint64_t> NextCommitIndex() override { return inner_->NextCommitIndex(); }
  absl::StatusOr<std::vector<CommittedSubDagRow>> CommittedFrom(uint64_t from, size_t limit) override {
    return inner_->CommittedFrom(from, limit);
  }
  absl::Status PruneCommittedBelow(uint64_t i) override { return inner_->PruneCommittedBelow(i); }
  absl::Status AppendExecuted(uint64_t i, std::shared_ptr<const std::string> row) override {
    return inner_->AppendExecuted(i, std::move(row));
  }
  absl::StatusOr<uint64_t> NextExecutedIndex() override { return inner_->NextExecutedIndex(); }
  absl::StatusOr<std::vector<ExecutedRow>> ExecutedFrom(uint64_t from, size_t limit) override {
    return inner_->ExecutedFrom(from, limit);
  }
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ExecutedSizes() override {
    return inner_->ExecutedSizes();
  }
  absl::Status PruneExecutedBelow(uint64_t i) override { return inner_->PruneExecutedBelow(i); }
  absl::Status PruneRoundsBelow(Round r) override { return inner_->PruneRoundsBelow(r); }
  absl::Status RunInTransaction(const std::function<absl::Status()>& body) override {
    return inner_->RunInTransaction(body);
  }
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RowCounts() override { return inner_->RowCounts(); }

 private:
  std::unique_ptr<Store> inner_;
};

struct HarnessOptions {
  ClusterOptions cluster;
  bool sqlite = false;
  double transactions_per_s = 500;
  TimeUs load_until_us = 0;  // no load after this
  size_t transaction_size_bytes = 256;
  // Also submit to Byzantine workers (an equivocator with an empty payload
  // sends the same header twice). Their transactions are not required to
  // commit: availability is promised for honest workers only.
  bool load_byzantine = false;
};

class Harness {
 public:
  explicit Harness(HarnessOptions o) : options_(std::move(o)) {
    for (const auto& [a, b] : options_.cluster.byzantine) byzantine_.insert(a);
    Cluster::Observers obs;
    obs.on_commit = [this](AuthorityIndex a, const CommittedSubDag& sub) {
      checkers_->OnCommit(a, sub, Now());
      commits_[a].push_back({sub.index, Now()});
    };
    obs.on_certificate = [this](AuthorityIndex a, const CertificatePtr& c) { checkers_->OnCertificate(a, c, Now()); };
    obs.on_batch_sealed = [this](AuthorityIndex a, WorkerId w, const SealedBatch& b) {
      checkers_->OnBatchSealed(b.digest, TxIds(a, w, b));
    };
    obs.on_batch_accepted = [this](AuthorityIndex a, WorkerId w, const SealedBatch& b) {
      if (!byzantine_.contains(a)) checkers_->OnTransactionsAccepted(TxIds(a, w, b));
    };
    const bool sqlite = options_.sqlite;
    cluster_ = std::make_unique<Cluster>(
        options_.cluster,
        [sqlite]() -> std::unique_ptr<Store> {
          return std::make_unique<HookedStore>(sqlite ? MakeSqliteMemoryStore() : std::make_unique<MemoryStore>());
        },
        obs);
    checkers_ = std::make_unique<Checkers>(&cluster_->committee(), byzantine_);
    cluster_->network().AddTap([this](const Endpoint& from, const Endpoint& to, std::string_view frame) {
      if (!from.is_primary() || !to.is_primary()) return;
      wire::Frame f;
      if (!f.ParseFromArray(frame.data(), static_cast<int>(frame.size())) || !f.has_request()) return;
      if (f.request().has_vote()) {
        const wire::Vote& v = f.request().vote();
        auto d = Digest::FromBytes(v.header_digest());
        if (d.ok() && v.author() == from.authority) checkers_->OnVoteOnWire(v.author(), v.origin(), v.round(), *d, Now());
      }
      if (f.request().has_header()) {
        auto h = Header::Parse(f.request().header());
        if (h.ok() && h->author == from.authority) header_digests_[{h->author, h->round}].insert(h->digest.Hex());
        if (on_header_frame) on_header_frame(from, to, f);
      }
    });
  }

  Cluster& cluster() { return *cluster_; }
  Checkers& checkers() { return *checkers_; }
  TimeUs Now() { return cluster_->scheduler().NowUs(); }
  HookedStore* hooks(AuthorityIndex a) { return static_cast<HookedStore*>(cluster_->primary_store(a)); }
  size_t n() const { return options_.cluster.nodes; }

  void Start() {
    cluster_->Start();
    if (options_.transactions_per_s > 0) Tick();
  }
  void RunUntil(TimeUs t) { cluster_->scheduler().RunUntil(t); }

  // Crash keeps a snapshot of what a consumer could read from the node's
  // committed output at that moment.
  void Crash(AuthorityIndex a) {
    if (!cluster_->IsUp(a)) return;
    auto rows = cluster_->primary_store(a)->CommittedFrom(0, size_t{1} << 30);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (rows.ok()) snapshots_.push_back({a, Now(), *rows});
    equivocations_rejected_ += Rejected(a, "equivocation");
    cluster_->Crash(a);
    ++crashes_[a];
    last_fault_us_ = Now();
  }
  void Restart(AuthorityIndex a) {
    if (cluster_->IsUp(a)) return;
    cluster_->Restart(a);
    last_restart_us_[a] = Now();
    last_fault_us_ = Now();
  }
  void ScheduleFaults(const std::vector<FaultEvent>& faults) {
    for (const FaultEvent& f : faults) {
      cluster_->scheduler().ScheduleAt(f.at_us, [this, f] {
        if (f.kind == FaultEvent::Kind::kCrash) Crash(f.node);
        if (f.kind == FaultEvent::Kind::kRestart) Restart(f.node);
      });
    }
  }

  uint64_t Rejected(AuthorityIndex a, const std::string& reason) {
    if (!cluster_->IsUp(a)) return 0;
    const auto& rej = cluster_->primary(a)->stats().rejected;
    auto it = rej.find(reason);
    return it == rej.end() ? 0 : it->second;
  }

  // End-of-run checks of the simulator (availability, liveness).
  void Finish(TimeUs liveness_bound_us) {
    checkers_->Finish(last_fault_us_, Now(), liveness_bound_us);
  }
  std::string Report() {
    std::string out;
    for (const Violation& v : checkers_->violations()) {
      absl::StrAppend(&out, "VIOLATION ", v.checker, " at ", v.at_us / 1e6, " s: ", v.evidence, "\n");
    }
    for (AuthorityIndex a = 0; a < n(); ++a) {
      absl::StrAppend(&out, cluster_->IsUp(a) ? cluster_->primary(a)->DebugString() : absl::StrCat("authority ", a, " down"),
                      " crashes ", crashes_[a], "\n");
    }
    return out;
  }
  void ExpectNoViolations() { EXPECT_TRUE(checkers_->violations().empty()) << Report(); }

  // Honest authorities never send two different headers for one round.
  int ExpectNoHonestEquivocation() {
    int equivocated = 0;
    for (const auto& [key, digests] : header_digests_) {
      if (byzantine_.contains(key.first)) {
        equivocated += digests.size() > 1;
        continue;
      }
      EXPECT_EQ(digests.size(), 1u) << "authority " << key.first << " sent " << digests.size()
                                    << " different headers for round " << key.second << " (crashes "
                                    << crashes_[key.first] << ")";
    }
    return equivocated;
  }

  struct CommitRecord {
    uint64_t index;
    TimeUs at_us;
  };
  struct Snapshot {
    AuthorityIndex node;
    TimeUs at_us;
    std::vector<CommittedSubDagRow> rows;
  };
  std::map<AuthorityIndex, std::vector<CommitRecord>> commits_;
  std::map<AuthorityIndex, TimeUs> last_restart_us_;
  std::map<AuthorityIndex, int> crashes_;
  std::vector<Snapshot> snapshots_;
  std::map<std::pair<AuthorityIndex, Round>, std::set<std::string>> header_digests_;
  std::function<void(const Endpoint&, const Endpoint&, const wire::Frame&)> on_header_frame;
  uint64_t equivocations_rejected_ = 0;
  TimeUs last_fault_us_ = 0;

 private:
  // A batch that seals by size inside SubmitTransaction holds the transaction
  // being submitted, whose seq is recorded only when the call returns: that
  // one is pending_.
  std::vector<uint64_t> TxIds(AuthorityIndex a, WorkerId w, const SealedBatch& b) {
    const std::tuple<AuthorityIndex, WorkerId, int> key{a, w, cluster_->restarts(a)};
    const auto& ids = submitted_[key];
    std::vector<uint64_t> out;
    for (uint64_t s = b.first_tx_seq; s < b.first_tx_seq + b.tx_count; ++s) {
      if (s < ids.size()) {
        out.push_back(ids[s]);
      } else if (pending_ && pending_->first == key) {
        out.push_back(pending_->second);
      }
    }
    return out;
  }
  // Round-robin over the workers of honest, running authorities; a
  // transaction's first 8 bytes are its id (as in RunSimulation).
  void Tick() {
    constexpr TimeUs kTickUs = 10 * kMillisecondUs;
    if (Now() >= options_.load_until_us) return;
    carry_ += options_.transactions_per_s * kTickUs / kSecondUs;
    std::string tx(std::max<size_t>(options_.transaction_size_bytes, 8), '\0');
    const uint32_t workers = options_.cluster.workers;
    while (carry_ >= 1.0) {
      carry_ -= 1.0;
      for (size_t tries = 0; tries < n() * workers; ++tries) {
        const AuthorityIndex a = static_cast<AuthorityIndex>(cursor_ / workers % n());
        const WorkerId w = static_cast<WorkerId>(cursor_ % workers);
        ++cursor_;
        if (!cluster_->IsUp(a) || (byzantine_.contains(a) && !options_.load_byzantine)) continue;
        const uint64_t id = next_tx_id_++;
        for (int i = 0; i < 8; ++i) tx[i] = static_cast<char>(id >> (8 * i));
        for (size_t i = 8; i < tx.size(); ++i) tx[i] = static_cast<char>(id * 31 + i);
        pending_.emplace(std::make_tuple(a, w, cluster_->restarts(a)), id);
        auto seq = cluster_->worker(a, w)->SubmitTransaction(tx);
        pending_.reset();
        if (seq.ok()) {
          auto& ids = submitted_[{a, w, cluster_->restarts(a)}];
          if (ids.size() <= *seq) ids.resize(*seq + 1);
          ids[*seq] = id;
        }
        break;
      }
    }
    cluster_->scheduler().Schedule(kTickUs, [this] { Tick(); });
  }

  HarnessOptions options_;
  absl::btree_set<AuthorityIndex> byzantine_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<Checkers> checkers_;
  double carry_ = 0;
  uint64_t cursor_ = 0;
  uint64_t next_tx_id_ = 0;
  absl::btree_map<std::tuple<AuthorityIndex, WorkerId, int>, std::vector<uint64_t>> submitted_;
  std::optional<std::pair<std::tuple<AuthorityIndex, WorkerId, int>, uint64_t>> pending_;
};

std::string StoreName(bool sqlite) { return sqlite ? "sqlite" : "memory"; }

std::string Report(const SimulationResult& r) {
  return absl::StrCat(r.ToJson(), "\nnode states:\n", absl::StrJoin(r.node_states, "\n"));
}

// ---------------------------------------------------------------------------
// RunSimulation with crash_restarts=K: all checkers hold.

using CycleParam = std::tuple<size_t, bool>;  // nodes, sqlite
class SimDurabilityCrashRestartTest : public ::testing::TestWithParam<CycleParam> {};

TEST_P(SimDurabilityCrashRestartTest, RandomCrashRestartCyclesKeepEveryChecker) {
  const auto& [nodes, sqlite] = GetParam();
  for (uint64_t seed : {11, 12, 13}) {
    SimulationOptions o;
    o.cluster.seed = seed * 100 + nodes;
    o.cluster.nodes = nodes;
    o.cluster.params.batch_size_bytes = 50'000;
    o.cluster.scheme = nodes <= 4 ? SignatureScheme::kEd25519 : SignatureScheme::kSimInsecure;
    o.cluster.network.packet_loss_probability = 0.05;
    o.sqlite_store = sqlite;
    o.duration_us = 60 * kSecondUs;
    o.drain_us = 10 * kSecondUs;
    o.transactions_per_s = 800;
    o.crash_restarts = nodes <= 4 ? 6 : 10;
    o.scenario_name = absl::StrCat("crash_restarts_n", nodes, "_", StoreName(sqlite));
    const SimulationResult r = RunSimulation(o);
    SCOPED_TRACE(absl::StrCat("seed ", o.cluster.seed, " nodes ", nodes, " ", StoreName(sqlite)));
    int restarts = 0;
    std::set<AuthorityIndex> victims;
    for (const FaultEvent& f : r.faults) {
      restarts += f.kind == FaultEvent::Kind::kRestart;
      if (f.kind == FaultEvent::Kind::kCrash) victims.insert(f.node);
    }
    EXPECT_GE(restarts, 3) << "the schedule must really crash and restart";
    EXPECT_LE(victims.size(), (nodes - 1) / 3) << "at most f victims";
    EXPECT_TRUE(r.violations.empty()) << Report(r);
    EXPECT_EQ(r.node_states.size(), nodes) << "every node is up at the end";
    // Restarted nodes caught up: every node's last committed round is close
    // to the highest ("authority A: round R proposed P committed C ...").
    std::vector<unsigned long long> committed;
    for (const std::string& line : r.node_states) {
      unsigned a = 0;
      unsigned long long round = 0, proposed = 0, c = 0;
      ASSERT_EQ(std::sscanf(line.c_str(), "authority %u: round %llu proposed %llu committed %llu", &a, &round,
                            &proposed, &c), 4) << line;
      committed.push_back(c);
    }
    const unsigned long long top = *std::max_element(committed.begin(), committed.end());
    for (size_t a = 0; a < committed.size(); ++a) {
      EXPECT_GE(committed[a] + 8, top) << "authority " << a << " did not catch up\n" << Report(r);
    }
    EXPECT_GT(r.accepted_transactions, 10'000u);
    EXPECT_GE(r.committed_transactions, r.accepted_transactions) << Report(r);
    // The store rows reported at the end include the committed output.
    bool has_committed = false;
    for (const auto& [table, rows] : r.store_rows) has_committed |= table == "committed" && rows > 0;
    EXPECT_TRUE(has_committed) << Report(r);
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, SimDurabilityCrashRestartTest,
                         ::testing::Combine(::testing::Values(size_t{4}, size_t{7}), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<CycleParam>& info) {
                           return absl::StrCat("n", std::get<0>(info.param), "_", StoreName(std::get<1>(info.param)));
                         });

// The "done when" of issue 5: --crash_restarts=K still reports 0 violations
// across 20 seeds (SQLite for even seeds, the memory store for odd ones), and
// every node has caught up at the end.
class SimDurabilitySeedsTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(SimDurabilitySeedsTest, CrashRestartsZeroViolations) {
  const uint64_t seed = GetParam();
  SimulationOptions o;
  o.cluster.seed = seed;
  o.cluster.nodes = 4;
  o.cluster.network.packet_loss_probability = 0.05;
  o.sqlite_store = seed % 2 == 0;
  o.duration_us = 40 * kSecondUs;
  o.drain_us = 10 * kSecondUs;
  o.transactions_per_s = 1000;
  o.crash_restarts = 3;
  o.scenario_name = "crash_restarts_seeds";
  const SimulationResult r = RunSimulation(o);
  EXPECT_TRUE(r.violations.empty()) << Report(r);
  EXPECT_GE(r.committed_transactions, r.accepted_transactions) << Report(r);
  EXPECT_GT(r.committed_sub_dags, 20u);
  std::vector<unsigned long long> committed;
  for (const std::string& line : r.node_states) {
    unsigned a = 0;
    unsigned long long round = 0, proposed = 0, c = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "authority %u: round %llu proposed %llu committed %llu", &a, &round,
                          &proposed, &c), 4) << line;
    committed.push_back(c);
  }
  ASSERT_EQ(committed.size(), 4u);
  const unsigned long long top = *std::max_element(committed.begin(), committed.end());
  for (size_t a = 0; a < committed.size(); ++a) {
    EXPECT_GE(committed[a] + 8, top) << "authority " << a << " did not catch up\n" << Report(r);
  }
}

INSTANTIATE_TEST_SUITE_P(TwentySeeds, SimDurabilitySeedsTest, ::testing::Range<uint64_t>(1, 21));

// ---------------------------------------------------------------------------
// Restarted nodes catch up; committed output identical from index 0.

class SimDurabilityOutputTest : public ::testing::TestWithParam<bool> {};

TEST_P(SimDurabilityOutputTest, RestartedNodesCatchUpAndOutputIsIdenticalFromIndexZero) {
  const bool sqlite = GetParam();
  HarnessOptions ho;
  ho.cluster.seed = sqlite ? 902 : 901;
  ho.cluster.nodes = 4;
  ho.cluster.params.batch_size_bytes = 50'000;
  ho.cluster.network.packet_loss_probability = 0.05;
  ho.sqlite = sqlite;
  ho.transactions_per_s = 800;
  ho.load_until_us = 50 * kSecondUs;
  Harness h(ho);
  // The simulator's own random schedule (one victim, f = 1), plus an
  // explicit crash of a second authority once the first is back, so that
  // two different nodes go through a restart.
  std::vector<FaultEvent> faults = DrawCrashRestarts(ho.cluster.seed, 4, 5, kSecondUs, 40 * kSecondUs);
  ASSERT_FALSE(faults.empty());
  const AuthorityIndex first = faults.front().node;
  const AuthorityIndex second = (first + 2) % 4;
  FaultEvent c{.at_us = 44 * kSecondUs, .kind = FaultEvent::Kind::kCrash, .node = second};
  FaultEvent s{.at_us = 47 * kSecondUs, .kind = FaultEvent::Kind::kRestart, .node = second};
  faults.push_back(c);
  faults.push_back(s);
  h.ScheduleFaults(faults);
  h.Start();
  h.RunUntil(70 * kSecondUs);
  h.Finish(20 * kSecondUs);
  h.ExpectNoViolations();
  h.ExpectNoHonestEquivocation();
  ASSERT_GE(h.crashes_[first], 2) << h.Report();
  ASSERT_EQ(h.crashes_[second], 1) << h.Report();

  // Each node's committed output, as a consumer reads it from the store.
  std::vector<std::vector<CommittedSubDagRow>> rows(4);
  size_t longest = 0;
  for (AuthorityIndex a = 0; a < 4; ++a) {
    auto r = h.cluster().primary_store(a)->CommittedFrom(0, size_t{1} << 30);
    ASSERT_TRUE(r.ok()) << r.status();
    rows[a] = std::move(*r);
    longest = std::max(longest, rows[a].size());
    for (size_t i = 0; i < rows[a].size(); ++i) {
      ASSERT_EQ(rows[a][i].index, i) << "authority " << a << ": gap or repeat in its committed output";
    }
  }
  ASSERT_GT(longest, 50u) << h.Report();
  // A node that was never crashed is the reference.
  AuthorityIndex ref = 0;
  while (ref == first || ref == second) ++ref;
  for (AuthorityIndex a = 0; a < 4; ++a) {
    // Caught up: within a few indexes of the longest at the end, and committing
    // again after its last restart.
    EXPECT_GE(rows[a].size() + 3, longest) << "authority " << a << " did not catch up\n" << h.Report();
    if (h.last_restart_us_.contains(a)) {
      int after = 0;
      for (const auto& c : h.commits_[a]) after += c.at_us > h.last_restart_us_[a];
      EXPECT_GT(after, 5) << "authority " << a << " committed nothing after its restart";
    }
    const size_t common = std::min(rows[a].size(), rows[ref].size());
    for (size_t i = 0; i < common; ++i) {
      if (rows[a][i].sub_dag != rows[ref][i].sub_dag) {
        // Tell a different sub-DAG from a different serialization of one.
        wire::CommittedSubDag x, y;
        ASSERT_TRUE(x.ParseFromString(rows[a][i].sub_dag) && y.ParseFromString(rows[ref][i].sub_dag));
        std::string what = x.leader() == y.leader() && x.certificates_size() == y.certificates_size()
                               ? "the same leader and size (different bytes, e.g. vote sets)"
                               : "a different sub-DAG";
        ADD_FAILURE() << "committed output differs at index " << i << " between authority " << a
                      << " (crashes " << h.crashes_[a] << ") and authority " << ref << ": " << what;
        break;
      }
    }
  }
  // Exactly-once by index for consumers: what could be read from a node just
  // before each crash reads the same after its restart.
  ASSERT_GE(h.snapshots_.size(), 3u);
  for (const auto& snap : h.snapshots_) {
    const auto& now = rows[snap.node];
    ASSERT_LE(snap.rows.size(), now.size()) << "authority " << snap.node << " lost committed output";
    for (size_t i = 0; i < snap.rows.size(); ++i) {
      ASSERT_EQ(snap.rows[i].index, now[i].index);
      ASSERT_EQ(snap.rows[i].sub_dag, now[i].sub_dag)
          << "authority " << snap.node << " index " << i << " changed across the crash at " << snap.at_us << " us";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, SimDurabilityOutputTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return StoreName(info.param); });

// ---------------------------------------------------------------------------
// Catch-up after a long downtime. The others garbage-collect rounds more than
// gc_depth below their last commit and prune them from their stores, so a
// node that comes back after more than gc_depth rounds cannot fetch the
// parents it misses from anyone.

// Authority 3 down from 10 s to `restart_us`: it must catch up.
void RunCatchUp(bool sqlite, TimeUs restart_us) {
  HarnessOptions ho;
  ho.cluster.seed = 950 + sqlite;
  ho.cluster.nodes = 4;
  ho.cluster.params.batch_size_bytes = 50'000;
  ho.cluster.params.gc_depth = 50;  // the default
  ho.cluster.network.packet_loss_probability = 0.02;
  ho.sqlite = sqlite;
  ho.transactions_per_s = 500;
  ho.load_until_us = restart_us + 15 * kSecondUs;
  Harness h(ho);
  h.ScheduleFaults({FaultEvent{.at_us = 10 * kSecondUs, .kind = FaultEvent::Kind::kCrash, .node = 3},
                    FaultEvent{.at_us = restart_us, .kind = FaultEvent::Kind::kRestart, .node = 3}});
  h.Start();
  h.RunUntil(restart_us);
  const Round others_at_restart = h.cluster().primary(0)->last_committed_round();
  h.RunUntil(restart_us + 30 * kSecondUs);
  h.Finish(20 * kSecondUs);
  SCOPED_TRACE(absl::StrCat("seed ", ho.cluster.seed, " ", StoreName(sqlite), ", authority 3 down 10 s -> ",
                            restart_us / kSecondUs, " s; the others had committed round ", others_at_restart,
                            " at the restart (gc_depth 50)"));
  h.ExpectNoViolations();
  auto next = [&](AuthorityIndex a) {
    auto n = h.cluster().primary_store(a)->NextCommitIndex();
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : 0;
  };
  EXPECT_GE(next(3) + 3, next(0)) << "authority 3 did not catch up\n" << h.Report();
  EXPECT_GE(h.cluster().primary(3)->last_committed_round() + 8, h.cluster().primary(0)->last_committed_round())
      << h.Report();
}

class SimDurabilityCatchUpTest : public ::testing::TestWithParam<bool> {};

TEST_P(SimDurabilityCatchUpTest, RestartWithinTheGcWindowCatchesUp) {
  RunCatchUp(GetParam(), 13 * kSecondUs);  // ~25 rounds down, gc_depth 50
}

// PRODUCT BUG (see the report of this test's author): a node down for more
// than gc_depth rounds never catches up. It restarts, asks for the parents of
// the certificates it receives, nobody has them any more (pruned below the GC
// round), and it stays at its old round forever with its fetches pending;
// with f such nodes the committee loses its slack. Re-enable when the core
// can catch up past the GC window (e.g. sync of committed output).
TEST_P(SimDurabilityCatchUpTest, RestartAfterMoreThanGcDepthRoundsCatchesUp) {
  RunCatchUp(GetParam(), 30 * kSecondUs);  // ~150 rounds down, gc_depth 50
}

INSTANTIATE_TEST_SUITE_P(Stores, SimDurabilityCatchUpTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return StoreName(info.param); });

// ---------------------------------------------------------------------------
// Crash right after proposing: no second header for that round.

using ProposeParam = std::tuple<size_t, bool>;  // nodes, sqlite
class SimDurabilityNoEquivocationTest : public ::testing::TestWithParam<ProposeParam> {};

TEST_P(SimDurabilityNoEquivocationTest, CrashRightAfterProposingNeverSendsASecondHeader) {
  const auto& [nodes, sqlite] = GetParam();
  HarnessOptions ho;
  ho.cluster.seed = 700 + nodes + sqlite;
  ho.cluster.nodes = nodes;
  ho.cluster.params.batch_size_bytes = 50'000;
  ho.cluster.scheme = nodes <= 4 ? SignatureScheme::kEd25519 : SignatureScheme::kSimInsecure;
  ho.cluster.network.packet_loss_probability = 0.05;
  ho.sqlite = sqlite;
  ho.transactions_per_s = 500;
  ho.load_until_us = 50 * kSecondUs;
  Harness h(ho);
  // Victims: f authorities. Each time a victim persists its own header it is
  // crashed after one of several short delays (0 = before any frame of it
  // reaches anyone), then restarted after a varying pause; the delay and the
  // pause cycle through fixed lists so that many situations are covered.
  const size_t f = (nodes - 1) / 3;
  const std::vector<TimeUs> crash_delays_us = {0, 1, 500, 2 * kMillisecondUs, 5 * kMillisecondUs,
                                               12 * kMillisecondUs, 40 * kMillisecondUs, 150 * kMillisecondUs};
  const std::vector<TimeUs> down_us = {50 * kMillisecondUs, 300 * kMillisecondUs, 1 * kSecondUs, 2500 * kMillisecondUs};
  std::map<AuthorityIndex, int> cycles;
  std::map<AuthorityIndex, bool> pending;
  constexpr TimeUs kStopCrashingUs = 40 * kSecondUs;
  for (size_t i = 0; i < f; ++i) {
    const AuthorityIndex v = static_cast<AuthorityIndex>(1 + 2 * i);
    h.hooks(v)->on_own_header = [&, v](Round) {
      if (pending[v] || h.Now() >= kStopCrashingUs) return;
      pending[v] = true;
      const int k = cycles[v]++;
      const TimeUs delay = crash_delays_us[k % crash_delays_us.size()];
      const TimeUs down = down_us[(k / 2) % down_us.size()];
      h.cluster().scheduler().Schedule(delay, [&, v, down] {
        h.Crash(v);
        h.cluster().scheduler().Schedule(down, [&, v] {
          h.Restart(v);
          // Let it propose normally for a little while before the next cycle.
          h.cluster().scheduler().Schedule(700 * kMillisecondUs, [&, v] { pending[v] = false; });
        });
      });
    };
  }
  h.Start();
  h.RunUntil(65 * kSecondUs);
  h.Finish(20 * kSecondUs);
  SCOPED_TRACE(absl::StrCat("seed ", ho.cluster.seed, " nodes ", nodes, " ", StoreName(sqlite)));
  h.ExpectNoViolations();
  EXPECT_EQ(h.ExpectNoHonestEquivocation(), 0);
  for (size_t i = 0; i < f; ++i) {
    const AuthorityIndex v = static_cast<AuthorityIndex>(1 + 2 * i);
    EXPECT_GE(h.crashes_[v], 12) << "authority " << v << " was not crashed often enough\n" << h.Report();
    EXPECT_TRUE(h.cluster().IsUp(v));
    // It still proposes and certifies after all that.
    EXPECT_GT(h.cluster().primary(v)->round(), 10u) << h.Report();
  }
  // Its headers were seen on the wire for many rounds (each exactly once).
  int victim_rounds = 0;
  for (const auto& [key, digests] : h.header_digests_) victim_rounds += key.first == 1;
  EXPECT_GT(victim_rounds, 30);
}

INSTANTIATE_TEST_SUITE_P(Committees, SimDurabilityNoEquivocationTest,
                         ::testing::Combine(::testing::Values(size_t{4}, size_t{7}), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<ProposeParam>& info) {
                           return absl::StrCat("n", std::get<0>(info.param), "_", StoreName(std::get<1>(info.param)));
                         });

// ---------------------------------------------------------------------------
// Crash right after voting, then the equivocator's other header arrives.

class SimDurabilityVoteTest : public ::testing::TestWithParam<bool> {};

TEST_P(SimDurabilityVoteTest, CrashRightAfterVotingNeverVotesForTheOtherHeader) {
  const bool sqlite = GetParam();
  HarnessOptions ho;
  ho.cluster.seed = 800 + sqlite;
  ho.cluster.nodes = 7;  // f = 2: one equivocator, one crashing honest node
  ho.cluster.params.batch_size_bytes = 50'000;
  ho.cluster.scheme = SignatureScheme::kSimInsecure;
  ho.cluster.network.packet_loss_probability = 0.02;
  const ByzantineBehavior b = *ByzantineBehavior::Parse("equivocate");
  constexpr AuthorityIndex kByz = 6;
  constexpr AuthorityIndex kVictim = 0;  // in the half that gets the first header
  ho.cluster.byzantine[kByz] = b;
  ho.sqlite = sqlite;
  ho.transactions_per_s = 300;
  ho.load_until_us = 40 * kSecondUs;
  ho.load_byzantine = true;
  Harness h(ho);
  // The equivocator sends its second header to the other half only; as any
  // Byzantine node may, it also sends that header to the victim, late enough
  // that the victim has voted, crashed and restarted in between.
  h.on_header_frame = [&](const Endpoint& from, const Endpoint& to, const wire::Frame& f) {
    if (from.authority != kByz || to.authority == kVictim || to.authority < 3) return;
    std::string copy = f.SerializeAsString();
    h.cluster().scheduler().Schedule(400 * kMillisecondUs, [&, copy] {
      h.cluster().network().Send(Endpoint::Primary(kByz), Endpoint::Primary(kVictim), copy);
    });
  };
  int cycles = 0;
  bool pending = false;
  h.hooks(kVictim)->on_vote = [&](AuthorityIndex origin, Round, const Digest&) {
    if (origin != kByz || pending || h.Now() >= 35 * kSecondUs) return;
    pending = true;
    ++cycles;
    h.cluster().scheduler().Schedule(cycles % 2 == 0 ? 0 : kMillisecondUs, [&] {
      h.Crash(kVictim);
      h.cluster().scheduler().Schedule(150 * kMillisecondUs, [&] {
        h.Restart(kVictim);
        h.cluster().scheduler().Schedule(kSecondUs, [&] { pending = false; });
      });
    });
  };
  h.Start();
  h.RunUntil(60 * kSecondUs);
  h.Finish(20 * kSecondUs);
  h.ExpectNoViolations();
  EXPECT_GT(h.ExpectNoHonestEquivocation(), 10) << "the equivocation did not happen";
  EXPECT_GE(cycles, 10) << h.Report();
  // The victim did see second headers after restarts and refused them.
  EXPECT_GT(h.equivocations_rejected_ + h.Rejected(kVictim, "equivocation"), 5u) << h.Report();
}

INSTANTIATE_TEST_SUITE_P(Stores, SimDurabilityVoteTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return StoreName(info.param); });

// ---------------------------------------------------------------------------
// A long run: the store stays bounded.

// Rows per table of one node: its primary store and its worker's, keyed
// "primary/<table>" and "worker/<table>".
std::map<std::string, int64_t> NodeRows(Cluster& cluster, AuthorityIndex a) {
  std::map<std::string, int64_t> out;
  for (uint32_t role = 0; role <= cluster.committee().workers_per_authority(); ++role) {
    Store* s = role == 0 ? cluster.primary_store(a) : cluster.worker_store(a, role - 1);
    auto counts = s->RowCounts();
    EXPECT_TRUE(counts.ok()) << counts.status();
    if (!counts.ok()) continue;
    for (const auto& [table, n] : *counts) out[absl::StrCat(role == 0 ? "primary/" : "worker/", table)] += n;
  }
  return out;
}

std::string RowsText(const std::map<std::string, int64_t>& rows) {
  std::vector<std::string> parts;
  for (const auto& [t, n] : rows) parts.push_back(absl::StrCat(t, "=", n));
  return absl::StrJoin(parts, " ");
}

using BoundsParam = std::tuple<bool, uint64_t>;  // sqlite, committed_output_retention
class SimDurabilityStoreBoundsTest : public ::testing::TestWithParam<BoundsParam> {};

TEST_P(SimDurabilityStoreBoundsTest, StoreRowsDoNotGrowWithDuration) {
  const auto& [sqlite, retention] = GetParam();
  constexpr Round kGcDepth = 20;
  constexpr TimeUs kEndUs = 300 * kSecondUs;
  HarnessOptions ho;
  ho.cluster.seed = 600 + sqlite * 2 + (retention > 0);
  ho.cluster.nodes = 4;
  ho.cluster.params.batch_size_bytes = 50'000;
  ho.cluster.params.gc_depth = kGcDepth;
  if (retention > 0) {
    ho.cluster.params.committed_output_retention = retention;
    ho.cluster.params.state_sync_retention = retention;
  }
  ho.cluster.network.packet_loss_probability = 0.02;
  ho.sqlite = sqlite;
  ho.transactions_per_s = 300;
  ho.load_until_us = kEndUs - 10 * kSecondUs;
  Harness h(ho);
  // One crash/restart early on: recovery must not make the store grow either.
  h.ScheduleFaults({FaultEvent{.at_us = 40 * kSecondUs, .kind = FaultEvent::Kind::kCrash, .node = 3},
                    FaultEvent{.at_us = 44 * kSecondUs, .kind = FaultEvent::Kind::kRestart, .node = 3}});
  h.Start();
  // Samples at 1/4, 1/2, 3/4 and the end of the run.
  std::vector<std::vector<std::map<std::string, int64_t>>> samples;  // [sample][node]
  std::vector<uint64_t> next_index;                                   // authority 0, per sample
  for (TimeUs t : {kEndUs / 4, kEndUs / 2, 3 * kEndUs / 4, kEndUs}) {
    h.RunUntil(t);
    samples.emplace_back();
    for (AuthorityIndex a = 0; a < 4; ++a) samples.back().push_back(NodeRows(h.cluster(), a));
    auto next = h.cluster().primary_store(0)->NextCommitIndex();
    ASSERT_TRUE(next.ok());
    next_index.push_back(*next);
  }
  h.Finish(20 * kSecondUs);
  h.ExpectNoViolations();
  std::string all;
  for (size_t s = 0; s < samples.size(); ++s) {
    for (AuthorityIndex a = 0; a < 4; ++a) absl::StrAppend(&all, "t", s, " node ", a, ": ", RowsText(samples[s][a]), "\n");
  }
  SCOPED_TRACE(all);
  RecordProperty("store_rows", all);  // in test.xml, for the record
  ASSERT_GT(next_index.back(), 300u) << "the run must commit a lot for the bound to mean anything";

  // Tables that garbage collection bounds: the second half of the run holds no
  // more than the first half (plus a margin for where in a GC step a sample
  // falls), and never more than a few gc_depth windows of the DAG.
  const std::vector<std::string> bounded = {"primary/certificates", "primary/votes", "primary/own_headers",
                                            "primary/payload", "primary/own_payload", "worker/batches"};
  for (AuthorityIndex a = 0; a < 4; ++a) {
    for (const std::string& table : bounded) {
      ASSERT_TRUE(samples[0][a].contains(table)) << table;
      const int64_t first_half = std::max(samples[0][a][table], samples[1][a][table]);
      const int64_t second_half = std::max(samples[2][a][table], samples[3][a][table]);
      // 2x: a sample can fall on a burst (a loss streak backs up a few
      // rounds of payload); growth with duration would be far beyond it.
      EXPECT_LE(second_half, first_half * 2 + 20) << "node " << a << " " << table << " grows with duration";
      // Per round at most one certificate per author (4), one own header,
      // votes for 3 others; 4 gc_depth windows is generous.
      EXPECT_LE(second_half, int64_t{4} * 4 * kGcDepth + 50) << "node " << a << " " << table;
    }
  }
  // The committed output (executed rows, what clients read) grows with the
  // run unless retention caps it; the signed rows kept for state sync are
  // capped by state_sync_retention (pruned in steps of 64).
  for (AuthorityIndex a = 0; a < 4; ++a) {
    const int64_t mid = samples[1][a]["primary/executed"];
    const int64_t end = samples[3][a]["primary/executed"];
    if (retention == 0) {
      EXPECT_GT(mid, 100) << "node " << a;
      EXPECT_GE(end * 10, mid * 17) << "node " << a << ": executed rows must keep every index";
    } else {
      for (size_t s = 0; s < samples.size(); ++s) {
        EXPECT_LE(samples[s][a]["primary/executed"], static_cast<int64_t>(retention)) << "node " << a << " sample " << s;
        EXPECT_LE(samples[s][a]["primary/committed"], static_cast<int64_t>(retention) + 64)
            << "node " << a << " sample " << s;
      }
      EXPECT_EQ(end, static_cast<int64_t>(retention)) << "node " << a;
    }
  }
  // Reading from 0 gives the retained window: it starts where retention says
  // and ends at the next index.
  auto rows = h.cluster().primary_store(0)->ExecutedFrom(0, size_t{1} << 30);
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  EXPECT_EQ(rows->back().index + 1, next_index.back());
  EXPECT_EQ(rows->front().index, retention == 0 ? 0 : next_index.back() - retention);
  EXPECT_GT(next_index[3], next_index[1] * 17 / 10) << "commits go on at the same pace";
}

INSTANTIATE_TEST_SUITE_P(StoresAndRetention, SimDurabilityStoreBoundsTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(uint64_t{0}, uint64_t{64})),
                         [](const ::testing::TestParamInfo<BoundsParam>& info) {
                           return absl::StrCat(StoreName(std::get<0>(info.param)), "_retention",
                                               std::get<1>(info.param));
                         });

}  // namespace
}  // namespace narwhal::sim
