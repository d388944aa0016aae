#include "sim/simulation.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/store/memory_store.h"
#include "glog/logging.h"
#include "sim/dag_export.h"
#include "sim/faults/fault_kind.h"
#include "sim/output_checker.h"
#include "sim/sqlite_factory.h"
#include "sim/storage_run.h"
#include "sim/swarm.h"

namespace narwhal::sim {
namespace {

double Percentile(std::vector<TimeUs> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1));
  return static_cast<double>(v[i]) / kMillisecondUs;
}

std::string JsonString(absl::string_view in) {
  std::string out = "\"";
  for (char c : in) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

// Client load: transactions spread round-robin over the workers of honest,
// running authorities. A transaction's first 8 bytes are its global id.
class Load {
 public:
  Load(Cluster* cluster, Checkers* checkers, const SimulationOptions& o)
      : cluster_(cluster), checkers_(checkers), options_(o) {}
  // A paused process executes nothing, client requests included.
  void set_is_paused(std::function<bool(AuthorityIndex)> f) { is_paused_ = std::move(f); }

  void Start() {
    if (options_.transactions_per_s <= 0) return;
    Tick();
  }
  // Per (authority, worker, worker boot): seq -> tx id.
  void OnSealed(AuthorityIndex a, WorkerId w, const SealedBatch& b) {
    checkers_->OnBatchSealed(b.digest, Ids(a, w, b));
    checkers_->set_batch_created(b.digest, b.created_at_us);
  }
  void OnAccepted(AuthorityIndex a, WorkerId w, const SealedBatch& b) {
    checkers_->OnTransactionsAccepted(Ids(a, w, b));
  }
  uint64_t submitted() const { return next_tx_id_; }

 private:
  static constexpr TimeUs kTickUs = 10 * kMillisecondUs;
  // The ids of a batch's transactions. A batch that seals by size inside
  // SubmitTransaction holds the transaction being submitted, whose seq is
  // not known (and recorded) until the call returns: that one is pending_.
  std::vector<uint64_t> Ids(AuthorityIndex a, WorkerId w, const SealedBatch& b) {
    const auto key = Key(a, w);
    const auto& ids = submitted_[key];
    std::vector<uint64_t> txs;
    for (uint64_t s = b.first_tx_seq; s < b.first_tx_seq + b.tx_count; ++s) {
      if (s < ids.size()) {
        txs.push_back(ids[s]);
      } else if (pending_ && pending_->first == key) {
        txs.push_back(pending_->second);
      }
    }
    return txs;
  }
  // A worker's sequence numbers start over whenever it is built again:
  // after a whole-authority restart, and after a restart of the worker
  // alone (a crash of that process, or a halt on a store failure). Keyed
  // by the authority's restarts only, a worker restarted alone mapped its
  // new batches onto the ids of its old ones: "transaction committed
  // twice" with nothing committed twice (swarm storage seed 173 at 30 s).
  std::tuple<AuthorityIndex, WorkerId, int> Key(AuthorityIndex a, WorkerId w) const {
    return {a, w, cluster_->worker_boots(a, w)};
  }
  void Tick() {
    Scheduler& s = cluster_->scheduler();
    if (s.NowUs() >= options_.duration_us - options_.drain_us) return;
    carry_ += options_.transactions_per_s * kTickUs / kSecondUs;
    const size_t n = cluster_->committee().size();
    const uint32_t workers = cluster_->committee().workers_per_authority();
    std::string tx(std::max<size_t>(options_.transaction_size_bytes, 8), '\0');
    while (carry_ >= 1.0) {
      carry_ -= 1.0;
      // Find the next honest, running worker.
      for (size_t tries = 0; tries < n * workers; ++tries) {
        const AuthorityIndex a = static_cast<AuthorityIndex>(cursor_ / workers % n);
        const WorkerId w = static_cast<WorkerId>(cursor_ % workers);
        ++cursor_;
        if (!cluster_->IsUp(a) || cluster_->IsByzantine(a) || (is_paused_ && is_paused_(a))) continue;
        Worker* worker = cluster_->worker(a, w);
        if (worker == nullptr) continue;  // that worker process is down (crashed alone)
        const uint64_t id = next_tx_id_++;
        for (int i = 0; i < 8; ++i) tx[i] = static_cast<char>(id >> (8 * i));
        for (size_t i = 8; i < tx.size(); ++i) tx[i] = static_cast<char>(id * 31 + i);
        pending_.emplace(Key(a, w), id);
        auto seq = worker->SubmitTransaction(tx);
        pending_.reset();
        if (seq.ok()) {
          auto& ids = submitted_[Key(a, w)];
          if (ids.size() <= *seq) ids.resize(*seq + 1);
          ids[*seq] = id;
        }
        break;
      }
    }
    s.Schedule(kTickUs, [this] { Tick(); });
  }

  Cluster* cluster_;
  Checkers* checkers_;
  SimulationOptions options_;
  std::function<bool(AuthorityIndex)> is_paused_;
  std::optional<std::pair<std::tuple<AuthorityIndex, WorkerId, int>, uint64_t>> pending_;
  double carry_ = 0;
  uint64_t cursor_ = 0;
  uint64_t next_tx_id_ = 0;
  absl::btree_map<std::tuple<AuthorityIndex, WorkerId, int>, std::vector<uint64_t>> submitted_;
};

bool ByTime(const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; }

}  // namespace

