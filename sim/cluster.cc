#include "sim/cluster.h"

#include <algorithm>

#include "core/wire_cache.h"
#include "glog/logging.h"

namespace narwhal::sim {

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
    for (uint32_t r = 0; r <= options_.workers; ++r) nodes_[a].stores.push_back(store_factory_());
    nodes_[a].roles.resize(options_.workers + 1);
  }
  committee_ = Committee::ForTest(keys, stakes, options_.workers);
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
  Env env{&scheduler_, r.timers.get(), r.random.get(), r.transport.get(), n.stores[role].get()};
  env.on_halt = [this, a, role](const absl::Status& s) { OnHalt(a, role, s); };
  return env;
}

void Cluster::Boot(AuthorityIndex a) {
  Node& n = nodes_[a];
  n.workers.resize(options_.workers);
  n.role_down.assign(options_.workers + 1, false);
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
  // As an operator's supervisor sees a process exit: the role goes down
  // (its store is kept); the fault schedule may restart it. Not inside the
  // reactor's own call: the crash destroys it.
  const uint32_t incarnation = nodes_[a].incarnation;
  scheduler_.Schedule(0, [this, a, role, incarnation] {
    if (nodes_[a].incarnation == incarnation) CrashRole(a, role);
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
    r.transport.reset();
  }
  n.up = false;
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
  r.transport.reset();
  network_->BumpEndpointEpoch(self);
  n.role_down[role] = true;
}

void Cluster::RestartRole(AuthorityIndex a, uint32_t role) {
  Node& n = nodes_[a];
  if (!n.up || role >= n.role_down.size() || !n.role_down[role]) return;
  ++n.role_incarnation;
  n.role_down[role] = false;
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
