#include "node/primary_observer.h"

#include "absl/strings/str_cat.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace narwhal::node {
namespace {

// Own batches remembered for the latency figures (a bound on memory when
// commits stall).
constexpr size_t kOwnBatchesMax = 100'000;
constexpr size_t kAwaitingExecutionMax = 10'000;

std::map<std::string, std::string> Labels(AuthorityIndex self) {
  return {{"authority", absl::StrCat(self)}, {"role", "primary"}};
}

}  // namespace

PrimaryObserver::PrimaryObserver(MetricsRegistry& r, const Committee& committee, AuthorityIndex self,
                                 std::string store_dir, HealthThresholds thresholds, TimeUs started_us)
    : self_(self),
      store_dir_(std::move(store_dir)),
      thresholds_(thresholds),
      started_us_(started_us),
      last_commit_us_(started_us),
      round_(r.Gauge("narwhal_primary_round", "The round this primary proposes in.", Labels(self))),
      highest_peer_round_gauge_(r.Gauge("narwhal_primary_highest_peer_round",
                                        "The highest round of a certificate of another authority seen.",
                                        Labels(self))),
      gc_round_(r.Gauge("narwhal_primary_gc_round", "The garbage-collection round.", Labels(self))),
      last_committed_round_(r.Gauge("narwhal_last_committed_round",
                                    "The round of the last committed leader.", Labels(self))),
      last_own_committed_round_gauge_(r.Gauge(
          "narwhal_last_own_committed_round",
          "The last committed round holding one of this authority's certificates.", Labels(self))),
      consensus_index_(r.Gauge("narwhal_consensus_index",
                               "The next consensus index (committed sub-DAGs so far).", Labels(self))),
      executed_index_(r.Gauge("narwhal_executed_index",
                              "The next executed index: sub-DAGs clients can read from the output.",
                              Labels(self))),
      dag_certificates_(r.Gauge("narwhal_dag_certificates",
                                "Certificates held in the DAG (above the GC round).", Labels(self))),
      headers_proposed_(r.Counter("narwhal_headers_proposed_total", "Headers this primary proposed.",
                                  Labels(self))),
      certificates_formed_(r.Counter("narwhal_certificates_formed_total",
                                     "Certificates formed for this primary's own headers.", Labels(self))),
      certificates_accepted_(r.Counters("narwhal_certificates_accepted_total",
                                        "Certificates accepted into the DAG, by author.", Labels(self),
                                        "author")),
      certificates_committed_(r.Counters("narwhal_certificates_committed_total",
                                         "Certificates committed, by author.", Labels(self), "author")),
      sub_dags_committed_(r.Counter("narwhal_sub_dags_committed_total",
                                    "Sub-DAGs committed (by consensus or learned by state sync).",
                                    Labels(self))),
      votes_sent_(r.Counter("narwhal_votes_sent_total", "Votes this primary sent.", Labels(self))),
      votes_received_(r.Counter("narwhal_votes_received_total",
                                "Votes received for this primary's headers (valid or not).", Labels(self))),
      leader_timeouts_(r.Counter("narwhal_leader_timeouts_total",
                                 "Rounds advanced without the leader's certificate (leader_timeout).",
                                 Labels(self))),
      batches_reproposed_(r.Counter("narwhal_batches_reproposed_total",
                                    "Own batches proposed again because their certificate was "
                                    "garbage-collected uncommitted.",
                                    Labels(self))),
      rejected_(r.Counters("narwhal_rejected_messages_total",
                           "Messages from peers rejected, by reason (bad_signature, equivocation, ...).",
                           Labels(self), "reason")),
      certificate_sync_requests_(r.Counter("narwhal_certificate_sync_requests_total",
                                           "Requests for missing certificates sent to peers.", Labels(self))),
      sub_dags_synced_(r.Counter("narwhal_sub_dags_synced_total",
                                 "Committed sub-DAGs learned by state sync from f+1 authorities.",
                                 Labels(self))),
      executor_batches_(r.Counters("narwhal_executor_batches_total",
                                   "Committed batches the executor got, by source (local_store, "
                                   "own_worker, peer).",
                                   Labels(self), "source")),
      executor_requests_(r.Counter("narwhal_executor_requests_total",
                                   "Batch requests the executor sent (own workers and peers).", Labels(self))),
      executor_pending_(r.Gauge("narwhal_executor_pending_sub_dags",
                                "Committed sub-DAGs waiting for their batches.", Labels(self))),
      output_kept_bytes_(r.Gauge("narwhal_output_kept_bytes",
                                 "Bytes of executed output kept for clients (committed_output_retention_bytes "
                                 "bounds it).",
                                 Labels(self))),
      output_subscribers_(r.Gauge("narwhal_output_subscribers", "Clients subscribed to the output.",
                                  Labels(self))),
      output_sub_dags_sent_(r.Counter("narwhal_output_sub_dags_sent_total",
                                      "Sub-DAGs sent to output subscribers.", Labels(self))),
      store_bytes_(r.Gauges("narwhal_store_file_bytes", "Size of this role's store files, by file (main, wal).",
                            Labels(self), "file")),
      disk_free_(r.Gauge("narwhal_store_disk_free_bytes", "Free space on the store's file system.",
                         Labels(self))),
      commit_latency_(r.LatencyHistogram("narwhal_commit_latency_seconds",
                                         "From an own batch's creation at its worker to the commit of "
                                         "the certificate holding it.",
                                         Labels(self))),
      execution_latency_(r.LatencyHistogram(
          "narwhal_execution_latency_seconds",
          "From an own batch's creation at its worker to its executed output row being durable "
          "(what a client reads): the node's end-to-end latency.",
          Labels(self))),
      healthy_(r.Gauge("narwhal_healthy", "1 if `narwhal_node status` says healthy, else 0.", Labels(self))),
      messenger_(r, Labels(self)) {
  // Every author appears from the start, so a silent one shows as 0.
  for (AuthorityIndex a = 0; a < committee.size(); ++a) {
    certificates_accepted_[absl::StrCat(a)].Set(0);
    certificates_committed_[absl::StrCat(a)].Set(0);
  }
  status_.set_role("primary");
  status_.set_authority(self);
  status_.set_healthy(true);
}