std::vector<FaultEvent> DrawCrashRestarts(uint64_t seed, size_t nodes, int count, TimeUs start_us,
                                          TimeUs end_us) {
  std::vector<FaultEvent> out;
  const size_t f = (nodes - 1) / 3;
  if (f == 0 || count <= 0 || end_us <= start_us) return out;
  Random r(Random::DeriveSeed(seed, "crash_restarts"));
  // The f victims: distinct authorities, never more than f down at once.
  std::vector<AuthorityIndex> all(nodes);
  for (size_t i = 0; i < nodes; ++i) all[i] = static_cast<AuthorityIndex>(i);
  for (size_t i = 0; i < f; ++i) std::swap(all[i], all[i + r.Uniform(nodes - i)]);
  std::vector<TimeUs> free_at(f, start_us);
  for (int k = 0; k < count; ++k) {
    const size_t v = r.Uniform(f);
    const TimeUs span = end_us - free_at[v];
    if (span < 2 * kSecondUs) continue;
    const TimeUs crash = free_at[v] + r.UniformRange(0, span / 2);
    const TimeUs down = r.UniformRange(kSecondUs / 2, std::min<TimeUs>(8 * kSecondUs, end_us - crash));
    FaultEvent c;
    c.at_us = crash;
    c.kind = FaultEvent::Kind::kCrash;
    c.node = all[v];
    FaultEvent s = c;
    s.at_us = crash + down;
    s.kind = FaultEvent::Kind::kRestart;
    out.push_back(c);
    out.push_back(s);
    free_at[v] = s.at_us + kSecondUs;
  }
  std::stable_sort(out.begin(), out.end(), [](const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; });
  return out;
}

SimulationOptions ResolveSchedule(const SimulationOptions& in, std::string* swarm_note) {
  SimulationOptions o = in;
  if (o.swarm) {
    std::string note = DrawSwarm(&o);
    if (swarm_note != nullptr) *swarm_note = std::move(note);
    o.swarm = false;
  }
  if (o.crash_restarts > 0) {
    auto drawn = DrawCrashRestarts(o.cluster.seed, o.cluster.nodes, o.crash_restarts, kSecondUs,
                                   o.duration_us - o.drain_us - o.liveness_bound_us / 2);
    o.faults.insert(o.faults.end(), drawn.begin(), drawn.end());
    o.crash_restarts = 0;
  }
  std::stable_sort(o.faults.begin(), o.faults.end(), ByTime);
  return o;
}

