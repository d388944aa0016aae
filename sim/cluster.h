// A whole committee in one process: for each authority a primary and its
// workers, each with its own timers, seeded generator, simulated transport
// and store, all on one Scheduler. Crash() throws away a node's reactors and
// everything in memory (timers, frames in flight to it) but keeps its
// stores; Restart() builds fresh reactors on those stores.
#ifndef NARWHAL_SIM_CLUSTER_H_
#define NARWHAL_SIM_CLUSTER_H_

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/byzantine.h"
#include "core/committee.h"
#include "core/consensus/consensus.h"
#include "core/crypto.h"
#include "core/parameters.h"
#include "core/primary/primary.h"
#include "core/store/store.h"
#include "core/worker/worker.h"
#include "sim/faulty_store.h"
#include "sim/storage_faults.h"
#include "transport_sim/network.h"
#include "transport_sim/scheduler.h"
#include "transport_sim/sim_transport.h"

namespace narwhal::sim {

enum class StoreKind { kMemory, kSqliteMemory };

struct ClusterOptions {
  uint64_t seed = 1;
  size_t nodes = 4;
  uint32_t workers = 1;
  std::vector<uint64_t> stakes;  // empty: 1 each
  Parameters params;
  NetworkOptions network;
  SignatureScheme scheme = SignatureScheme::kEd25519;
  StoreKind store = StoreKind::kMemory;
  std::map<AuthorityIndex, ByzantineBehavior> byzantine;
  ConsensusOptions consensus;
  // Share signature checks and parsed headers and certificates between the
  // simulated nodes (core/wire_cache.h, SetThreadVerifyCache). It changes no
  // outcome, only the speed; off only to show that.
  bool share_parsed_messages = true;
  // Off by default; when enabled every store is a FaultyStore.
  StorageFaultOptions storage_faults;
};


// Factory for stores, so the simulator can use SQLite without core/ or this
// file depending on it.
using StoreFactory = std::function<std::unique_ptr<Store>()>;

class Cluster {
 public:
  struct Observers {
    std::function<void(AuthorityIndex, const CommittedSubDag&)> on_commit;
    std::function<void(AuthorityIndex, const CertificatePtr&)> on_certificate;
    std::function<void(AuthorityIndex, WorkerId, const SealedBatch&)> on_batch_accepted;
    std::function<void(AuthorityIndex, WorkerId, const SealedBatch&)> on_batch_sealed;
    std::function<void(AuthorityIndex, const Digest&, TimeUs)> on_own_batch;
    std::function<void(AuthorityIndex, const ExecutedRow&)> on_executed;
  };

  Cluster(ClusterOptions options, StoreFactory store_factory, Observers observers);
  ~Cluster();

  // Builds and starts every node.
  void Start();
  void Crash(AuthorityIndex a);
  void Restart(AuthorityIndex a);
  bool IsUp(AuthorityIndex a) const { return nodes_[a].up; }
  bool IsPaused(AuthorityIndex a) const { return nodes_[a].paused; }
  // Pause: the node's timers and deliveries are held (a long GC pause).
  // Pausing a crashed or paused node, or resuming one that is not paused,
  // does nothing; crashing a paused node ends the pause.
  void Pause(AuthorityIndex a);
  void Resume(AuthorityIndex a);
  // One process of a running authority crashes alone (role 0: the primary,
  // 1 + w: worker w), as separate processes do in the node: its memory and
  // the frames in flight to it are lost, its store is kept, the authority's
  // other processes run on. RestartRole builds it again on its store. Both
  // do nothing on an authority that is down or paused, or a role already
  // in that state; a crash of the whole authority also ends a role's.
  void CrashRole(AuthorityIndex a, uint32_t role);
  void RestartRole(AuthorityIndex a, uint32_t role);
  bool IsRoleUp(AuthorityIndex a, uint32_t role) const;