void PrimaryObserver::OnCertificateAccepted(const Certificate& certificate) {
  ++accepted_by_author_[certificate.author()];
  if (certificate.author() != self_) highest_peer_round_ = std::max(highest_peer_round_, certificate.round());
}

void PrimaryObserver::OnOwnBatch(const Digest& digest, TimeUs created_at_us) {
  if (!own_batches_.emplace(digest, created_at_us).second) return;
  own_batches_order_.push_back(digest);
  while (own_batches_order_.size() > kOwnBatchesMax) {
    own_batches_.erase(own_batches_order_.front());
    own_batches_order_.pop_front();
  }
}

void PrimaryObserver::OnCommit(const CommittedSubDag& sub, TimeUs now_us) {
  last_commit_us_ = now_us;
  for (const CertificatePtr& c : sub.certificates) {
    ++committed_by_author_[c->author()];
    if (c->author() == self_) {
      last_own_committed_round_ = std::max(last_own_committed_round_.value_or(0), c->round());
    }
  }
  std::vector<TimeUs> created;
  for (const BatchRef& b : sub.batches) {
    auto it = own_batches_.find(b.digest);
    if (it == own_batches_.end()) continue;
    commit_latency_.Observe(static_cast<double>(now_us - it->second) / kSecondUs);
    created.push_back(it->second);
    own_batches_.erase(it);  // its digest stays in the order queue until it ages out
  }
  if (!created.empty()) {
    awaiting_execution_[sub.index] = std::move(created);
    while (awaiting_execution_.size() > kAwaitingExecutionMax) awaiting_execution_.erase(awaiting_execution_.begin());
  }
}

void PrimaryObserver::OnExecuted(uint64_t index, TimeUs now_us) {
  auto it = awaiting_execution_.find(index);
  if (it == awaiting_execution_.end()) return;
  for (TimeUs created : it->second) execution_latency_.Observe(static_cast<double>(now_us - created) / kSecondUs);
  awaiting_execution_.erase(it);
}

