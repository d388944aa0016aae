// What a node's worker role shows outside: its Prometheus metrics and its
// health (docs/metrics.md). Update() runs once a second on the event loop
// thread and copies the core's and the ingress's statistics.
#ifndef NARWHAL_NODE_WORKER_OBSERVER_H_
#define NARWHAL_NODE_WORKER_OBSERVER_H_

#include <map>
#include <string>

#include "core/worker/worker.h"
#include "node/client.pb.h"
#include "node/health.h"
#include "node/ingress.h"
#include "node/metrics.h"
#include "store_sqlite/sqlite_store.h"
#include "transport_zmq/zmq_transport.h"

namespace narwhal::node {

class WorkerObserver {
 public:
  WorkerObserver(MetricsRegistry& registry, AuthorityIndex self, WorkerId id, const Parameters& params,
                 std::string store_dir, HealthThresholds thresholds, TimeUs started_us);

  void Update(const Worker& worker, const Ingress& ingress, const SqliteStore& store,
              const ZmqTransport& transport, TimeUs now_us);
  const client::StatusReply& status() const { return status_; }

 private:
  const AuthorityIndex self_;
  const WorkerId id_;
  const uint64_t max_pending_bytes_;
  const std::string store_dir_;
  const HealthThresholds thresholds_;
  const TimeUs started_us_;
  client::StatusReply status_;

  CounterFamily batches_sealed_;  // by reason
  CounterFrom batches_quorum_;
  CounterFrom batches_received_;
  CounterFrom batches_rejected_;
  CounterFrom batch_requests_served_;
  CounterFrom batch_sync_requests_;
  CounterFrom batches_fetched_;
  prometheus::Gauge& pending_bytes_;
  prometheus::Gauge& max_pending_bytes_gauge_;
  CounterFrom ingress_requests_;
  CounterFamily ingress_transactions_;  // by result
  CounterFamily ingress_refused_;       // by reason
  CounterFrom ingress_malformed_;
  CounterFrom ingress_replies_dropped_;
  CounterFrom transport_frames_dropped_;
  CounterFrom transport_sends_refused_;
  GaugeFamily store_bytes_;
  prometheus::Gauge& disk_free_;
  prometheus::Gauge& healthy_;
  MessengerMetrics messenger_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_WORKER_OBSERVER_H_