  // Storage faults (options().storage_faults): injected while armed, at the
  // stores of the authorities it covers.
  void ArmStorageFaults(bool armed);
  // Whether a role of a running authority halted on a store error and was
  // not restarted since (it is down, or goes down at the next event).
  bool IsRoleHalted(AuthorityIndex a, uint32_t role) const;
  // Restarts every halted role of a running authority on its store, as an
  // operator restarts a process that stopped (once the disk is fixed).
  void RestartHalted();
  // Frames a halted role tried to send after it halted ("authority 2
  // primary sent a frame to ... 1.2 s after halting"): the checker's
  // evidence that a halt really stops the role.
  const std::vector<std::string>& sends_after_halt() const { return sends_after_halt_; }
  // Summed over every FaultyStore (zero when storage faults are off).
  FaultyStoreStats storage_fault_stats() const;

  Scheduler& scheduler() { return scheduler_; }
  Network& network() { return *network_; }
  const Committee& committee() const { return committee_; }
  const ClusterOptions& options() const { return options_; }
  // Null while that role is crashed.
  Primary* primary(AuthorityIndex a) { return nodes_[a].primary.get(); }
  Worker* worker(AuthorityIndex a, WorkerId w) {
    return w < nodes_[a].workers.size() ? nodes_[a].workers[w].get() : nullptr;
  }
  Store* primary_store(AuthorityIndex a) { return nodes_[a].stores[0].get(); }
  Store* worker_store(AuthorityIndex a, WorkerId w) { return nodes_[a].stores[w + 1].get(); }
  bool IsByzantine(AuthorityIndex a) const { return options_.byzantine.contains(a); }
  int restarts(AuthorityIndex a) const { return nodes_[a].incarnation; }
  // How many times worker w of authority a was built (see Node::worker_boots).
  int worker_boots(AuthorityIndex a, WorkerId w) const {
    return w < nodes_[a].worker_boots.size() ? nodes_[a].worker_boots[w] : 0;
  }
  // Roles that stopped on a store failure (core/fail_stop.h), in order.
  struct Halt {
    TimeUs at_us = 0;
    AuthorityIndex authority = 0;
    uint32_t role = 0;  // 0 primary, 1 + w worker w
    std::string error;
  };
  const std::vector<Halt>& halts() const { return halts_; }

 private:
  struct Role {
    std::unique_ptr<NodeTimers> timers;
    std::unique_ptr<Random> random;
    std::unique_ptr<SimTransport> transport;
    std::unique_ptr<Transport> watched;  // storage faults: transport seen through a halt watch
  };
  struct Node {
    bool up = false;
    bool paused = false;
    int incarnation = 0;
    KeyPair key;
    std::vector<std::unique_ptr<Store>> stores;  // [0] primary, [1+w] workers
    std::vector<FaultyStore*> faulty;             // same indexing; null without storage faults
    std::vector<bool> role_halted;                // same indexing: halted, not restarted since
    std::vector<Role> roles;                     // same indexing
    std::unique_ptr<Primary> primary;
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<bool> role_down;  // [0] primary, [1+w] workers: crashed alone
    int role_incarnation = 0;     // role restarts, for fresh random seeds
    // Per worker: how many times it was built. Its transaction sequence
    // numbers start over each time (a restart of the worker alone included).
    std::vector<int> worker_boots;
  };
  void Boot(AuthorityIndex a);
  void BootPrimary(AuthorityIndex a);
  void BootWorker(AuthorityIndex a, WorkerId w);
  ByzantineBehavior ByzantineOf(AuthorityIndex a) const;
  Env MakeEnv(AuthorityIndex a, uint32_t role);
  std::unique_ptr<Store> MakeStore(AuthorityIndex a, uint32_t role, FaultyStore** faulty);
  void OnHalt(AuthorityIndex a, uint32_t role, const absl::Status& status);

  ClusterOptions options_;
  StoreFactory store_factory_;
  Observers observers_;
  Scheduler scheduler_;
  std::unique_ptr<Network> network_;
  Committee committee_;
  std::vector<Node> nodes_;
  std::vector<Halt> halts_;
  std::vector<std::string> sends_after_halt_;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_CLUSTER_H_
