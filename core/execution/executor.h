// The executor: turns the committed sequence of sub-DAGs into the durable,
// ordered output every client of this authority reads (DESIGN.md section 7,
// docs/protocol.md "Committed output"). It runs in the primary's process, on
// the primary's Env and Messenger, in the node and in the simulator alike.
//
// For each committed sub-DAG, in consensus index order, it gets the contents
// of the batches the sub-DAG executes (CommittedSubDag::batches: re-proposed
// duplicates already left out) and appends one row (wire::ExecutedSubDag:
// the certificates' names and the batches' bytes) to the primary's store.
// A client stream is a read of those rows, so it needs no worker, no fetch
// and no retry, and is the same after any restart.
//
// Where a batch comes from, cheapest first:
//   1. the local read of this authority's worker stores (the node reads the
//      workers' SQLite files on its machine; the simulator reads the worker's
//      Store), if set;
//   2. a BatchRequest to our own worker (and a SynchronizeBatches, so that a
//      worker that lacks the batch fetches it from its peers);
//   3. from the second attempt on, ExecutedBatchesRequest to peer primaries
//      in rotation, which answer from their executed rows or their workers'
//      stores. Every batch from a peer is checked against its digest.
// Attempts repeat after 50 ms, doubling up to sync_retry_delay_us, until the
// batch arrives; a sub-DAG waiting longer than warn_after_us is reported in
// the log (rate limited). A certified batch was stored by 2f+1 workers before the ACK, so
// at least f+1 honest authorities hold it: in a worker, which keeps it while
// its own executor has not copied it (PruneFloor), or in executed rows.
//
// Durability: a row is appended only when every batch is present; the
// primary's committed rows from NextExecutedIndex() on are fed again after a
// restart (Primary::Recover), so a crash at any point loses nothing.
//
// Retention: rows beyond committed_output_retention sub-DAGs or
// committed_output_retention_bytes bytes are dropped oldest first (the last
// row always stays). A reader asking for an index below first_kept_index()
// gets an error naming it.
//
// Single-threaded, like the primary.
#ifndef NARWHAL_CORE_EXECUTION_EXECUTOR_H_
#define NARWHAL_CORE_EXECUTION_EXECUTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "core/committee.h"
#include "core/consensus/consensus.h"
#include "core/dag.h"
#include "core/env.h"
#include "core/fail_stop.h"
#include "core/net/messenger.h"
#include "core/parameters.h"
#include "core/store/store.h"

namespace narwhal {

struct ExecutorStats {
  uint64_t sub_dags_executed = 0;
  uint64_t batches_executed = 0;
  uint64_t batches_read_locally = 0;
  uint64_t batches_from_own_workers = 0;
  uint64_t batches_from_peers = 0;
  uint64_t batches_rejected = 0;  // a peer's answer that did not match the digest
  uint64_t requests_sent = 0;
  uint64_t peer_requests_served = 0;
  uint64_t rows_read_for_peers = 0;  // store reads to serve them (one per row, cached)
  uint64_t rows_pruned = 0;
  uint64_t stall_warnings = 0;
};

struct ExecutorOptions {
  // Committed sub-DAGs whose batches are fetched at once, ahead of the one
  // being executed (a bound on memory: their batches are held until then).
  size_t window_sub_dags = 32;
  // Digests per ExecutedBatchesRequest / BatchRequest.
  size_t digests_per_request_max = 16;
  // Peer primaries asked per attempt (in rotation), from attempt
  // peers_from_attempt on: before that our own worker, which nearly always
  // has the batch within milliseconds, is asked alone.
  size_t peers_per_attempt = 2;
  uint64_t peers_from_attempt = 3;
  // Attempts for a batch our worker did not have: after first_retry_us,
  // doubling up to sync_retry_delay_us (a batch of another authority is
  // often only milliseconds away from our worker).
  TimeUs first_retry_us = 50 * kMillisecondUs;
  TimeUs warn_after_us = 10 * kSecondUs;
};

// One certificate of an executed row, with the batches it executes.
struct ExecutedCertificateView {
  Digest digest;
  AuthorityIndex author = 0;
  Round round = 0;
  std::vector<std::pair<BatchRef, std::shared_ptr<const std::string>>> batches;
};

// The bytes of a wire::ExecutedSubDag (the same bytes protobuf writes),
// with each batch copied once.
std::string EncodeExecutedRow(uint64_t index, const Digest& leader, Round leader_round,
                              const std::vector<ExecutedCertificateView>& certificates);

class Executor {
 public:
  // (worker, digest) -> the batch if this authority's worker `worker`
  // holds it, else nullopt. Must not block for long.
  using LocalRead = std::function<std::optional<std::string>(WorkerId, const Digest&)>;
  using OnExecuted = std::function<void(const ExecutedRow&)>;

  Executor(const Env& env, const Committee& committee, const Parameters& params, AuthorityIndex self,
           Messenger* messenger, ExecutorOptions options = {});
  ~Executor();

  // Reads what the store kept (next index, row sizes). Call once, before
  // the first OnCommitted.
  absl::Status Recover();
  void SetLocalRead(LocalRead read) { local_read_ = std::move(read); }
  void SetOnExecuted(OnExecuted cb) { on_executed_ = std::move(cb); }
  // The role's store-failure policy (core/fail_stop.h). Without one the
  // executor has its own (unit tests): a failure halts it all the same.
  void SetFailStop(FailStop* fail_stop) { fail_stop_ = fail_stop; }
  bool halted() const { return fail_stop_->halted(); }

