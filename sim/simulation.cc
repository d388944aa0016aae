#include "sim/simulation.h"

#include <algorithm>
#include <chrono>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/store/memory_store.h"
#include "glog/logging.h"
#include "sim/dag_export.h"
#include "sim/sqlite_factory.h"

namespace narwhal::sim {
namespace {

double Percentile(std::vector<TimeUs> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1));
  return static_cast<double>(v[i]) / kMillisecondUs;
}

std::string Group(const std::vector<AuthorityIndex>& g) { return absl::StrJoin(g, ","); }

// Client load: transactions spread round-robin over the workers of honest,
// running authorities. A transaction's first 8 bytes are its global id.
class Load {
 public:
  Load(Cluster* cluster, Checkers* checkers, const SimulationOptions& o)
      : cluster_(cluster), checkers_(checkers), options_(o) {}

  void Start() {
    if (options_.load_tps <= 0) return;
    Tick();
  }
  // Per (authority, worker, incarnation): seq -> tx id.
  void OnSealed(AuthorityIndex a, WorkerId w, const BatchAccepted& b) {
    auto& ids = submitted_[Key(a, w)];
    std::vector<uint64_t> txs;
    for (uint64_t s = b.first_tx_seq; s < b.first_tx_seq + b.tx_count && s < ids.size(); ++s) {
      txs.push_back(ids[s]);
    }
    checkers_->OnBatchSealed(b.digest, std::move(txs));
    checkers_->set_batch_created(b.digest, b.created_at_us);
  }
  void OnAccepted(AuthorityIndex a, WorkerId w, const BatchAccepted& b) {
    auto& ids = submitted_[Key(a, w)];
    std::vector<uint64_t> txs;
    for (uint64_t s = b.first_tx_seq; s < b.first_tx_seq + b.tx_count && s < ids.size(); ++s) {
      txs.push_back(ids[s]);
    }
    checkers_->OnTransactionsAccepted(txs);
  }
  uint64_t submitted() const { return next_tx_id_; }

