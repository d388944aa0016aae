// The committed output a client reads is durable (issue 11), checked where a
// client reads it: 4 authorities, each a primary and a worker process, at
// the default parameters (gc_depth 50, SQLite FULL), under client load.
//   1. kill -9 of authority 1 (both processes) under load, restarted 25 s
//      later on the same stores: longer than workers used to keep batches
//      (2 x gc_depth rounds, ~12-20 s at the defaults);
//   2. SIGTERM of the whole committee, and a restart.
// After each, a fresh client reads every primary's stream from index 0: the
// streams are identical, hold every accepted transaction exactly once, and
// no batch is `unavailable`. Before the executor moved into the core, step
// 1 left ~15,000 accepted transactions unreadable at authority 1 and step 2
// made every batch unreadable everywhere.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "node/client_lib.h"
#include "node/load.h"
#include "node/local_cluster.h"

namespace narwhal::node {
namespace {

using TxId = std::pair<uint64_t, uint64_t>;  // (client id, counter)

struct Stream {
  std::vector<std::string> leaders;
  std::vector<TxId> txs;
  uint64_t unavailable = 0;
  std::string error;
};

// What a new client reads from index 0 at `address`, until it holds
// `want_txs` transactions and has reached the server's next index (or the
// timeout).
Stream ReadFromZero(void* context, const std::string& address, size_t want_txs, absl::Duration timeout) {
  Stream out;
  OutputClient::Options options;
  options.from_index = 0;
  auto tail = OutputClient::Connect(context, address, options);
  if (!tail.ok()) {
    out.error = std::string(tail.status().message());
    return out;
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (out.txs.size() >= want_txs && (*tail)->server_next_index() > 0 &&
        (*tail)->next_index() >= (*tail)->server_next_index()) {
      break;
    }
    auto m = (*tail)->Next(200);
    if (!m.ok()) {
      out.error = std::string(m.status().message());
      return out;
    }
    if (!m->has_value() || !(*m)->has_sub_dag()) continue;
    const client::SubDag& sd = (*m)->sub_dag();
    out.leaders.push_back(sd.leader());
    for (const auto& c : sd.certificates()) {
      for (const auto& b : c.batches()) {
        if (b.unavailable()) ++out.unavailable;
        for (const std::string& tx : b.transactions()) {
          auto info = ParseBenchTransaction(tx);
          if (!info) {
            out.error = "a committed transaction is not one we submitted";
            continue;
          }
          out.txs.emplace_back(info->client_id, info->counter);
        }
      }
    }
  }
  return out;
}

// Submits from one client thread per authority in `to` (count each, at
// `rate` each); runs `meanwhile` on this thread; returns the accepted ids.
absl::flat_hash_set<TxId> Submit(void* context, LocalCluster& cluster, const std::vector<int>& to, uint64_t count,
                                 double rate, uint64_t first_client_id, const std::function<void()>& meanwhile) {
  std::vector<absl::StatusOr<SubmitReport>> reports(to.size(), absl::UnknownError(""));
  std::vector<std::thread> threads;
  for (size_t k = 0; k < to.size(); ++k) {
    threads.emplace_back([&, k] {
      SubmitOptions o;
      o.address = cluster.transactions_address(to[k], 0);
      o.tx_size = 512;
      o.rate = rate;
      o.count = count;
      o.sample_every = 0;
      o.wait_s = 60;
      o.client_id = first_client_id + k;
      reports[k] = RunSubmit(context, o);
    });
  }
  if (meanwhile) meanwhile();
  for (auto& t : threads) t.join();
  absl::flat_hash_set<TxId> accepted;
  for (size_t k = 0; k < to.size(); ++k) {
    EXPECT_TRUE(reports[k].ok()) << reports[k].status();
    if (!reports[k].ok()) continue;
    EXPECT_EQ(reports[k]->accepted, count) << reports[k]->ToJson();
    // RunSubmit numbers transactions 0.. in order; all were accepted.
    for (uint64_t i = 0; i < reports[k]->accepted; ++i) accepted.insert({first_client_id + k, i});
  }
  return accepted;
}

// Every primary's stream from 0: identical, complete, nothing unavailable.
void ExpectCompleteEverywhere(void* context, LocalCluster& cluster, const absl::flat_hash_set<TxId>& accepted,
                              const std::string& when, Stream* reference_out) {
  std::vector<Stream> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(ReadFromZero(context, cluster.output_address(i), accepted.size(), absl::Seconds(120)));
    std::cout << when << ": authority " << i << " serves " << streams.back().leaders.size() << " sub-DAGs, "
              << streams.back().txs.size() << " transactions from index 0, " << streams.back().unavailable
              << " unavailable batches" << std::endl;
  }
  for (int i = 0; i < 4; ++i) {
    const Stream& s = streams[i];
    EXPECT_EQ(s.error, "") << when << ", authority " << i;
    EXPECT_EQ(s.unavailable, 0u) << when << ", authority " << i;
    absl::flat_hash_set<TxId> seen;
    for (const TxId& tx : s.txs) EXPECT_TRUE(seen.insert(tx).second) << when << ": a transaction output twice";
    size_t missing = 0;
    for (const TxId& tx : accepted) missing += !seen.contains(tx);
    EXPECT_EQ(missing, 0u) << when << ": authority " << i << " misses accepted transactions";
  }
  // Same sub-DAGs and transactions in the same order, over the common prefix
  // (a stream read a moment later may hold a few more empty sub-DAGs).
  for (int i = 1; i < 4; ++i) {
    const size_t n = std::min(streams[0].leaders.size(), streams[i].leaders.size());
    for (size_t k = 0; k < n; ++k) {
      ASSERT_EQ(streams[0].leaders[k], streams[i].leaders[k]) << when << ": sub-DAG " << k << " of authority " << i;
    }
    const size_t m = std::min(streams[0].txs.size(), streams[i].txs.size());
    for (size_t k = 0; k < m; ++k) {
      ASSERT_EQ(streams[0].txs[k], streams[i].txs[k]) << when << ": transaction " << k << " of authority " << i;
    }
  }
  if (reference_out != nullptr) *reference_out = streams[0];
}

TEST(OutputDurability, KillOneUnderLoadThenStopAllAndRestart) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  auto binary = FindBinary("node/narwhal_node", "");
  ASSERT_TRUE(binary.ok()) << binary.status();
  LocalClusterOptions co;
  co.nodes = 4;
  co.workers = 1;
  co.dir = absl::StrCat(tmp ? tmp : "/tmp", "/output_durability");
  co.node_binary = *binary;
  co.committee_flags = {};  // the defaults a user gets
  co.stats_interval_s = 2;
  auto cluster = LocalCluster::Create(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->StartAll().ok());
  ClientContext context;

