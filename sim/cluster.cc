#include "sim/cluster.h"

#include <algorithm>

#include "core/store/checksummed_store.h"
#include "core/wire_cache.h"
#include "glog/logging.h"

namespace narwhal::sim {
namespace {

// The role's transport, watched: a frame sent while the role is halted is
// recorded (a halted role must stay silent) and still handed on, so that
// the checker sees what the role did rather than what we hid.
class HaltWatchTransport final : public Transport {
 public:
  HaltWatchTransport(Transport* inner, std::function<void(const Endpoint& to)> on_send)
      : inner_(inner), on_send_(std::move(on_send)) {}
  Endpoint self() const override { return inner_->self(); }
  absl::Status Send(const Endpoint& to, std::string frame) override {
    on_send_(to);
    return inner_->Send(to, std::move(frame));
  }
  absl::Status SendParts(const Endpoint& to, std::string prefix, std::shared_ptr<const std::string> body) override {
    on_send_(to);
    return inner_->SendParts(to, std::move(prefix), std::move(body));
  }
  void SetReceiver(Receiver receiver) override { inner_->SetReceiver(std::move(receiver)); }
  void SetPartsReceiver(PartsReceiver receiver) override { inner_->SetPartsReceiver(std::move(receiver)); }

 private:
  Transport* inner_;
  std::function<void(const Endpoint& to)> on_send_;
};

}  // namespace

Cluster::Cluster(ClusterOptions options, StoreFactory store_factory, Observers observers)
    : options_(std::move(options)),
      store_factory_(std::move(store_factory)),
      observers_(std::move(observers)) {
  CHECK_GE(options_.nodes, 1u);
  // Every simulated node verifies the same signatures: remember results
  // (a pure function, so no outcome changes; only the repeats are skipped).
  const bool share = options_.share_parsed_messages;
  SetThreadVerifyCache(share ? 1 << 18 : 0);
  // Likewise every simulated primary receives the same header and
  // certificate bytes: parse and check each once (core/wire_cache.h). About
  // two rounds' worth of n^2 receipts; a new cluster starts empty, so no
  // entry outlives the committee it was checked against.
  const size_t cached =
      share ? std::max<size_t>(4096, 2 * size_t{options_.nodes} * options_.nodes) : 0;
  WireCache<Header>::SetCapacity(cached);
  WireCache<Certificate>::SetCapacity(cached);
  network_ = std::make_unique<Network>(&scheduler_, Random::DeriveSeed(options_.seed, "network"),
                                       options_.network);
  std::vector<PublicKey> keys;
  std::vector<uint64_t> stakes = options_.stakes;
  if (stakes.empty()) stakes.assign(options_.nodes, 1);
  CHECK_EQ(stakes.size(), options_.nodes);
  nodes_.resize(options_.nodes);
  for (AuthorityIndex a = 0; a < options_.nodes; ++a) {
    std::array<uint8_t, 32> seed{};
    uint64_t s = Random::DeriveSeed(options_.seed, absl::StrCat("key", a));
    for (int i = 0; i < 8; ++i) seed[i] = static_cast<uint8_t>(s >> (8 * i));
    seed[8] = static_cast<uint8_t>(a);
    nodes_[a].key = KeyPair::FromSeed(options_.scheme, seed);
    keys.push_back(nodes_[a].key.public_key);
    for (uint32_t r = 0; r <= options_.workers; ++r) {
      FaultyStore* faulty = nullptr;
      nodes_[a].stores.push_back(MakeStore(a, r, &faulty));
      nodes_[a].faulty.push_back(faulty);
    }
    nodes_[a].role_halted.assign(options_.workers + 1, false);
    nodes_[a].roles.resize(options_.workers + 1);
  }
  committee_ = Committee::ForTest(keys, stakes, options_.workers);
}

std::unique_ptr<Store> Cluster::MakeStore(AuthorityIndex a, uint32_t role, FaultyStore** faulty) {
  const StorageFaultOptions& sf = options_.storage_faults;
  if (!sf.enabled()) return store_factory_();
  FaultyStoreOptions o;
  if (sf.Covers(a)) {
    o.write_failure_probability = sf.write_failure_probability;
    o.read_failure_probability = sf.read_failure_probability;
    o.corrupt_read_probability = sf.corrupt_read_probability;
    o.torn_read_probability = sf.torn_read_probability;
  }
  const bool normal = role == 0 ? sf.test_only_primary_synchronous_normal : sf.synchronous == SynchronousMode::kNormal;
  o.synchronous = normal ? SynchronousMode::kNormal : SynchronousMode::kFull;
  o.sync_interval_us = sf.sync_interval_us;
  const uint64_t seed = Random::DeriveSeed(Random::DeriveSeed(options_.seed, "storage"), (uint64_t{a} << 16) | role);
  std::unique_ptr<FaultyStore> store;
  if (options_.store == StoreKind::kMemory) {
    store = FaultyStore::OverMemory(&scheduler_, seed, o);
  } else {
    CHECK(!normal) << "synchronous NORMAL is modelled over the memory store only";
    store = std::make_unique<FaultyStore>(store_factory_(), &scheduler_, seed, o);
  }
  *faulty = store.get();
  // The product's checksums over the faulty disk, as the node has them over
  // SQLite: a damaged row read back is DataLoss, not a value.
  return std::make_unique<ChecksummedStore>(std::move(store));
}

void Cluster::ArmStorageFaults(bool armed) {
  for (AuthorityIndex a = 0; a < nodes_.size(); ++a) {
    if (!options_.storage_faults.Covers(a)) continue;
    for (FaultyStore* f : nodes_[a].faulty) {
      if (f != nullptr) f->set_armed(armed);
    }
  }
}

FaultyStoreStats Cluster::storage_fault_stats() const {
  FaultyStoreStats sum;
  for (const Node& n : nodes_) {
    for (const FaultyStore* f : n.faulty) {
      if (f == nullptr) continue;
      const FaultyStoreStats& s = f->stats();
      sum.writes_failed += s.writes_failed;
      sum.reads_failed += s.reads_failed;
      sum.reads_corrupted += s.reads_corrupted;
      sum.reads_torn += s.reads_torn;
      sum.sync_points += s.sync_points;
      sum.power_losses += s.power_losses;
      sum.writes_lost += s.writes_lost;
    }
  }
  return sum;
}

bool Cluster::IsRoleHalted(AuthorityIndex a, uint32_t role) const {
  const Node& n = nodes_[a];
  return n.up && role < n.role_halted.size() && n.role_halted[role];
}

void Cluster::RestartHalted() {
  for (AuthorityIndex a = 0; a < nodes_.size(); ++a) {
    for (uint32_t role = 0; role < nodes_[a].role_halted.size(); ++role) {
      if (!IsRoleHalted(a, role)) continue;
      // Down already, unless it halted at this very instant.
      CrashRole(a, role);
      RestartRole(a, role);
    }
  }
}

Cluster::~Cluster() {
  for (auto& n : nodes_) {
    n.primary.reset();
    n.workers.clear();
  }
  SetThreadVerifyCache(0);
  WireCache<Header>::SetCapacity(0);
  WireCache<Certificate>::SetCapacity(0);
}

Env Cluster::MakeEnv(AuthorityIndex a, uint32_t role) {
  Node& n = nodes_[a];
  Role& r = n.roles[role];
  const uint64_t node_id = (uint64_t{a} << 16) | role;
  // One NodeTimers per role for the whole run: callbacks scheduled before a
  // crash still point at it and must find the bumped epoch, not freed memory.
  if (!r.timers) r.timers = std::make_unique<NodeTimers>(&scheduler_, node_id);
  r.random = std::make_unique<Random>(
      Random::DeriveSeed(Random::DeriveSeed(options_.seed, node_id),
                         uint64_t(n.incarnation) + (uint64_t(n.role_incarnation) << 32)));
  const Endpoint self = role == 0 ? Endpoint::Primary(a) : Endpoint::Worker(a, role - 1);
  r.transport = std::make_unique<SimTransport>(network_.get(), self, options_.nodes, options_.workers);
  Transport* transport = r.transport.get();
  if (options_.storage_faults.enabled()) {
    r.watched = std::make_unique<HaltWatchTransport>(transport, [this, a, role](const Endpoint& to) {
      const Node& node = nodes_[a];
      if (role >= node.role_halted.size() || !node.role_halted[role]) return;
      TimeUs halted_at = 0;
      for (const Halt& h : halts_) {
        if (h.authority == a && h.role == role) halted_at = h.at_us;
      }
      sends_after_halt_.push_back(absl::StrCat("authority ", a, role == 0 ? " primary" : absl::StrCat(" worker ", role - 1),
                                               " sent a frame to ", to.ToString(), " ",
                                               (scheduler_.NowUs() - halted_at) / kMillisecondUs,
                                               " ms after halting"));
    });
    transport = r.watched.get();
  }
  Env env{&scheduler_, r.timers.get(), r.random.get(), transport, n.stores[role].get()};
  env.on_halt = [this, a, role](const absl::Status& s) { OnHalt(a, role, s); };
  return env;
}

void Cluster::Boot(AuthorityIndex a) {
  Node& n = nodes_[a];
  n.workers.resize(options_.workers);
  n.role_down.assign(options_.workers + 1, false);
  n.role_halted.assign(options_.workers + 1, false);
  for (WorkerId w = 0; w < options_.workers; ++w) BootWorker(a, w);
  BootPrimary(a);
  n.up = true;
}

ByzantineBehavior Cluster::ByzantineOf(AuthorityIndex a) const {
  if (auto it = options_.byzantine.find(a); it != options_.byzantine.end()) return it->second;
  return {};
}

void Cluster::BootWorker(AuthorityIndex a, WorkerId w) {
  Node& n = nodes_[a];
  if (n.worker_boots.size() <= w) n.worker_boots.resize(w + 1, 0);
  ++n.worker_boots[w];
  Env env = MakeEnv(a, w + 1);
  auto worker = std::make_unique<Worker>(env, committee_, options_.params, a, w, ByzantineOf(a));
  worker->SetOnBatchAccepted([this, a, w](const SealedBatch& b) {
    if (observers_.on_batch_accepted) observers_.on_batch_accepted(a, w, b);
  });
  worker->SetOnBatchSealed([this, a, w](const SealedBatch& b) {
    if (observers_.on_batch_sealed) observers_.on_batch_sealed(a, w, b);
  });
  n.workers[w] = std::move(worker);
}

void Cluster::BootPrimary(AuthorityIndex a) {
  Node& n = nodes_[a];
  PrimaryHooks hooks;
  hooks.on_commit = [this, a](const CommittedSubDag& sub) {
    TraceHash& t = scheduler_.trace();
    t.Mix(0xC0FFEE ^ a);
    t.Mix(sub.index);
    t.MixBytes(sub.leader->digest.ToBytes());
    if (observers_.on_commit) observers_.on_commit(a, sub);
  };
  hooks.on_certificate_accepted = [this, a](const CertificatePtr& c) {
    if (observers_.on_certificate) observers_.on_certificate(a, c);
  };
  hooks.on_own_batch = [this, a](const Digest& d, TimeUs t) {
    if (observers_.on_own_batch) observers_.on_own_batch(a, d, t);
  };
  hooks.on_executed = [this, a](const ExecutedRow& row) {
    TraceHash& t = scheduler_.trace();
    t.Mix(0xE7EC ^ a);
    t.Mix(row.index);
    if (observers_.on_executed) observers_.on_executed(a, row);
  };
  // As the node's executor reads its workers' store files on its machine:
  // the worker's store outlives the worker's crashes.
  hooks.local_batch_read = [this, a](WorkerId w, const Digest& d) -> std::optional<std::string> {
    if (w >= nodes_[a].stores.size() - 1) return std::nullopt;
    auto got = nodes_[a].stores[w + 1]->GetBatch(d);
    if (!got.ok()) return std::nullopt;
    return *std::move(got);
  };
  Env env = MakeEnv(a, 0);
  n.primary = std::make_unique<Primary>(env, committee_, options_.params, a, n.key, options_.scheme,
                                        std::move(hooks), ByzantineOf(a), options_.consensus);
  // A failed recovery has halted the primary (OnHalt takes it down).
  absl::Status s = n.primary->Start();
  LOG_IF(WARNING, !s.ok()) << "authority " << a << " failed to start: " << s;
}

void Cluster::OnHalt(AuthorityIndex a, uint32_t role, const absl::Status& status) {
  halts_.push_back({scheduler_.NowUs(), a, role, std::string(status.message())});
  nodes_[a].role_halted[role] = true;
  // As an operator's supervisor sees a process exit: the role goes down
  // (its store is kept); the fault schedule may restart it. Not inside the
  // reactor's own call: the crash destroys it. Only if it is still halted
  // then: a restart at this same instant (heal_all, the end of the storage
  // faults) may have replaced it with a role that recovered, which must
  // not be taken down in its place.
  const uint32_t incarnation = nodes_[a].incarnation;
  scheduler_.Schedule(0, [this, a, role, incarnation] {
    if (nodes_[a].incarnation == incarnation && nodes_[a].role_halted[role]) CrashRole(a, role);
  });
}

void Cluster::Start() {
  for (AuthorityIndex a = 0; a < options_.nodes; ++a) Boot(a);
}

void Cluster::Crash(AuthorityIndex a) {
  Node& n = nodes_[a];
  if (!n.up) return;
  network_->SetDown(a, true);
  if (n.paused) {
    n.paused = false;
    for (Role& r : n.roles) r.timers->Resume();  // then dropped by the crash below
  }
  n.primary.reset();
  n.workers.clear();
  for (Role& r : n.roles) {
    r.timers->Crash();
    r.watched.reset();
    r.transport.reset();
  }
  n.up = false;
  if (options_.storage_faults.crash_is_power_loss) {
    for (FaultyStore* f : n.faulty) {
      if (f != nullptr) f->PowerLoss();
    }
  }
}

void Cluster::CrashRole(AuthorityIndex a, uint32_t role) {
  Node& n = nodes_[a];
  if (!n.up || n.paused || role >= n.role_down.size() || n.role_down[role]) return;
  // That process's memory, timers and frames in flight to it are gone; its
  // store stays. The authority's other processes run on.
  if (role == 0) {
    n.primary.reset();
  } else {
    n.workers[role - 1].reset();
  }
  Role& r = n.roles[role];
  r.timers->Crash();
  const Endpoint self = r.transport->self();
  r.watched.reset();
  r.transport.reset();
  network_->BumpEndpointEpoch(self);
  n.role_down[role] = true;
}

void Cluster::RestartRole(AuthorityIndex a, uint32_t role) {
  Node& n = nodes_[a];
  if (!n.up || role >= n.role_down.size() || !n.role_down[role]) return;
  ++n.role_incarnation;
  n.role_down[role] = false;
  n.role_halted[role] = false;
  if (role == 0) {
    BootPrimary(a);
  } else {
    BootWorker(a, role - 1);
  }
}

bool Cluster::IsRoleUp(AuthorityIndex a, uint32_t role) const {
  const Node& n = nodes_[a];
  return n.up && role < n.role_down.size() && !n.role_down[role];
}

void Cluster::Restart(AuthorityIndex a) {
  Node& n = nodes_[a];
  if (n.up) return;
  ++n.incarnation;
  network_->SetDown(a, false);
  Boot(a);
}

void Cluster::Pause(AuthorityIndex a) {
  Node& n = nodes_[a];
  if (!n.up || n.paused) return;
  n.paused = true;
  for (Role& r : n.roles) r.timers->Pause();
  // Frames to a paused node are lost like to a crashed one; its state stays.
  network_->SetDown(a, true);
}

void Cluster::Resume(AuthorityIndex a) {
  Node& n = nodes_[a];
  if (!n.up || !n.paused) return;
  n.paused = false;
  network_->SetDown(a, false);
  for (Role& r : n.roles) r.timers->Resume();
}

}  // namespace narwhal::sim
