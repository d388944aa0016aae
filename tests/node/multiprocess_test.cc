// A committee of 4 authorities, each a primary process and a worker process
// (8 OS processes) on loopback ports chosen at run time. 10,000
// transactions go in through the client ingress; every authority's
// committed output stream must hold all of them, in the same order. Midway,
// one authority is killed with SIGKILL: the other three keep committing;
// restarted from its stores, it catches up and its stream equals the
// others'.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "node/client_lib.h"
#include "node/load.h"
#include "node/local_cluster.h"
#include "tests/node/committed_stream.h"

namespace narwhal::node {
namespace {

// Submits `per_client[i]` transactions to worker 0 of authority clients[i],
// all at once from threads; returns the total accepted.
uint64_t SubmitFrom(void* context, LocalCluster& cluster, const std::vector<int>& authorities,
                    uint64_t per_client, uint64_t first_client_id, double rate,
                    const std::function<void()>& meanwhile = nullptr) {
  std::vector<absl::StatusOr<SubmitReport>> reports(authorities.size(), absl::UnknownError(""));
  std::vector<std::thread> threads;
  for (size_t k = 0; k < authorities.size(); ++k) {
    threads.emplace_back([&, k] {
      SubmitOptions o;
      o.address = cluster.transactions_address(authorities[k], 0);
      o.tx_size = 512;
      o.rate = rate;
      o.count = per_client;
      o.sample_every = 0;
      o.wait_s = 30;
      o.client_id = first_client_id + k;
      reports[k] = RunSubmit(context, o);
    });
  }
  if (meanwhile) meanwhile();
  for (auto& t : threads) t.join();
  uint64_t accepted = 0;
  for (const auto& r : reports) {
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) continue;
    EXPECT_EQ(r->submitted, per_client) << r->ToJson();
    EXPECT_EQ(r->accepted, per_client) << r->ToJson();
    accepted += r->accepted;
  }
  return accepted;
}

// Same transactions in the same order, each once, over the common length.
void ExpectSameOrder(const std::vector<TxId>& a, const std::vector<TxId>& b, const std::string& what) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(a[i], b[i]) << what << ": streams differ at transaction " << i;
  }
}

TEST(MultiProcess, FourAuthoritiesAgreeSurviveKillAndCatchUp) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  auto binary = FindBinary("node/narwhal_node", "");
  ASSERT_TRUE(binary.ok()) << binary.status();
  LocalClusterOptions co;
  co.nodes = 4;
  co.workers = 1;
  co.dir = absl::StrCat(tmp ? tmp : "/tmp", "/cluster");
  co.node_binary = *binary;
  co.committee_flags = {"--sqlite_synchronous=NORMAL", "--max_batch_delay_ms=50",
                        "--max_header_delay_ms=50", "--gc_depth=200"};
  co.stats_interval_s = 2;
  auto cluster = LocalCluster::Create(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->StartAll().ok());
  ClientContext context;
  std::vector<std::unique_ptr<StreamReader>> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(std::make_unique<StreamReader>(context.get(), (*cluster)->output_address(i)));
  }

  // Phase A: 5,000 transactions through all four workers.
  const uint64_t a = SubmitFrom(context.get(), **cluster, {0, 1, 2, 3}, 1250, 100, 1000);
  ASSERT_EQ(a, 5000u);
  ASSERT_TRUE(WaitFor([&] {
    for (auto& s : streams) if (s->transactions() < 5000 || !s->error().empty()) return false;
    return true;
  }, absl::Seconds(40))) << "not every authority committed phase A: " << streams[0]->transactions() << " "
                         << streams[1]->transactions() << " " << streams[2]->transactions() << " "
                         << streams[3]->transactions() << " " << streams[3]->error();
  ASSERT_TRUE((*cluster)->CheckAlive().ok());

  // Phase B: 5,000 more through authorities 0..2; authority 3 is killed
  // (SIGKILL, primary and worker) while they flow.
  size_t sub_dags_at_kill = 0;
  const uint64_t b = SubmitFrom(context.get(), **cluster, {0, 1, 2}, 5000 / 3 + 1, 200, 800, [&] {
    absl::SleepFor(absl::Milliseconds(700));
    (*cluster)->KillAuthority(3, SIGKILL);
    sub_dags_at_kill = streams[0]->sub_dags();
  });
  const size_t total = a + b;
  ASSERT_GE(total, 10000u);
  ASSERT_TRUE(WaitFor([&] {
    for (int i = 0; i < 3; ++i) if (streams[i]->transactions() < total) return false;
    return true;
  }, absl::Seconds(40))) << "the three live authorities did not commit everything: "
                         << streams[0]->transactions() << " " << streams[1]->transactions() << " "
                         << streams[2]->transactions();
  EXPECT_GT(streams[0]->sub_dags(), sub_dags_at_kill) << "no commits while authority 3 was down";
  // Stay down a while longer: the others keep committing (empty rounds).
  const size_t sub_dags_before = streams[0]->sub_dags();
  EXPECT_TRUE(WaitFor([&] { return streams[0]->sub_dags() >= sub_dags_before + 10; }, absl::Seconds(20)))
      << "the three live authorities stopped committing";
  const size_t stalled = streams[3]->transactions();
  EXPECT_LT(stalled, total) << "authority 3 was dead; it cannot have committed phase B";
  std::cout << "authority 3 killed at sub-DAG " << sub_dags_at_kill << " with " << stalled
            << " transactions; the others are at sub-DAG " << streams[0]->sub_dags() << " with "
            << streams[0]->transactions() << std::endl;
  const absl::Time restart = absl::Now();

  // Restart authority 3 from its stores: it catches up.
  ASSERT_TRUE((*cluster)->StartAuthority(3).ok());
  ASSERT_TRUE(WaitFor([&] { return streams[3]->transactions() >= total || !streams[3]->error().empty(); },
                      absl::Seconds(60)))
      << "authority 3 did not catch up: " << streams[3]->transactions() << " of " << total;
  ASSERT_EQ(streams[3]->error(), "");
  ASSERT_TRUE((*cluster)->CheckAlive().ok());
  std::cout << "authority 3 caught up " << streams[3]->transactions() << " transactions in "
            << absl::FormatDuration(absl::Now() - restart) << std::endl;

  // Same order everywhere, every transaction exactly once.
  const std::vector<TxId> reference = streams[0]->txs();
  absl::flat_hash_set<TxId> unique(reference.begin(), reference.end());
  EXPECT_EQ(unique.size(), reference.size()) << "a transaction was committed twice";
  EXPECT_EQ(reference.size(), total);
  const std::vector<std::string> leaders0 = streams[0]->leaders();
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(streams[i]->error(), "");
    ExpectSameOrder(reference, streams[i]->txs(), absl::StrCat("authority 0 vs ", i));
    EXPECT_GE(streams[i]->transactions(), total);
    const std::vector<std::string> leaders = streams[i]->leaders();
    const size_t n = std::min(leaders.size(), leaders0.size());
    for (size_t k = 0; k < n; ++k) ASSERT_EQ(leaders[k], leaders0[k]) << "sub-DAG " << k << " of authority " << i;
  }
  streams.clear();
  (*cluster)->StopAll();
}

}  // namespace
}  // namespace narwhal::node
