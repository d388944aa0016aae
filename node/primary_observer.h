// What a node's primary role shows outside: its Prometheus metrics and its
// health (docs/metrics.md, docs/deploy.md). Fed by the primary's hooks
// (commits, certificates, own batches, executed rows) and, once a second,
// by Update(), which copies the core's statistics into the registry and
// computes the health verdict. Runs on the event loop thread.
#ifndef NARWHAL_NODE_PRIMARY_OBSERVER_H_
#define NARWHAL_NODE_PRIMARY_OBSERVER_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "core/consensus/consensus.h"
#include "core/primary/primary.h"
#include "node/client.pb.h"
#include "node/health.h"
#include "node/metrics.h"
#include "node/output_server.h"
#include "store_sqlite/sqlite_store.h"

namespace narwhal::node {

class PrimaryObserver {
 public:
  PrimaryObserver(MetricsRegistry& registry, const Committee& committee, AuthorityIndex self,
                  std::string store_dir, HealthThresholds thresholds, TimeUs started_us);

  // Primary hooks (chained with the output server's).
  void OnCommit(const CommittedSubDag& sub, TimeUs now_us);
  void OnCertificateAccepted(const Certificate& certificate);
  void OnOwnBatch(const Digest& digest, TimeUs created_at_us);
  void OnExecuted(uint64_t index, TimeUs now_us);

  // Copies the statistics into the metrics and assesses health.
  void Update(const Primary& primary, const OutputServer& output, const SqliteStore& store,
              TimeUs now_us);
  // The verdict of the last Update.
  const client::StatusReply& status() const { return status_; }

 private:
  const AuthorityIndex self_;
  const std::string store_dir_;
  const HealthThresholds thresholds_;
  const TimeUs started_us_;
  Round highest_peer_round_ = 0;
  // Unset until the first Update (then the committed round at start, so a
  // restarted primary is not judged on rounds before it came back).
  std::optional<Round> last_own_committed_round_;
  Round last_committed_round_seen_ = 0;
  // "Starting" ends when an own certificate formed by this process is
  // committed. Old own certificates (replayed by state sync after a restart
  // on an empty store) do not count: the round this process was in when it
  // first formed a certificate is the bar (every own certificate from that
  // round on is one it formed).
  std::optional<uint64_t> formed_at_start_;
  std::optional<Round> first_formed_round_;
  TimeUs last_commit_us_ = 0;
  // Own batches not yet committed -> creation time; committed ones wait in
  // awaiting_execution_ (by consensus index) for their execution.
  absl::flat_hash_map<Digest, TimeUs> own_batches_;  // lookup only
  std::deque<Digest> own_batches_order_;
  absl::btree_map<uint64_t, std::vector<TimeUs>> awaiting_execution_;
  client::StatusReply status_;

  // Metrics.
  prometheus::Gauge& round_;
  prometheus::Gauge& highest_peer_round_gauge_;
  prometheus::Gauge& gc_round_;
  prometheus::Gauge& last_committed_round_;
  prometheus::Gauge& last_own_committed_round_gauge_;
  prometheus::Gauge& consensus_index_;
  prometheus::Gauge& executed_index_;
  prometheus::Gauge& dag_certificates_;
  CounterFrom headers_proposed_;
  CounterFrom certificates_formed_;
  CounterFamily certificates_accepted_;  // by author
  CounterFamily certificates_committed_;  // by author
  std::map<AuthorityIndex, uint64_t> accepted_by_author_;
  std::map<AuthorityIndex, uint64_t> committed_by_author_;
  CounterFrom sub_dags_committed_;
  CounterFrom votes_sent_;
  CounterFrom votes_received_;
  CounterFrom leader_timeouts_;
  CounterFrom batches_reproposed_;
  CounterFamily rejected_;  // by reason
  CounterFrom certificate_sync_requests_;
  CounterFrom sub_dags_synced_;
  CounterFamily executor_batches_;  // by source
  CounterFrom executor_requests_;
  prometheus::Gauge& executor_pending_;
  prometheus::Gauge& output_kept_bytes_;
  prometheus::Gauge& output_subscribers_;
  CounterFrom output_sub_dags_sent_;
  GaugeFamily store_bytes_;  // by file
  prometheus::Gauge& disk_free_;
  prometheus::Histogram& commit_latency_;
  prometheus::Histogram& execution_latency_;
  prometheus::Gauge& healthy_;
  MessengerMetrics messenger_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_PRIMARY_OBSERVER_H_
