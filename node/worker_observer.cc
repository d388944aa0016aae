#include "node/worker_observer.h"

#include "absl/strings/str_cat.h"
#include "prometheus/gauge.h"

namespace narwhal::node {
namespace {

std::map<std::string, std::string> Labels(AuthorityIndex self, WorkerId id) {
  return {{"authority", absl::StrCat(self)}, {"role", absl::StrCat("worker:", id)}};
}

}  // namespace

WorkerObserver::WorkerObserver(MetricsRegistry& r, AuthorityIndex self, WorkerId id, const Parameters& params,
                               std::string store_dir, HealthThresholds thresholds, TimeUs started_us)
    : self_(self),
      id_(id),
      max_pending_bytes_(params.max_pending_bytes),
      store_dir_(std::move(store_dir)),
      thresholds_(thresholds),
      started_us_(started_us),
      batches_sealed_(r.Counters("narwhal_worker_batches_sealed_total",
                                 "Batches sealed, by reason (size: batch_size_bytes reached; delay: "
                                 "max_batch_delay passed; early: none of ours awaited a quorum and "
                                 "min_batch_delay passed).",
                                 Labels(self, id), "reason")),
      batches_quorum_(r.Counter("narwhal_worker_batches_quorum_total",
                                "Own batches that reached a quorum of workers (their transactions are "
                                "accepted).",
                                Labels(self, id))),
      batches_received_(r.Counter("narwhal_worker_batches_received_total",
                                  "Batches received from other authorities' workers (first time).",
                                  Labels(self, id))),
      batches_rejected_(r.Counter("narwhal_worker_batches_rejected_total",
                                  "Batches from peers rejected (malformed or oversized).", Labels(self, id))),
      batch_requests_served_(r.Counter("narwhal_worker_batch_requests_served_total",
                                       "Batch requests answered for peers and the primary.", Labels(self, id))),
      batch_sync_requests_(r.Counter("narwhal_worker_batch_sync_requests_total",
                                     "Requests for missing batches sent to peer workers.", Labels(self, id))),
      batches_fetched_(r.Counter("narwhal_worker_batches_fetched_total",
                                 "Missing batches fetched from peer workers.", Labels(self, id))),
      pending_bytes_(r.Gauge("narwhal_worker_pending_bytes",
                             "Transaction bytes held not yet at quorum (ingress refuses past "
                             "max_pending_bytes).",
                             Labels(self, id))),
      max_pending_bytes_gauge_(r.Gauge("narwhal_worker_max_pending_bytes", "The max_pending_bytes parameter.",
                                       Labels(self, id))),
      ingress_requests_(r.Counter("narwhal_ingress_requests_total", "Submit requests from clients.",
                                  Labels(self, id))),
      ingress_transactions_(r.Counters("narwhal_ingress_transactions_total",
                                       "Client transactions, by result (sequenced: taken into a batch; "
                                       "accepted: their batch reached quorum).",
                                       Labels(self, id), "result")),
      ingress_refused_(r.Counters("narwhal_ingress_refused_total",
                                  "Client transactions refused, by reason (backpressure, oversized, invalid).",
                                  Labels(self, id), "reason")),
      ingress_malformed_(r.Counter("narwhal_ingress_malformed_total",
                                   "Client messages that were not a valid IngressRequest (answered with an "
                                   "error).",
                                   Labels(self, id))),
      ingress_replies_dropped_(r.Counter("narwhal_ingress_replies_dropped_total",
                                         "Replies or notices not delivered (client gone or its queue full).",
                                         Labels(self, id))),
      transport_frames_dropped_(r.Counter("narwhal_transport_frames_dropped_total",
                                          "Committee frames dropped by the transport (unknown sender, "
                                          "oversized, queue full).",
                                          Labels(self, id))),
      transport_sends_refused_(r.Counter("narwhal_transport_sends_refused_total",
                                         "Committee sends the transport refused (queue full; retried).",
                                         Labels(self, id))),
      store_bytes_(r.Gauges("narwhal_store_file_bytes", "Size of this role's store files, by file (main, wal).",
                            Labels(self, id), "file")),
      disk_free_(r.Gauge("narwhal_store_disk_free_bytes", "Free space on the store's file system.",
                         Labels(self, id))),
      healthy_(r.Gauge("narwhal_healthy", "1 if `narwhal_node status` says healthy, else 0.", Labels(self, id))),
      messenger_(r, Labels(self, id)) {
  max_pending_bytes_gauge_.Set(static_cast<double>(max_pending_bytes_));
  status_.set_role(absl::StrCat("worker:", id));
  status_.set_authority(self);
  status_.set_healthy(true);
}

void WorkerObserver::Update(const Worker& worker, const Ingress& ingress, const SqliteStore& store,
                            const ZmqTransport& transport, TimeUs now_us) {
  const WorkerStats& s = worker.stats();
  batches_sealed_["size"].Set(s.batches_sealed_by_size);
  batches_sealed_["delay"].Set(s.batches_sealed_by_delay);
  batches_sealed_["early"].Set(s.batches_sealed_early);
  batches_quorum_.Set(s.batches_quorum);
  batches_received_.Set(s.batches_received);
  batches_rejected_.Set(s.batches_rejected);
  batch_requests_served_.Set(s.batch_requests_served);
  batch_sync_requests_.Set(worker.batch_synchronizer().requests_sent());
  batches_fetched_.Set(worker.batch_synchronizer().fetched());
  pending_bytes_.Set(static_cast<double>(worker.pending_bytes()));
  const IngressStats& i = ingress.stats();
  ingress_requests_.Set(i.requests);
  ingress_transactions_["sequenced"].Set(i.transactions_sequenced);
  ingress_transactions_["accepted"].Set(i.transactions_accepted);
  ingress_refused_["backpressure"].Set(i.refused_backpressure);
  ingress_refused_["oversized"].Set(i.refused_oversized);
  ingress_refused_["invalid"].Set(i.refused_invalid);
  ingress_malformed_.Set(i.malformed);
  ingress_replies_dropped_.Set(i.replies_dropped);
  transport_frames_dropped_.Set(transport.stats().frames_dropped);
  transport_sends_refused_.Set(transport.stats().sends_refused);

  HealthInputs in;
  in.uptime_us = now_us - started_us_;
  in.unreachable_peers = messenger_.Update(worker.messenger().stats(), now_us, thresholds_.peer_silent_us_max);
  uint64_t store_bytes = 0;
  if (auto sizes = store.FileSizes(); sizes.ok()) {
    store_bytes_["main"].Set(static_cast<double>(sizes->main_bytes));
    store_bytes_["wal"].Set(static_cast<double>(sizes->wal_bytes));
    in.wal_bytes = sizes->wal_bytes;
    store_bytes = sizes->main_bytes + sizes->wal_bytes;
  }
  in.disk_free_bytes = DiskFreeBytes(store_dir_);
  if (in.disk_free_bytes.has_value()) disk_free_.Set(static_cast<double>(*in.disk_free_bytes));
  in.worker = WorkerHealthInputs{worker.pending_bytes(), max_pending_bytes_};
  const HealthReport report = AssessHealth(in, thresholds_);
  healthy_.Set(report.healthy() ? 1 : 0);

  status_.Clear();
  status_.set_role(absl::StrCat("worker:", id_));
  status_.set_authority(self_);
  status_.set_healthy(report.healthy());
  for (const std::string& problem : report.problems) status_.add_problems(problem);
  status_.set_pending_bytes(worker.pending_bytes());
  status_.set_max_pending_bytes(max_pending_bytes_);
  for (const std::string& peer : in.unreachable_peers) status_.add_unreachable_peers(peer);
  status_.set_store_bytes(store_bytes);
  status_.set_disk_free_bytes(in.disk_free_bytes.value_or(0));
}

}  // namespace narwhal::node
