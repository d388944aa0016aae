// One worker of one authority: the data plane of seed 000.
//
//   client txs -> BatchMaker -> broadcast to the same worker id at every other
//   authority (ReliableSender, one request id each) -> QuorumWaiter (own
//   stake + ACKing stake >= quorum) -> Processor (store, report the digest to
//   our primary, tell the client its transactions are accepted)
//
// A received batch is stored, then ACKed (ACK only after the store write: the
// quorum is a promise of availability), then reported to our primary as
// another authority's batch. The Helper answers batch requests; the
// BatchSynchronizer fetches what our primary asks for.
#ifndef NARWHAL_CORE_WORKER_WORKER_H_
#define NARWHAL_CORE_WORKER_WORKER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "core/batch.h"
#include "core/byzantine.h"
#include "core/byzantine/composite.h"
#include "core/committee.h"
#include "core/env.h"
#include "core/fail_stop.h"
#include "core/log_limiter.h"
#include "core/net/messenger.h"
#include "core/parameters.h"
#include "core/store/store.h"
#include "core/worker/batch_synchronizer.h"
#include "core/worker/quorum_waiter.h"

namespace narwhal {

// A batch this worker sealed: its transactions are numbered [first_tx_seq,
// first_tx_seq + tx_count) on this worker. Reported when sealed
// (OnBatchSealed) and again when it reached a quorum of workers
// (OnBatchAccepted: then they will be committed).
struct SealedBatch {
  Digest digest;
  uint64_t first_tx_seq = 0;
  uint32_t tx_count = 0;
  TimeUs created_at_us = 0;
};

struct WorkerStats {
  uint64_t transactions_accepted_into_batches = 0;
  uint64_t transactions_refused = 0;
  uint64_t batches_sealed = 0;
  uint64_t batches_sealed_by_size = 0;
  uint64_t batches_sealed_by_delay = 0;
  uint64_t batches_sealed_early = 0;  // the pipeline was free (min_batch_delay)
  uint64_t batches_quorum = 0;
  uint64_t batches_received = 0;        // from other workers, first time
  uint64_t batches_received_duplicate = 0;
  uint64_t batches_rejected = 0;        // malformed or oversized
  uint64_t batch_requests_served = 0;
};

class Worker {
 public:
  using OnBatchAccepted = std::function<void(const SealedBatch&)>;
  using OnBatchSealed = std::function<void(const SealedBatch&)>;

  Worker(const Env& env, const Committee& committee, const Parameters& params,
         AuthorityIndex self, WorkerId id, ByzantineBehavior byzantine = {});
  ~Worker();

  // Client ingress. On OK the transaction got sequence number *result and
  // sits in the current batch; it is accepted (the availability promise)
  // when OnBatchAccepted reports its batch. Refused, never truncated: a
  // transaction over max_transaction_size_bytes, or when the worker already
  // holds max_pending_bytes not yet at quorum.
  absl::StatusOr<uint64_t> SubmitTransaction(std::string_view tx);
  void SetOnBatchAccepted(OnBatchAccepted cb) { on_accepted_ = std::move(cb); }
  // Called when a batch is sealed (before the broadcast): for the simulator's
  // integrity checker and latency figures.
  void SetOnBatchSealed(OnBatchSealed cb) { on_sealed_ = std::move(cb); }

  const WorkerStats& stats() const { return stats_; }
  // For an environment that groups many events into one durable step (the
  // node's event-loop pass): FailStop::BeginPass/EndPass.
  FailStop& fail_stop() { return fail_stop_; }
  const Messenger& messenger() const { return messenger_; }
  const BatchSynchronizer& batch_synchronizer() const { return synchronizer_; }
  Round cleanup_round() const { return cleanup_round_; }
  size_t pending_bytes() const { return builder_.payload_bytes() + quorum_waiter_.pending_bytes(); }

 private:
  enum class SealReason { kSize, kDelay, kEarly };
  void SealBatch(SealReason reason);
  // The open batch's timer: at min_batch_delay from its start, then (if
  // our previous batch still awaits its quorum) at max_batch_delay.
  void ArmBatchTimer(TimeUs at_us);
  void OnBatchTimer();
  // Seals the open batch if none of ours awaits a quorum and it is at least
  // min_batch_delay old (the early-seal rule, parameters.h).
  bool MaybeSealEarly();
  TimeUs MinBatchDelayUs() const;
  void OnQuorum(PendingBatch batch);
  void OnRequest(const Endpoint& from, const wire::Request& request, Messenger::Responder respond);
  void OnWorkerBatch(const Endpoint& from, const wire::WorkerBatch& msg, Messenger::Responder respond);
  void OnBatchRequest(const Endpoint& from, const wire::BatchRequest& msg, Messenger::Responder respond);
  void OnSynchronize(const wire::SynchronizeBatches& msg, Messenger::Responder respond);
  void OnCleanup(const wire::Cleanup& msg, Messenger::Responder respond);
  // Stores with the current cleanup round as tag (remembering it if that
  // round is not known yet).
  absl::Status PutBatch(const Digest& digest, std::string_view batch);
  // Stores `digest` again (if held) with tag `round`, so that prunes below
  // it keep it.
  void Retag(const Digest& digest, Round round);
  // Stores a batch received from elsewhere; false if it was already known.
  absl::StatusOr<bool> StoreForeignBatch(const Digest& digest, std::string_view batch);
  void ReportToPrimary(wire::Request request);
  // The store-failure policy (core/fail_stop.h): false if `s` is OK;
  // otherwise the worker halts and it returns true.
  bool StoreFailed(std::string_view operation, const absl::Status& s);
  size_t MaxTransactionsPerBatch() const;

  // Before env_: the role's parts are built on its guarded environment.
  FailStop fail_stop_;
  Env env_;
  const Committee& committee_;
  const Parameters& params_;
  const AuthorityIndex self_;
  const WorkerId id_;
  byzantine::Composite byzantine_;  // no behaviour: every hook does nothing
  Messenger messenger_;
  QuorumWaiter quorum_waiter_;
  BatchSynchronizer synchronizer_;
  BatchBuilder builder_;
  uint64_t next_tx_seq_ = 0;
  uint64_t batch_first_seq_ = 0;
  TimeUs batch_started_us_ = 0;
  TimerId batch_timer_ = 0;
  bool batch_timer_armed_ = false;
  uint64_t next_batch_id_ = 0;
  Round cleanup_round_ = 0;
  // False until the first Cleanup after a start; batches stored before it.
  bool cleanup_known_ = false;
  std::vector<Digest> untagged_;
  // Own batches reported to our primary (OurBatch) and not acknowledged yet.
  absl::btree_set<Digest> unreported_;
  LogLimiter send_warnings_{10 * kSecondUs};  // per peer
  OnBatchAccepted on_accepted_;
  OnBatchSealed on_sealed_;
  WorkerStats stats_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_WORKER_WORKER_H_