void PrimaryObserver::Update(const Primary& primary, const OutputServer& output, const SqliteStore& store,
                             TimeUs now_us) {
  const PrimaryStats& s = primary.stats();
  const Executor& executor = primary.executor();
  const ExecutorStats& e = executor.stats();
  if (!last_own_committed_round_.has_value()) last_own_committed_round_ = primary.last_committed_round();
  if (!formed_at_start_.has_value()) formed_at_start_ = s.certificates_formed;
  if (!first_formed_round_.has_value() && s.certificates_formed > *formed_at_start_) {
    first_formed_round_ = primary.round();
  }
  round_.Set(static_cast<double>(primary.round()));
  highest_peer_round_gauge_.Set(static_cast<double>(highest_peer_round_));
  gc_round_.Set(static_cast<double>(primary.gc_round()));
  last_committed_round_.Set(static_cast<double>(primary.last_committed_round()));
  last_own_committed_round_gauge_.Set(static_cast<double>(*last_own_committed_round_));
  consensus_index_.Set(static_cast<double>(s.sub_dags_committed));
  executed_index_.Set(static_cast<double>(executor.next_index()));
  dag_certificates_.Set(static_cast<double>(primary.dag_size()));
  headers_proposed_.Set(s.headers_proposed);
  certificates_formed_.Set(s.certificates_formed);
  for (const auto& [author, n] : accepted_by_author_) certificates_accepted_[absl::StrCat(author)].Set(n);
  for (const auto& [author, n] : committed_by_author_) certificates_committed_[absl::StrCat(author)].Set(n);
  sub_dags_committed_.Set(s.sub_dags_committed);
  votes_sent_.Set(s.votes_sent);
  votes_received_.Set(s.votes_received);
  leader_timeouts_.Set(s.leader_timeouts);
  batches_reproposed_.Set(s.batches_reproposed);
  for (const auto& [reason, n] : s.rejected) rejected_[reason].Set(n);
  certificate_sync_requests_.Set(primary.certificate_fetcher().requests_sent());
  sub_dags_synced_.Set(s.sub_dags_synced);
  executor_batches_["local_store"].Set(e.batches_read_locally);
  executor_batches_["own_worker"].Set(e.batches_from_own_workers);
  executor_batches_["peer"].Set(e.batches_from_peers);
  executor_requests_.Set(e.requests_sent);
  executor_pending_.Set(static_cast<double>(executor.pending_sub_dags()));
  output_kept_bytes_.Set(static_cast<double>(executor.kept_bytes()));
  output_subscribers_.Set(static_cast<double>(output.subscribers()));
  output_sub_dags_sent_.Set(output.stats().sub_dags_sent);

  HealthInputs in;
  in.uptime_us = now_us - started_us_;
  in.unreachable_peers = messenger_.Update(primary.messenger().stats(), now_us, thresholds_.peer_silent_us_max);
  uint64_t store_bytes = 0;
  if (auto sizes = store.FileSizes(); sizes.ok()) {
    store_bytes_["main"].Set(static_cast<double>(sizes->main_bytes));
    store_bytes_["wal"].Set(static_cast<double>(sizes->wal_bytes));
    in.wal_bytes = sizes->wal_bytes;
    store_bytes = sizes->main_bytes + sizes->wal_bytes;
  }
  in.disk_free_bytes = DiskFreeBytes(store_dir_);
  if (in.disk_free_bytes.has_value()) disk_free_.Set(static_cast<double>(*in.disk_free_bytes));
  if (primary.last_committed_round() > last_committed_round_seen_) {
    last_committed_round_seen_ = primary.last_committed_round();
    last_commit_us_ = now_us;
  }
  PrimaryHealthInputs p;
  p.round = primary.round();
  p.highest_peer_round = highest_peer_round_;
  p.last_committed_round = primary.last_committed_round();
  p.last_own_committed_round = *last_own_committed_round_;
  p.since_last_commit_us = now_us - last_commit_us_;
  p.own_committed_since_start =
      first_formed_round_.has_value() && *last_own_committed_round_ >= *first_formed_round_;
  in.primary = p;
  const HealthReport report = AssessHealth(in, thresholds_);
  healthy_.Set(report.healthy() ? 1 : 0);

  status_.Clear();
  status_.set_role("primary");
  status_.set_authority(self_);
  status_.set_healthy(report.healthy());
  for (const std::string& problem : report.problems) status_.add_problems(problem);
  status_.set_round(p.round);
  status_.set_highest_peer_round(p.highest_peer_round);
  status_.set_last_committed_round(p.last_committed_round);
  status_.set_last_own_committed_round(p.last_own_committed_round);
  status_.set_next_output_index(executor.next_index());
  for (const std::string& peer : in.unreachable_peers) status_.add_unreachable_peers(peer);
  status_.set_store_bytes(store_bytes);
  status_.set_disk_free_bytes(in.disk_free_bytes.value_or(0));
}

}  // namespace narwhal::node
