#include "node/node_runner.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/primary/primary.h"
#include "core/worker/worker.h"
#include "glog/logging.h"
#include "node/ingress.h"
#include "node/node_config.h"
#include "node/metrics.h"
#include "node/output_server.h"
#include "node/primary_observer.h"
#include "node/worker_observer.h"
#include "node/worker_store_reader.h"
#include "store_sqlite/sqlite_store.h"
#include "transport_zmq/event_loop.h"
#include "transport_zmq/zap_authenticator.h"
#include "transport_zmq/zmq_transport.h"

namespace narwhal::node {
namespace {

std::atomic<EventLoop*> g_loop{nullptr};

void OnSignal(int) {
  if (EventLoop* loop = g_loop.load()) loop->Stop();
}

absl::StatusOr<uint64_t> UrandomSeed() {
  uint64_t seed = 0;
  std::ifstream in("/dev/urandom", std::ios::binary);
  if (!in || !in.read(reinterpret_cast<char*>(&seed), sizeof(seed))) {
    return absl::UnavailableError("cannot read /dev/urandom");
  }
  return seed;
}

absl::Status EnsureDirectory(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("--store: missing (a directory)");
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat("--store ", dir, ": not a directory"));
    return absl::OkStatus();
  }
  // The roles of one authority may start at once on one directory: losing
  // the race to create it is fine.
  if (::mkdir(dir.c_str(), 0755) != 0 && !(errno == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
    return absl::PermissionDeniedError(absl::StrCat("--store ", dir, ": cannot create: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

struct PrimaryRole {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<ZmqTransport> transport;
  std::unique_ptr<Random> random;
  std::unique_ptr<WorkerStoreReader> worker_stores;
  std::unique_ptr<PrimaryObserver> observer;
  std::unique_ptr<OutputServer> output;
  std::unique_ptr<Primary> primary;

  ~PrimaryRole() {
    // Hooks point at the output server, the observer and the store readers:
    // the primary goes first.
    primary.reset();
    output.reset();
    observer.reset();
    worker_stores.reset();
    transport.reset();
    store.reset();
  }
};

struct WorkerRole {
  WorkerId id = 0;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<ZmqTransport> transport;
  std::unique_ptr<Random> random;
  std::unique_ptr<Worker> worker;
  std::unique_ptr<Ingress> ingress;
  std::unique_ptr<WorkerObserver> observer;

  ~WorkerRole() {
    observer.reset();
    ingress.reset();
    worker.reset();
    transport.reset();
    store.reset();
  }
};

class NodeProcess {
 public:
  NodeProcess(LoadedConfig config, NodeKeys keys, AuthorityIndex authority, RoleSpec roles,
              RunOptions options)
      : config_(std::move(config)),
        keys_(std::move(keys)),
        self_(authority),
        roles_(std::move(roles)),
        options_(std::move(options)) {}

  ~NodeProcess() {
    g_loop.store(nullptr);
    if (stats_timer_ != 0 && loop_) loop_->Cancel(stats_timer_);
    if (observe_timer_ != 0 && loop_) loop_->Cancel(observe_timer_);
    workers_.clear();
    primary_.reset();
    zap_.reset();
  }

  absl::Status Start();
  absl::Status StartRoles();
  // The store files this process's roles use, in --store.
  std::vector<std::string> StoreNames() const;
  // Until SIGINT/SIGTERM (OK) or a role halts on a store failure (its
  // error: the process exits non-zero and says why).
  absl::Status Run() {
    loop_->Run();
    return halted_;
  }

 private:
  absl::StatusOr<std::unique_ptr<ZmqTransport>> MakeTransport(Endpoint self);
  // `synchronous`: SQLite's PRAGMA synchronous for this store.
  absl::StatusOr<std::unique_ptr<SqliteStore>> OpenStore(const std::string& name, int page_size,
                                                         const std::string& synchronous);
  absl::Status StartPrimary();
  // Env::on_halt: a role's store failed (core/fail_stop.h). The whole
  // process stops: its other roles share the machine and the operator must
  // look at the disk before a restart.
  void OnHalt(const absl::Status& status) {
    if (halted_.ok()) halted_ = status;
    loop_->Stop();
  }
  absl::Status halted_;
  // One event-loop pass is one durable step for each role (group commit):
  // its store writes commit together at the end of the pass (one fsync on
  // FULL instead of one per write), and only then do the frames it sent in
  // the pass leave (FailStop holds them), so nothing is said that the store
  // does not back. A failed commit halts the role and drops those frames.
  void BeginPass();
  void EndPass();
  absl::Status StartWorker(WorkerId id);
  void LogStats();
  // Metrics and health, once a second.
  void Observe();
  void LogHealthChange(const client::StatusReply& status, bool* was_healthy);

  const LoadedConfig config_;
  const NodeKeys keys_;
  const AuthorityIndex self_;
  const RoleSpec roles_;
  const RunOptions options_;
  // Context first: destroyed after every socket.
  zmq::context_t context_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<ZapAuthenticator> zap_;
  // Before the roles, whose observers hold its metrics; the server (reading
  // it from its own threads) stops before it goes.
  MetricsRegistry metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::unique_ptr<PrimaryRole> primary_;
  std::vector<std::unique_ptr<WorkerRole>> workers_;
  TimerId stats_timer_ = 0;
  TimerId observe_timer_ = 0;
  TimeUs started_us_ = 0;
  bool primary_healthy_ = true;
  std::vector<bool> workers_healthy_;
};

absl::Status NodeProcess::Start() {
  // A start that fails (a port in use, ...) leaves no store file it created:
  // an empty store would later pass for a fresh authority's.
  std::vector<std::string> created;
  for (const std::string& name : StoreNames()) {
    const std::string path = absl::StrCat(options_.store_dir, "/", name);
    if (struct stat st; ::stat(path.c_str(), &st) != 0) created.push_back(path);
  }
  absl::Status s = StartRoles();
  if (!s.ok()) {
    primary_.reset();
    workers_.clear();
    for (const std::string& path : created) {
      for (const char* suffix : {"", "-wal", "-shm"}) ::unlink(absl::StrCat(path, suffix).c_str());
    }
  }
  return s;
}

std::vector<std::string> NodeProcess::StoreNames() const {
  std::vector<std::string> names;
  if (roles_.primary) names.push_back("primary.db");
  for (WorkerId w : roles_.workers) names.push_back(absl::StrCat("worker-", w, ".db"));
  return names;
}

absl::Status NodeProcess::StartRoles() {
  auto loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();
  loop_ = *std::move(loop);
  if (options_.insecure_plaintext_transport) {
    LOG(WARNING) << "--insecure_plaintext_transport: no CurveZMQ; any process that reaches these "
                    "ports can pose as a committee member. For benchmarks only.";
  } else {
    auto zap = ZapAuthenticator::Create(context_, *loop_, config_.curve_public_keys);
    if (!zap.ok()) return zap.status();
    zap_ = *std::move(zap);
  }
  started_us_ = loop_->NowUs();
  if (!options_.metrics_address.empty()) {
    auto server = MetricsServer::Start(options_.metrics_address);
    if (!server.ok()) return server.status();
    metrics_server_ = *std::move(server);
    metrics_server_->Serve(metrics_);
    LOG(INFO) << "metrics at http://" << options_.metrics_address.substr(0, options_.metrics_address.rfind(':'))
              << ":" << metrics_server_->port() << "/metrics";
  }
  if (roles_.primary) {
    if (absl::Status s = StartPrimary(); !s.ok()) return s;
  }
  for (WorkerId w : roles_.workers) {
    if (absl::Status s = StartWorker(w); !s.ok()) return s;
  }
  workers_healthy_.assign(workers_.size(), true);
  loop_->SetPassHooks([this] { BeginPass(); }, [this] { EndPass(); });
  observe_timer_ = loop_->Schedule(0, [this] { Observe(); });
  g_loop.store(loop_.get());
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (options_.stats_interval_s > 0) {
    stats_timer_ = loop_->Schedule(options_.stats_interval_s * kSecondUs, [this] { LogStats(); });
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ZmqTransport>> NodeProcess::MakeTransport(Endpoint self) {
  absl::btree_map<Endpoint, std::string> addresses;
  for (AuthorityIndex a = 0; a < config_.committee.size(); ++a) {
    const AuthorityEntry& e = config_.committee.authority(a);
    addresses[Endpoint::Primary(a)] = e.primary_address;
    for (WorkerId w = 0; w < e.workers.size(); ++w) addresses[Endpoint::Worker(a, w)] = e.workers[w].address();
  }
  ZmqTransportOptions options;
  if (!options_.insecure_plaintext_transport) {
    options.curve = ZmqCurveOptions{keys_.curve, config_.curve_public_keys, zap_.get()};
  }
  auto t = ZmqTransport::Create(context_, *loop_, self, std::move(addresses), options);
  if (!t.ok()) return absl::Status(t.status().code(), absl::StrCat(self.ToString(), ": ", t.status().message()));
  return t;
}

absl::StatusOr<std::unique_ptr<SqliteStore>> NodeProcess::OpenStore(const std::string& name,
                                                                     int page_size,
                                                                     const std::string& synchronous) {
  SqliteOptions options;
  options.synchronous = synchronous;
  options.page_size_bytes = page_size;
  // Checkpoints and their fsyncs off the event loop (see SqliteOptions).
  // Under steady writes the background checkpoints never catch the log up
  // to a point where it can start over, so the inline checkpoint at
  // checkpoint_inline_frames does that: a log of at most ~256 MB.
  options.background_checkpoint = options_.sqlite_background_checkpoint;
  options.checkpoint_inline_frames = std::max(2000, (256 << 20) / page_size);
  return SqliteStore::Open(absl::StrCat(options_.store_dir, "/", name), options);
}

absl::Status NodeProcess::StartPrimary() {
  auto role = std::make_unique<PrimaryRole>();
  // Always FULL, whatever sqlite_synchronous says: with NORMAL a power loss
  // drops the primary's last writes, and those are what it promised others
  // and its clients (its votes and own headers, the own batches its workers
  // ACKed, the committed and executed rows a client has read). The narwhal
  // simulator shows it: with the primary's store NORMAL, a power-loss crash
  // re-commits and re-serves indexes and loses accepted transactions
  // (tests/sim_storage_faults_test.cc). The cost stays low because a whole
  // event-loop pass commits at once (BeginPass/EndPass). Large pages: its
  // executed rows carry every committed batch's bytes again.
  auto store = OpenStore("primary.db", 65536, "FULL");
  if (!store.ok()) return store.status();
  role->store = *std::move(store);
  auto transport = MakeTransport(Endpoint::Primary(self_));
  if (!transport.ok()) return transport.status();
  role->transport = *std::move(transport);
  auto seed = UrandomSeed();
  if (!seed.ok()) return seed.status();
  role->random = std::make_unique<Random>(*seed);
  const Parameters& params = config_.parameters;

  role->observer = std::make_unique<PrimaryObserver>(metrics_, config_.committee, self_, options_.store_dir,
                                                     HealthThresholds{}, started_us_);
  PrimaryObserver* observer = role->observer.get();

  OutputServerOptions out_options;
  out_options.address = config_.committee.authority(self_).output_address;
  out_options.max_transaction_size_bytes = params.max_transaction_size_bytes;
  out_options.status = [observer] { return observer->status(); };
  auto output = OutputServer::Create(context_.handle(), *loop_, role->store.get(), out_options);
  if (!output.ok()) return output.status();
  role->output = *std::move(output);

  OutputServer* out = role->output.get();
  PrimaryHooks hooks;
  EventLoop* loop = loop_.get();
  hooks.on_commit = [out, observer, loop](const CommittedSubDag& sub) {
    out->OnCommit(sub);
    observer->OnCommit(sub, loop->NowUs());
  };
  hooks.on_executed = [out, observer, loop](const ExecutedRow& row) {
    out->OnExecuted(row);
    observer->OnExecuted(row.index, loop->NowUs());
  };
  hooks.on_own_batch = [out, observer](const Digest& d, TimeUs created) {
    out->OnOwnBatch(d, created);
    observer->OnOwnBatch(d, created);
  };
  hooks.on_certificate_accepted = [observer](const CertificatePtr& c) { observer->OnCertificateAccepted(*c); };
  if (options_.executor_reads_worker_stores) {
    // The executor reads committed batches from our workers' store files
    // when they share this machine: the worker is not asked for them.
    role->worker_stores = std::make_unique<WorkerStoreReader>(options_.store_dir, loop_.get());
    WorkerStoreReader* stores = role->worker_stores.get();
    hooks.local_batch_read = [stores](WorkerId w, const Digest& d) { return stores->Get(w, d); };
  }
  Env env{loop_.get(), loop_.get(), role->random.get(), role->transport.get(), role->store.get()};
  env.on_halt = [this](const absl::Status& s) { OnHalt(s); };
  role->primary = std::make_unique<Primary>(env, config_.committee, params, self_, keys_.signing,
                                            SignatureScheme::kEd25519, std::move(hooks));
  if (absl::Status s = role->primary->Start(); !s.ok()) return s;
  LOG(INFO) << "primary of authority " << self_ << " started at "
            << config_.committee.authority(self_).primary_address << ", output at "
            << out_options.address << ", round " << role->primary->round() << ", next output index "
            << role->output->next_index();
  primary_ = std::move(role);
  return absl::OkStatus();
}

void NodeProcess::BeginPass() {
  if (primary_) {
    primary_->primary->fail_stop().BeginPass();
    primary_->store->BeginGroup();
  }
  for (auto& w : workers_) {
    w->worker->fail_stop().BeginPass();
    w->store->BeginGroup();
  }
}

void NodeProcess::EndPass() {
  auto end = [](FailStop& fail_stop, SqliteStore& store) {
    absl::Status committed = store.EndGroup(/*commit=*/!fail_stop.halted());
    if (!committed.ok()) fail_stop.Halt("committing the event loop pass's writes", committed);
    fail_stop.EndPass();
  };
  if (primary_) end(primary_->primary->fail_stop(), *primary_->store);
  for (auto& w : workers_) end(w->worker->fail_stop(), *w->store);
}

absl::Status NodeProcess::StartWorker(WorkerId id) {
  auto role = std::make_unique<WorkerRole>();
  role->id = id;
  // Large pages: a worker's store holds batches of up to batch_size_bytes.
  auto store = OpenStore(absl::StrCat("worker-", id, ".db"), 65536, config_.parameters.sqlite_synchronous);
  if (!store.ok()) return store.status();
  role->store = *std::move(store);
  auto transport = MakeTransport(Endpoint::Worker(self_, id));
  if (!transport.ok()) return transport.status();
  role->transport = *std::move(transport);
  auto seed = UrandomSeed();
  if (!seed.ok()) return seed.status();
  role->random = std::make_unique<Random>(*seed);
  Env env{loop_.get(), loop_.get(), role->random.get(), role->transport.get(), role->store.get()};
  env.on_halt = [this](const absl::Status& s) { OnHalt(s); };
  role->worker = std::make_unique<Worker>(env, config_.committee, config_.parameters, self_, id);
  role->observer = std::make_unique<WorkerObserver>(metrics_, self_, id, config_.parameters, options_.store_dir,
                                                    HealthThresholds{}, started_us_);
  IngressOptions ingress_options;
  ingress_options.address = config_.committee.authority(self_).workers[id].transactions_address();
  WorkerObserver* observer = role->observer.get();
  ingress_options.status = [observer] { return observer->status(); };
  auto ingress = Ingress::Create(context_.handle(), *loop_, *role->worker, ingress_options);
  if (!ingress.ok()) return ingress.status();
  role->ingress = *std::move(ingress);
  LOG(INFO) << "worker " << id << " of authority " << self_ << " started at "
            << config_.committee.authority(self_).workers[id].address() << ", clients at "
            << ingress_options.address;
  workers_.push_back(std::move(role));
  return absl::OkStatus();
}

void NodeProcess::Observe() {
  observe_timer_ = loop_->Schedule(kSecondUs, [this] { Observe(); });
  const TimeUs now = loop_->NowUs();
  if (primary_) {
    primary_->observer->Update(*primary_->primary, *primary_->output, *primary_->store, now);
    LogHealthChange(primary_->observer->status(), &primary_healthy_);
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    WorkerRole& w = *workers_[i];
    w.observer->Update(*w.worker, *w.ingress, *w.store, *w.transport, now);
    bool healthy = workers_healthy_[i];
    LogHealthChange(w.observer->status(), &healthy);
    workers_healthy_[i] = healthy;
  }
}

void NodeProcess::LogHealthChange(const client::StatusReply& status, bool* was_healthy) {
  if (status.healthy() == *was_healthy) return;
  *was_healthy = status.healthy();
  if (status.healthy()) {
    LOG(INFO) << "health: " << status.role() << " is healthy again";
  } else {
    LOG(WARNING) << "health: " << status.role() << " is degraded: " << absl::StrJoin(status.problems(), "; ");
  }
}

void NodeProcess::LogStats() {
  stats_timer_ = loop_->Schedule(options_.stats_interval_s * kSecondUs, [this] { LogStats(); });
  if (primary_) {
    const PrimaryStats& s = primary_->primary->stats();
    const ExecutorStats& e = primary_->primary->executor().stats();
    const OutputServerStats& o = primary_->output->stats();
    LOG(INFO) << "stats primary: round=" << primary_->primary->round()
              << " last_committed_round=" << primary_->primary->last_committed_round()
              << " headers=" << s.headers_proposed << " certificates=" << s.certificates_formed
              << " sub_dags_committed=" << s.sub_dags_committed
              << " next_output_index=" << primary_->output->next_index()
              << " leader_timeouts=" << s.leader_timeouts << " dag_size=" << primary_->primary->dag_size()
              << " | executor: next_index=" << primary_->primary->executor().next_index()
              << " pending=" << primary_->primary->executor().pending_sub_dags()
              << " read_locally=" << e.batches_read_locally << " from_workers=" << e.batches_from_own_workers
              << " from_peers=" << e.batches_from_peers << " kept_mb=" << primary_->primary->executor().kept_bytes() / (1 << 20)
              << " | output: sent=" << o.sub_dags_sent << " subscriptions=" << o.subscriptions
              << " blocked=" << o.sends_blocked;
  }
  for (const auto& w : workers_) {
    const WorkerStats& s = w->worker->stats();
    const IngressStats& i = w->ingress->stats();
    LOG(INFO) << "stats worker " << w->id << ": sealed=" << s.batches_sealed
              << " (size " << s.batches_sealed_by_size << ", delay " << s.batches_sealed_by_delay << ", early " << s.batches_sealed_early
              << ") quorum=" << s.batches_quorum << " received=" << s.batches_received
              << " served=" << s.batch_requests_served << " pending_bytes=" << w->worker->pending_bytes()
              << " retransmissions=" << w->worker->messenger().stats().retransmissions
              << " | ingress: requests=" << i.requests << " sequenced=" << i.transactions_sequenced
              << " refused=" << i.transactions_refused << " accepted=" << i.transactions_accepted
              << " dropped_replies=" << i.replies_dropped;
  }
}

}  // namespace

absl::Status RunNode(const RunOptions& options) {
  // Check everything before starting anything.
  if (options.config_path.empty()) return absl::InvalidArgumentError("--config: missing");
  if (options.keys_path.empty()) return absl::InvalidArgumentError("--keys: missing");
  auto config = LoadConfig(options.config_path);
  if (!config.ok()) return config.status();
  auto keys = LoadKeys(options.keys_path);
  if (!keys.ok()) return keys.status();
  if (absl::Status s = CheckKeysMatch(*config, *keys, options.authority); !s.ok()) return s;
  const AuthorityIndex self = static_cast<AuthorityIndex>(options.authority);
  auto roles = ParseRole(options.role, *config, self);
  if (!roles.ok()) return roles.status();
  if (absl::Status s = EnsureDirectory(options.store_dir); !s.ok()) return s;

  NodeProcess process(*std::move(config), *std::move(keys), self, *std::move(roles), options);
  if (absl::Status s = process.Start(); !s.ok()) return s;
  LOG(INFO) << "authority " << self << " running (" << options.role << "); SIGINT/SIGTERM stops";
  absl::Status halted = process.Run();
  LOG(INFO) << "authority " << self << " stopping";
  return halted;
}

}  // namespace narwhal::node
