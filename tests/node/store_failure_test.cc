// The core's store-failure policy (core/fail_stop.h) on real processes and
// real SQLite files: authority 3's processes run with a file-size limit
// (RLIMIT_FSIZE, with SIGXFSZ ignored, so a write past it fails with EFBIG
// as on a full disk). Under load its store fails. Expected, as
// docs/node.md says:
//   - the role whose store failed stops by itself with exit status 1 and a
//     log line naming the failed operation ("store failure in ...");
//   - the other three authorities commit on, and every transaction a worker
//     acknowledged as accepted is committed (committed >= accepted, per
//     client, each transaction once);
//   - restarted without the limit on the same store files, authority 3
//     recovers and its output catches up with the others'.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "node/client_lib.h"
#include "node/load.h"
#include "node/local_cluster.h"
#include "tests/node/committed_stream.h"

namespace narwhal::node {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(StoreFailure, TheFailedRoleStopsCleanlyNothingAcceptedIsLostAndItRecovers) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  auto binary = FindBinary("node/narwhal_node", "");
  ASSERT_TRUE(binary.ok()) << binary.status();
  LocalClusterOptions co;
  co.nodes = 4;
  co.workers = 1;
  co.dir = absl::StrCat(tmp ? tmp : "/tmp", "/store_failure");
  co.node_binary = *binary;
  co.committee_flags = {"--sqlite_synchronous=NORMAL", "--max_batch_delay_ms=50", "--max_header_delay_ms=50"};
  co.stats_interval_s = 2;
  auto cluster = LocalCluster::Create(co);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  // 6 MiB per file: the worker's store passes it after a few seconds of load.
  (*cluster)->SetLaunchPrefix(3, {"/bin/bash", "-c", "trap '' XFSZ; ulimit -f 6144; exec \"$0\" \"$@\""});
  ASSERT_TRUE((*cluster)->StartAll().ok());
  ClientContext context;
  std::vector<std::unique_ptr<StreamReader>> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(std::make_unique<StreamReader>(context.get(), (*cluster)->output_address(i)));
  }

  // Load through all four workers until authority 3 fails, and on.
  constexpr uint64_t kPerClient = 12000;
  std::vector<absl::StatusOr<SubmitReport>> reports(4, absl::UnknownError("not run"));
  std::vector<std::thread> clients;
  for (int k = 0; k < 4; ++k) {
    clients.emplace_back([&, k] {
      SubmitOptions o;
      o.address = (*cluster)->transactions_address(k, 0);
      o.tx_size = 512;
      o.rate = 1000;
      o.count = kPerClient;
      o.sample_every = 0;
      o.wait_s = 10;
      o.client_id = 500 + k;
      reports[k] = RunSubmit(context.get(), o);
    });
  }
  for (auto& t : clients) t.join();
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(reports[k].ok()) << reports[k].status();
    EXPECT_EQ(reports[k]->accepted, kPerClient) << reports[k]->ToJson();
  }
  ASSERT_TRUE(reports[3].ok()) << reports[3].status();
  const SubmitReport& failing = *reports[3];
  std::cout << "client of authority 3: " << failing.ToJson() << std::endl;
  EXPECT_LT(failing.accepted, kPerClient) << "authority 3 never failed: raise the load or lower the limit";

  // Authority 3 stopped by itself: exit status 1, and its log says why.
  absl::Status alive = (*cluster)->CheckAlive();
  EXPECT_FALSE(alive.ok()) << "no process of authority 3 stopped";
  std::cout << "CheckAlive: " << alive << std::endl;
  bool named = false;
  for (const char* role : {"primary", "worker-0"}) {
    const std::string log = ReadFile(absl::StrCat(co.dir, "/node-3-", role, ".log"));
    const size_t at = log.find("store failure in");
    if (at == std::string::npos) continue;
    named = true;
    std::cout << "authority 3 " << role << ": " << log.substr(at, log.find('\n', at) - at) << std::endl;
    EXPECT_NE(log.find("stopping"), std::string::npos);
  }
  EXPECT_TRUE(named) << "no log of authority 3 names the store failure";
  int exited_with_1 = 0;
  for (size_t role = 0; role < 2; ++role) {
    std::optional<int> status = (*cluster)->ExitStatus(3, role);
    if (!status.has_value()) continue;
    EXPECT_TRUE(WIFEXITED(*status)) << "role " << role << " died by a signal, not a clean stop: " << *status;
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 1) ++exited_with_1;
  }
  EXPECT_GE(exited_with_1, 1);

  // The three healthy authorities' transactions are committed without
  // authority 3.
  ASSERT_TRUE(WaitFor([&] { return streams[0]->transactions() >= 3 * kPerClient; }, absl::Seconds(60)))
      << "authority 0 committed " << streams[0]->transactions() << " of " << 3 * kPerClient;

  // Restarted on the same files without the limit, authority 3 catches up,
  // and proposes what its primary had promised before it stopped (an own
  // batch is committed only through its author's header): everything any
  // worker accepted is committed, once, at authority 0.
  (*cluster)->SetLaunchPrefix(3, {});
  ASSERT_TRUE((*cluster)->StartAuthority(3).ok());
  const uint64_t accepted = 3 * kPerClient + failing.accepted;
  ASSERT_TRUE(WaitFor([&] { return streams[0]->transactions() >= accepted; }, absl::Seconds(90)))
      << "authority 0 committed " << streams[0]->transactions() << " of " << accepted << " accepted";
  std::map<uint64_t, uint64_t> per_client;
  std::set<TxId> seen;
  for (const TxId& t : streams[0]->txs()) {
    EXPECT_TRUE(seen.insert(t).second) << "transaction committed twice";
    ++per_client[t.first];
  }
  for (int k = 0; k < 3; ++k) EXPECT_EQ(per_client[500 + k], kPerClient);
  EXPECT_GE(per_client[503], failing.accepted);
  EXPECT_TRUE(streams[0]->error().empty()) << streams[0]->error();
  const size_t target = streams[0]->sub_dags();
  EXPECT_TRUE(WaitFor([&] { return streams[3]->sub_dags() >= target; }, absl::Seconds(90)))
      << "authority 3 at " << streams[3]->sub_dags() << " sub-DAGs of " << target;
  EXPECT_TRUE((*cluster)->CheckAlive().ok());
}

}  // namespace
}  // namespace narwhal::node