 private:
  static constexpr TimeUs kTickUs = 10 * kMillisecondUs;
  std::tuple<AuthorityIndex, WorkerId, int> Key(AuthorityIndex a, WorkerId w) const {
    return {a, w, cluster_->restarts(a)};
  }
  void Tick() {
    Scheduler& s = cluster_->scheduler();
    if (s.NowUs() >= options_.duration_us - options_.drain_us) return;
    carry_ += options_.load_tps * kTickUs / kSecondUs;
    const size_t n = cluster_->committee().size();
    const uint32_t workers = cluster_->committee().workers_per_authority();
    std::string tx(std::max<size_t>(options_.tx_size_bytes, 8), '\0');
    while (carry_ >= 1.0) {
      carry_ -= 1.0;
      // Find the next honest, running worker.
      for (size_t tries = 0; tries < n * workers; ++tries) {
        const AuthorityIndex a = static_cast<AuthorityIndex>(cursor_ / workers % n);
        const WorkerId w = static_cast<WorkerId>(cursor_ % workers);
        ++cursor_;
        if (!cluster_->IsUp(a) || cluster_->IsByzantine(a)) continue;
        const uint64_t id = next_tx_id_++;
        for (int i = 0; i < 8; ++i) tx[i] = static_cast<char>(id >> (8 * i));
        for (size_t i = 8; i < tx.size(); ++i) tx[i] = static_cast<char>(id * 31 + i);
        auto seq = cluster_->worker(a, w)->SubmitTransaction(tx);
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
  double carry_ = 0;
  uint64_t cursor_ = 0;
  uint64_t next_tx_id_ = 0;
  absl::btree_map<std::tuple<AuthorityIndex, WorkerId, int>, std::vector<uint64_t>> submitted_;
};

void Apply(Cluster& cluster, const FaultEvent& f) {
  Network& net = cluster.network();
  using K = FaultEvent::Kind;
  switch (f.kind) {
    case K::kSetLoss: {
      NetworkOptions o = net.options();
      o.packet_loss_probability = f.value;
      net.set_options(o);
      break;
    }
    case K::kSetDelay: {
      NetworkOptions o = net.options();
      o.one_way_delay_us_mean = std::max(f.value_us, o.one_way_delay_us_min);
      net.set_options(o);
      break;
    }
    case K::kPartition:
      net.Partition(f.group_a, f.group_b);
      break;
    case K::kBlock:
      for (AuthorityIndex x : f.group_a) for (AuthorityIndex y : f.group_b) net.Block(x, y);
      break;
    case K::kClog:
      for (AuthorityIndex x : f.group_a) for (AuthorityIndex y : f.group_b) net.Clog(x, y, f.value_us);
      break;
    case K::kHeal:
      net.HealAll();
      break;
    case K::kCrash:
      cluster.Crash(f.node);
      break;
    case K::kRestart:
      cluster.Restart(f.node);
      break;
    case K::kPause:
      cluster.Pause(f.node);
      break;
    case K::kResume:
      cluster.Resume(f.node);
      break;
  }
}

}  // namespace

std::string FaultEvent::Describe() const {
  using K = Kind;
  std::string at = absl::StrFormat("t=%.3fs ", at_us / 1e6);
  switch (kind) {
    case K::kSetLoss: return absl::StrCat(at, "loss=", value);
    case K::kSetDelay: return absl::StrCat(at, "delay_mean_ms=", value_us / 1000);
    case K::kPartition: return absl::StrCat(at, "partition [", Group(group_a), "] | [", Group(group_b), "]");
    case K::kBlock: return absl::StrCat(at, "block [", Group(group_a), "] -> [", Group(group_b), "]");
    case K::kClog: return absl::StrCat(at, "clog [", Group(group_a), "] -> [", Group(group_b), "] +", value_us / 1000, "ms");
    case K::kHeal: return absl::StrCat(at, "heal");
    case K::kCrash: return absl::StrCat(at, "crash ", node);
    case K::kRestart: return absl::StrCat(at, "restart ", node);
    case K::kPause: return absl::StrCat(at, "pause ", node);
    case K::kResume: return absl::StrCat(at, "resume ", node);
  }
  return at;
}

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

SimulationResult RunSimulation(const SimulationOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  SimulationResult result;
  result.seed = options.cluster.seed;
  result.nodes = options.cluster.nodes;

  std::unique_ptr<Checkers> checkers;
  std::unique_ptr<Load> load;
  std::unique_ptr<DagExport> dag_export;
  if (!options.export_dag_path.empty()) dag_export = std::make_unique<DagExport>();
  Cluster* cluster_ptr = nullptr;

  Cluster::Observers obs;
  obs.on_commit = [&](AuthorityIndex a, const CommittedSubDag& sub) {
    checkers->OnCommit(a, sub, cluster_ptr->scheduler().NowUs());
    if (dag_export && a == 0) dag_export->OnCommit(sub);
    if (checkers->failed()) cluster_ptr->scheduler().RequestStop();
  };
  obs.on_certificate = [&](AuthorityIndex a, const CertificatePtr& c) {
    checkers->OnCertificate(a, c, cluster_ptr->scheduler().NowUs());
    if (dag_export && a == 0) dag_export->OnCertificate(c);
    if (checkers->failed()) cluster_ptr->scheduler().RequestStop();
  };
  obs.on_batch_sealed = [&](AuthorityIndex a, WorkerId w, const BatchAccepted& b) { load->OnSealed(a, w, b); };
  obs.on_batch_accepted = [&](AuthorityIndex a, WorkerId w, const BatchAccepted& b) { load->OnAccepted(a, w, b); };

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

  std::vector<FaultEvent> faults = options.faults;
  if (options.crash_restarts > 0) {
    auto drawn = DrawCrashRestarts(options.cluster.seed, options.cluster.nodes, options.crash_restarts,
                                   kSecondUs, options.duration_us - options.drain_us - options.liveness_bound_us / 2);
    faults.insert(faults.end(), drawn.begin(), drawn.end());
    std::stable_sort(faults.begin(), faults.end(),
                     [](const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; });
  }
  for (const FaultEvent& f : faults) {
    result.heal_us = std::max(result.heal_us, f.at_us);
    cluster.scheduler().ScheduleAt(f.at_us, [&cluster, f] {
      VLOG(1) << "fault: " << f.Describe();
      Apply(cluster, f);
    });
  }
  result.faults = faults;

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
  result.frames_delivered = cluster.network().stats().frames_delivered;
  absl::btree_map<std::string, int64_t> rows;
  std::vector<std::string> order;
  for (AuthorityIndex a = 0; a < cluster.committee().size(); ++a) {
    if (cluster.IsUp(a)) {
      result.node_states.push_back(cluster.primary(a)->DebugString());
      result.retransmissions += cluster.primary(a)->messenger().stats().retransmissions;
      for (WorkerId w = 0; w < cluster.committee().workers_per_authority(); ++w) {
        result.batches_sealed += cluster.worker(a, w)->stats().batches_sealed;
        result.batches_quorum += cluster.worker(a, w)->stats().batches_quorum;
        result.retransmissions += cluster.worker(a, w)->messenger().stats().retransmissions;
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
  return absl::StrFormat(
      "{\"seed\":%d,\"nodes\":%d,\"sim_time_s\":%.3f,\"events\":%d,\"trace_hash\":\"%s\","
      "\"violations\":%d,\"violation_details\":[%s],\"outside_model\":%s,"
      "\"committed_sub_dags\":%d,\"committed_certificates\":%d,\"committed_transactions\":%d,"
      "\"accepted_transactions\":%d,\"submitted_transactions\":%d,\"last_committed_round\":%d,"
      "\"batches_sealed\":%d,\"batches_quorum\":%d,\"frames_delivered\":%d,\"retransmissions\":%d,"
      "\"commit_latency_ms_p50\":%.1f,\"commit_latency_ms_p99\":%.1f,\"store_rows\":{%s},"
      "\"wall_s\":%.3f,\"sim_seconds_per_wall_second\":%.1f,\"events_per_wall_second\":%.0f}",
      seed, nodes, sim_time_s, events, trace_hash, violations.size(), absl::StrJoin(viol, ","),
      outside_model ? "true" : "false", committed_sub_dags, committed_certificates,
      committed_transactions, accepted_transactions, submitted_transactions, last_committed_round,
      batches_sealed, batches_quorum, frames_delivered, retransmissions, commit_latency_ms_p50,
      commit_latency_ms_p99, absl::StrJoin(rows, ","), wall_s, wall_s > 0 ? sim_time_s / wall_s : 0,
      wall_s > 0 ? events / wall_s : 0);
}

}  // namespace narwhal::sim