  // 1. Load on all four; authority 1 killed after 3 s, back 25 s later.
  absl::flat_hash_set<TxId> accepted =
      Submit(context.get(), **cluster, {0, 1, 2, 3}, 1500, 300, 1000, [&] {});
  ASSERT_EQ(accepted.size(), 6000u);
  absl::flat_hash_set<TxId> during = Submit(context.get(), **cluster, {0, 2, 3}, 9000, 300, 2000, [&] {
    absl::SleepFor(absl::Seconds(3));
    (*cluster)->KillAuthority(1, SIGKILL);
    absl::SleepFor(absl::Seconds(25));
    ASSERT_TRUE((*cluster)->StartAuthority(1).ok());
  });
  accepted.insert(during.begin(), during.end());
  ASSERT_EQ(accepted.size(), 33000u);
  ASSERT_TRUE((*cluster)->CheckAlive().ok());
  Stream before;
  ExpectCompleteEverywhere(context.get(), **cluster, accepted, "after kill -9 and restart of authority 1", &before);
  if (HasFatalFailure()) return;

  // 2. SIGTERM of every process, then a restart of the whole committee.
  (*cluster)->StopAll();
  // A clean shutdown leaves no large write-ahead log behind.
  for (int i = 0; i < 4; ++i) {
    for (const char* file : {"primary.db-wal", "worker-0.db-wal"}) {
      const std::string path = absl::StrCat(co.dir, "/store-", i, "/", file);
      struct stat st;
      if (::stat(path.c_str(), &st) == 0) {
        EXPECT_LT(st.st_size, 1 << 20) << path << " is " << st.st_size << " bytes after a clean shutdown";
      }
    }
  }
  ASSERT_TRUE((*cluster)->StartAll().ok());
  Stream after;
  ExpectCompleteEverywhere(context.get(), **cluster, accepted, "after SIGTERM and restart of all", &after);
  if (HasFatalFailure()) return;
  // The restart changed nothing already served.
  const size_t n = std::min(before.leaders.size(), after.leaders.size());
  EXPECT_GE(after.leaders.size(), before.leaders.size());
  for (size_t k = 0; k < n; ++k) ASSERT_EQ(before.leaders[k], after.leaders[k]) << "sub-DAG " << k;
  ASSERT_TRUE((*cluster)->CheckAlive().ok());
  (*cluster)->StopAll();
}

}  // namespace
}  // namespace narwhal::node