  // A committed sub-DAG, in index order with no gap (the primary's commits,
  // state-synced ones, and after a restart the stored ones not yet executed).
  // `prune_floor`: the prune_batches_below value the primary last sent its
  // workers (0 if unknown): every batch our workers held at commit time is
  // tagged at or above it.
  void OnCommitted(const CommittedSubDag& sub, Round prune_floor);
  // The same, from a stored CommittedSubDag row.
  absl::Status OnCommittedRow(const std::string& bytes, Round prune_floor);
  // A peer primary's ExecutedBatchesRequest.
  void OnBatchesRequest(const Endpoint& from, const wire::ExecutedBatchesRequest& request,
                        Messenger::Responder respond);

  // Workers may drop batches tagged below this round without losing the
  // only copy of a batch a pending sub-DAG needs; nullopt: no limit.
  std::optional<Round> PruneFloor() const;
  uint64_t next_index() const { return next_index_; }
  // The oldest index a reader can get (== next_index() when nothing is kept).
  uint64_t first_kept_index() const { return sizes_.empty() ? next_index_ : sizes_.front().first; }
  uint64_t kept_bytes() const { return kept_bytes_; }
  size_t pending_sub_dags() const { return pending_.size(); }
  const ExecutorStats& stats() const { return stats_; }

 private:
  using Batch = std::shared_ptr<const std::string>;
  struct CertInfo {
    Digest digest;
    AuthorityIndex author = 0;
    Round round = 0;
    std::vector<BatchRef> batches;  // the ones this sub-DAG executes
  };
  struct Pending {
    uint64_t index = 0;
    Digest leader;
    Round leader_round = 0;
    std::vector<CertInfo> certificates;
    absl::btree_map<BatchRef, Batch> have;
    absl::btree_set<BatchRef> missing;
    Round prune_floor = 0;
    TimeUs since_us = 0;
    TimeUs warned_us = 0;
    TimeUs next_attempt_us = 0;
    uint64_t attempts = 0;
    bool requested = false;  // the first attempt was made
    // ExecutedBatchesRequests to peers not yet answered or timed out: no
    // new round of them until the last one ended (a peer slow to answer
    // must not get the same request again and again: that made a node
    // catching up from an empty store stall the whole committee).
    int peer_requests_in_flight = 0;
    // How long a round of peer requests may take: sync_retry_delay, doubled
    // after each round that timed out (up to 16x), so peers too busy to
    // answer in time are asked less and less often, not more.
    TimeUs peer_timeout_us = 0;
  };

  void Enqueue(Pending pending);
  // One attempt for every missing batch of `p`.
  void Attempt(Pending& p);
  void AskOwnWorkers(Pending& p);
  void AskPeers(Pending& p);
  void OnPeerAnswer(uint64_t index, const std::vector<Digest>& asked,
                    const absl::StatusOr<wire::Response>& response);
  // Gives `bytes` to every pending sub-DAG missing `digest`.
  void Deliver(const Digest& digest, const Batch& bytes);
  void ExecuteReady();
  absl::Status Append(Pending& p);
  void Prune();
  void ArmTick();
  void Tick();
  // The batch if held anywhere here: a pending sub-DAG, or an executed row.
  std::optional<std::string> Lookup(uint64_t index, const Digest& digest);
  // The batches of executed row `index` by digest bytes, parsed once and
  // kept for the next request (peers catching up ask for the same row
  // several times: its digests come in chunks, from two peers' rotation).
  // Null if the row is not kept.
  const absl::flat_hash_map<std::string, std::string>* RowBatches(uint64_t index);

  Env env_;
  std::unique_ptr<FailStop> own_fail_stop_;
  FailStop* fail_stop_ = nullptr;
  const Committee& committee_;
  // RowBatches' one-row cache.
  std::optional<uint64_t> row_cache_index_;
  absl::flat_hash_map<std::string, std::string> row_cache_;  // lookup only
  const Parameters& params_;
  const AuthorityIndex self_;
  Messenger* messenger_;
  const ExecutorOptions options_;
  LocalRead local_read_;
  OnExecuted on_executed_;

  uint64_t next_index_ = 0;   // the next sub-DAG to append
  uint64_t queued_next_ = 0;  // the next sub-DAG OnCommitted expects
  bool have_any_ = false;     // some sub-DAG was appended or queued
  absl::btree_map<uint64_t, Pending> pending_;
  // digest -> indexes of pending sub-DAGs that miss it (lookup by digest).
  absl::btree_map<Digest, absl::btree_set<uint64_t>> missing_;
  std::deque<std::pair<uint64_t, uint64_t>> sizes_;  // (index, bytes) kept
  uint64_t kept_bytes_ = 0;
  TimerId tick_timer_ = 0;
  TimeUs tick_at_us_ = 0;
  bool tick_armed_ = false;
  uint64_t peer_rotation_ = 0;
  ExecutorStats stats_;
  // Timers and callbacks check this before touching a destroyed executor.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_EXECUTION_EXECUTOR_H_