SimulationResult RunSimulation(const SimulationOptions& unresolved) {
  const auto wall_start = std::chrono::steady_clock::now();
  const SimulationOptions options = ResolveSchedule(unresolved);
  SimulationResult result;
  result.seed = options.cluster.seed;
  result.nodes = options.cluster.nodes;

  std::unique_ptr<Checkers> checkers;
  std::unique_ptr<OutputChecker> output_checker;
  std::unique_ptr<Load> load;
  std::unique_ptr<DagExport> dag_export;
  if (!options.export_dag_path.empty()) dag_export = std::make_unique<DagExport>();
  Cluster* cluster_ptr = nullptr;

  Cluster::Observers obs;
  // Batch creation times and the first commit of each index, for the
  // latency-over-time series (lookup only; never iterated).
  absl::flat_hash_map<Digest, TimeUs> batch_created_us;
  uint64_t next_first_index = 0;
  obs.on_commit = [&](AuthorityIndex a, const CommittedSubDag& sub) {
    const TimeUs now = cluster_ptr->scheduler().NowUs();
    if (!cluster_ptr->IsByzantine(a) && sub.index >= next_first_index) {
      next_first_index = sub.index + 1;
      for (const BatchRef& b : sub.batches) {
        if (auto it = batch_created_us.find(b.digest); it != batch_created_us.end()) {
          result.batch_commit_latency_us.emplace_back(now, now - it->second);
          batch_created_us.erase(it);
        }
      }
    }
    checkers->OnCommit(a, sub, now);
    output_checker->OnCommit(a, sub, now);
    if (dag_export && a == 0) dag_export->OnCommit(sub);
    if (checkers->failed()) cluster_ptr->scheduler().RequestStop();
  };
  obs.on_certificate = [&](AuthorityIndex a, const CertificatePtr& c) {
    checkers->OnCertificate(a, c, cluster_ptr->scheduler().NowUs());
    if (dag_export && a == 0) dag_export->OnCertificate(c);
    if (checkers->failed()) cluster_ptr->scheduler().RequestStop();
  };
  obs.on_batch_sealed = [&](AuthorityIndex a, WorkerId w, const SealedBatch& b) {
    batch_created_us.emplace(b.digest, b.created_at_us);
    load->OnSealed(a, w, b);
  };
  obs.on_executed = [&](AuthorityIndex a, const ExecutedRow& row) {
    output_checker->OnExecuted(a, row, cluster_ptr->scheduler().NowUs());
    if (checkers->failed()) cluster_ptr->scheduler().RequestStop();
  };
  obs.on_batch_accepted = [&](AuthorityIndex a, WorkerId w, const SealedBatch& b) { load->OnAccepted(a, w, b); };

  StoreFactory factory = [&]() -> std::unique_ptr<Store> {
    if (options.sqlite_store) return MakeSqliteMemoryStore();
    return std::make_unique<MemoryStore>();
  };
  Cluster cluster(options.cluster, factory, obs);
  cluster_ptr = &cluster;
  absl::btree_set<AuthorityIndex> byz;
  uint64_t byz_stake = 0;
  for (const auto& [a, b] : options.cluster.byzantine) {
    byz.insert(a);
    byz_stake += cluster.committee().Stake(a);
  }
  result.outside_model = byz_stake >= cluster.committee().ValidityThreshold();
  checkers = std::make_unique<Checkers>(&cluster.committee(), byz);
  output_checker = std::make_unique<OutputChecker>(checkers.get(), byz,
                                                   options.cluster.params.committed_output_retention);
  load = std::make_unique<Load>(&cluster, checkers.get(), options);
  if (dag_export) dag_export->SetMeta(cluster.committee(), options.cluster.params);

  if (options.check_votes) {
    cluster.network().AddTap([&](const Endpoint& from, const Endpoint& to, std::string_view frame) {
      if (!to.is_primary() || !from.is_primary()) return;
      wire::Frame f;
      if (!f.ParseFromArray(frame.data(), static_cast<int>(frame.size())) || !f.has_request() ||
          !f.request().has_vote()) {
        return;
      }
      const wire::Vote& v = f.request().vote();
      auto d = Digest::FromBytes(v.header_digest());
      if (d.ok() && v.author() == from.authority) {
        checkers->OnVoteOnWire(v.author(), v.origin(), v.round(), *d, cluster.scheduler().NowUs());
      }
    });
  }

  const std::vector<FaultEvent>& faults = options.faults;
  auto world = std::make_unique<faults::World>(&cluster, options.cluster.network);
  load->set_is_paused([world = world.get()](AuthorityIndex a) { return world->paused(a); });
  for (const FaultEvent& f : faults) {
    result.heal_us = std::max(result.heal_us, f.at_us);
    cluster.scheduler().ScheduleAt(f.at_us, [world = world.get(), f] {
      VLOG(1) << "fault: " << f.Describe();
      if (f.node >= world->cluster().committee().size()) return;
      faults::KindOf(f.kind).apply(*world, f);
    });
  }
  result.faults = faults;
  const StorageFaultOptions& storage = options.cluster.storage_faults;
  const TimeUs storage_until_us = StorageFaultsUntilUs(storage, result.heal_us, options.duration_us);
  if (storage.injects()) {
    ScheduleStorageFaults(&cluster, storage.from_us, storage_until_us);
    result.heal_us = std::max(result.heal_us, storage_until_us);
  }

  cluster.Start();
  if (dag_export) {
    for (const Certificate& g : Certificate::GenesisSet(cluster.committee())) {
      dag_export->OnCertificate(std::make_shared<const Certificate>(g));
    }
  }
  load->Start();
  cluster.scheduler().RunUntil(options.duration_us);
  const TimeUs end_us = cluster.scheduler().NowUs();
  if (!checkers->failed()) checkers->Finish(result.heal_us, end_us, options.liveness_bound_us);
  if (!checkers->failed()) {
    absl::btree_set<AuthorityIndex> up;
    for (AuthorityIndex a = 0; a < cluster.committee().size(); ++a) {
      if (cluster.IsUp(a) && !cluster.IsRoleHalted(a, 0)) up.insert(a);
    }
    checkers->FinishPerAuthority(result.heal_us, end_us, options.liveness_bound_us, up);
  }
  // What a client reads from index 0 at every authority, after all the run's
  // crashes and restarts.
  for (AuthorityIndex a = 0; a < cluster.committee().size() && !checkers->failed(); ++a) {
    output_checker->FinishAuthority(a, cluster.primary_store(a), cluster.IsUp(a) && !cluster.IsRoleHalted(a, 0),
                                    checkers->accepted_tx(), end_us);
  }
  if (!checkers->failed()) CheckStorageHalts(cluster, checkers.get(), storage_until_us, end_us);
  result.storage_faults_json = StorageFaultsJson(cluster);

  result.sim_time_s = end_us / 1e6;
  result.events = cluster.scheduler().events_executed();
  result.trace_hash = cluster.scheduler().trace().Hex();
  result.violations = checkers->violations();
  result.committed_sub_dags = checkers->committed_sub_dags();
  result.committed_certificates = checkers->committed_certificates();
  result.committed_transactions = checkers->committed_transactions();
  result.accepted_transactions = checkers->accepted_transactions();
  result.submitted_transactions = load->submitted();
  result.last_committed_round = checkers->last_committed_round();
  result.commit_latency_ms_p50 = Percentile(checkers->batch_commit_latencies_us(), 0.5);
  result.commit_latency_ms_p99 = Percentile(checkers->batch_commit_latencies_us(), 0.99);
  result.commit_timeline = checkers->commit_timeline();
  result.fault_periods = FaultPeriods(faults, options.cluster.network, end_us);
  result.frames_delivered = cluster.network().stats().frames_delivered;
  absl::btree_map<std::string, int64_t> rows;
  std::vector<std::string> order;
  for (AuthorityIndex a = 0; a < cluster.committee().size(); ++a) {
    if (cluster.IsUp(a)) {
      if (Primary* p = cluster.primary(a); p != nullptr) {
        result.node_states.push_back(p->DebugString());
        result.retransmissions += p->messenger().stats().retransmissions;
      }
      // A role that halted on a store error and was not restarted: its last error.
      for (const Cluster::Halt& h : cluster.halts()) {
        if (cluster.IsRoleHalted(a, h.role) && h.authority == a) {
          result.node_states.push_back(absl::StrCat("authority ", a, " role ", h.role, " HALTED at ",
                                                    h.at_us / kMillisecondUs, " ms: ", h.error));
        }
      }
      for (WorkerId w = 0; w < cluster.committee().workers_per_authority(); ++w) {
        Worker* worker = cluster.worker(a, w);
        if (worker == nullptr) continue;
        result.batches_sealed += worker->stats().batches_sealed;
        result.batches_quorum += worker->stats().batches_quorum;
        result.retransmissions += worker->messenger().stats().retransmissions;
      }
    }
    for (uint32_t role = 0; role <= cluster.committee().workers_per_authority(); ++role) {
      Store* s = role == 0 ? cluster.primary_store(a) : cluster.worker_store(a, role - 1);
      auto counts = s->RowCounts();
      if (!counts.ok()) continue;
      for (const auto& [table, n] : *counts) {
        if (!rows.contains(table)) order.push_back(table);
        rows[table] += n;
      }
    }
  }
  for (const std::string& t : order) result.store_rows.emplace_back(t, rows[t]);
  if (dag_export) {
    absl::Status s = dag_export->Write(options.export_dag_path);
    if (!s.ok()) LOG(ERROR) << "DAG export: " << s;
  }
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

std::string SimulationResult::ToJson() const {
  std::vector<std::string> rows;
  for (const auto& [t, n] : store_rows) rows.push_back(absl::StrCat("\"", t, "\":", n));
  std::vector<std::string> viol;
  for (const auto& v : violations) {
    std::string ev = v.evidence;
    absl::StrReplaceAll({{"\"", "'"}}, &ev);
    viol.push_back(absl::StrFormat("{\"checker\":\"%s\",\"at_s\":%.6f,\"evidence\":\"%s\"}", v.checker,
                                   v.at_us / 1e6, ev));
  }
  std::string out = absl::StrFormat(
      "{\"seed\":%d,\"nodes\":%d,\"sim_time_s\":%.3f,\"events\":%d,\"trace_hash\":\"%s\","
      "\"violations\":%d,\"violation_details\":[%s],\"outside_model\":%s,"
      "\"committed_sub_dags\":%d,\"committed_certificates\":%d,\"committed_transactions\":%d,"
      "\"accepted_transactions\":%d,\"submitted_transactions\":%d,\"last_committed_round\":%d,"
      "\"batches_sealed\":%d,\"batches_quorum\":%d,\"frames_delivered\":%d,\"retransmissions\":%d,"
      "\"commit_latency_ms_p50\":%.1f,\"commit_latency_ms_p99\":%.1f,\"store_rows\":{%s},"
      "\"wall_s\":%.3f,\"sim_seconds_per_wall_second\":%.3f,\"events_per_wall_second\":%.0f}",
      seed, nodes, sim_time_s, events, trace_hash, violations.size(), absl::StrJoin(viol, ","),
      outside_model ? "true" : "false", committed_sub_dags, committed_certificates,
      committed_transactions, accepted_transactions, submitted_transactions, last_committed_round,
      batches_sealed, batches_quorum, frames_delivered, retransmissions, commit_latency_ms_p50,
      commit_latency_ms_p99, absl::StrJoin(rows, ","), wall_s, wall_s > 0 ? sim_time_s / wall_s : 0,
      wall_s > 0 ? events / wall_s : 0);
  out.insert(out.size() - 1, storage_faults_json);
  return out;
}

std::string SimulationResult::ToRunSummaryJson() const {
  std::string out = "{\n\"result\": ";
  absl::StrAppend(&out, ToJson(), ",\n\"heal_s\": ", absl::StrFormat("%.6f", heal_us / 1e6), ",\n\"faults\": [");
  for (size_t i = 0; i < faults.size(); ++i) {
    const FaultEvent& f = faults[i];
    absl::StrAppend(&out, i ? ",\n  " : "\n  ", "{\"at_s\":", absl::StrFormat("%.6f", f.at_us / 1e6),
                    ",\"kind\":", JsonString(FaultEvent::KindName(f.kind)),
                    ",\"describe\":", JsonString(f.Describe()), "}");
  }
  absl::StrAppend(&out, "],\n\"fault_periods\": [");
  for (size_t i = 0; i < fault_periods.size(); ++i) {
    const FaultPeriod& p = fault_periods[i];
    absl::StrAppend(&out, i ? ",\n  " : "\n  ", "{\"kind\":", JsonString(p.kind), ",\"label\":", JsonString(p.label),
                    ",\"start_s\":", absl::StrFormat("%.6f", p.start_us / 1e6),
                    ",\"end_s\":", absl::StrFormat("%.6f", p.end_us / 1e6), "}");
  }
  // What the plots need to know of each kind of period (from the fault
  // table), so that tools/render_run.py knows no fault kind by name.
  absl::StrAppend(&out, "],\n\"fault_period_kinds\": [");
  bool first = true;
  for (const faults::FaultKind* k : faults::AllFaultKinds()) {
    if (k->period_kind == nullptr) continue;
    absl::StrAppend(&out, first ? "\n  " : ",\n  ", "{\"kind\":", JsonString(k->period_kind),
                    ",\"fault\":", JsonString(k->name), ",\"color\":", JsonString(k->period_color), "}");
    first = false;
  }
  absl::StrAppend(&out, "],\n\"violations\": [");
  for (size_t i = 0; i < violations.size(); ++i) {
    const Violation& v = violations[i];
    absl::StrAppend(&out, i ? ",\n  " : "\n  ", "{\"checker\":", JsonString(v.checker),
                    ",\"at_s\":", absl::StrFormat("%.6f", v.at_us / 1e6), ",\"evidence\":", JsonString(v.evidence), "}");
  }
  // Time series as [t_s, value] pairs.
  absl::StrAppend(&out, "],\n\"commit_timeline\": [");
  for (size_t i = 0; i < commit_timeline.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", absl::StrFormat("[%.6f,%d]", commit_timeline[i].first / 1e6,
                                                        commit_timeline[i].second));
  }
  absl::StrAppend(&out, "],\n\"batch_commit_latency_ms\": [");
  for (size_t i = 0; i < batch_commit_latency_us.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", absl::StrFormat("[%.6f,%.3f]", batch_commit_latency_us[i].first / 1e6,
                                                        batch_commit_latency_us[i].second / 1e3));
  }
  absl::StrAppend(&out, "]\n}\n");
  return out;
}

}  // namespace narwhal::sim
