// The primary of one authority (DESIGN.md section 6): it proposes headers,
// votes for others' headers, turns votes into certificates, keeps the DAG,
// fetches what it misses, feeds consensus and garbage-collects.
//
// Inputs: frames through its Messenger (headers, votes, certificates,
// certificate requests from primaries; batch reports from its own workers)
// and timers. Outputs: frames, store writes, and the commit callback.
//
// Round advance (Bullshark, arXiv 2209.05633, section 4 "partially
// synchronous Bullshark", the steady-state leader rule): holding certificates
// of round r with quorum stake, the primary proposes round r+1 when
//   - r is even (a leader round): the leader's certificate of round r is in
//     its DAG, or leader_timeout has passed since it reached round r;
//   - r is odd: the round-r certificates that have leader(r-1) as a parent
//     carry validity (f+1) stake, or those that do not carry quorum (2f+1)
//     stake, or leader_timeout has passed;
// and its payload reached header_size or max_header_delay has passed. Tusk
// does not wait for leaders.
#ifndef NARWHAL_CORE_PRIMARY_PRIMARY_H_
#define NARWHAL_CORE_PRIMARY_PRIMARY_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "core/limits.h"
#include "core/byzantine.h"
#include "core/byzantine/composite.h"
#include "core/committee.h"
#include "core/consensus/consensus.h"
#include "core/dag.h"
#include "core/env.h"
#include "core/fail_stop.h"
#include "core/execution/executor.h"
#include "core/log_limiter.h"
#include "core/net/messenger.h"
#include "core/parameters.h"
#include "core/primary/certificate_dag.h"
#include "core/primary/certificate_fetcher.h"
#include "core/primary/execution_filter.h"
#include "core/primary/message_checks.h"
#include "core/primary/payload_queue.h"
#include "core/primary/vote_aggregator.h"
#include "core/primary/waiting_room.h"
#include "core/store/store.h"
#include "core/wire_cache.h"

// The Primary's definitions are split by concern: primary.cc (routing,
// validation, headers, votes, certificates, commit and GC), proposer.cc,
// state_sync.cc.
namespace narwhal {

struct PrimaryStats {
  uint64_t headers_proposed = 0;
  uint64_t votes_sent = 0;
  uint64_t votes_received = 0;  // every vote that arrived, valid or not
  uint64_t certificates_formed = 0;
  uint64_t certificates_accepted = 0;
  uint64_t sub_dags_committed = 0;
  uint64_t certificates_committed = 0;
  uint64_t leader_timeouts = 0;
  uint64_t batches_reproposed = 0;  // own certificates garbage-collected uncommitted
  uint64_t sub_dags_synced = 0;     // learned by state sync from f+1 authorities
  // Rejections by reason ("bad_signature", "equivocation", ...), ordered.
  absl::btree_map<std::string, uint64_t> rejected;
};

// Observers for the simulator's checkers and the node's output; all optional.
struct PrimaryHooks {
  std::function<void(const CommittedSubDag&)> on_commit;
  std::function<void(const CertificatePtr&)> on_certificate_accepted;
  // Own batch digest -> creation time (for consensus latency figures).
  std::function<void(const Digest&, TimeUs created_at_us)> on_own_batch;
  // A row of the executed output became durable (what clients read).
  std::function<void(const ExecutedRow&)> on_executed;
  // The executor's read of this authority's worker stores (Executor::LocalRead).
  Executor::LocalRead local_batch_read;
};

class Primary {
 public:
  // Recovers from `env.store` if it holds state (a restart): DAG above the
  // GC round, consensus state, the last own header (re-broadcast, never
  // replaced), and the proposer round.
  Primary(const Env& env, const Committee& committee, const Parameters& params,
          AuthorityIndex self, const KeyPair& key, SignatureScheme scheme,
          PrimaryHooks hooks = {}, ByzantineBehavior byzantine = {},
          ConsensusOptions consensus_options = {});
  ~Primary();

  // Must be called once after construction (starts timers, re-broadcasts).
  // A recovery that fails halts the primary (core/fail_stop.h) and returns
  // the error.
  absl::Status Start();
  // The store failed and the primary stopped (core/fail_stop.h).
  bool halted() const { return fail_stop_.halted(); }
  // For an environment that groups many events into one durable step (the
  // node's event-loop pass): FailStop::BeginPass/EndPass.
  FailStop& fail_stop() { return fail_stop_; }

  Round round() const { return proposer_round_; }
  Round last_committed_round() const { return consensus_->last_committed_round(); }
  Round gc_round() const { return gc_round_; }
  const PrimaryStats& stats() const { return stats_; }
  const Messenger& messenger() const { return messenger_; }
  const Executor& executor() const { return *executor_; }
  const CertificateFetcher& certificate_fetcher() const { return fetcher_; }
  size_t dag_size() const { return dag_.size(); }
  // One line of internal state, for logs and the simulator's report.
  std::string DebugString() const;

 private:

  // ---- message handling ----
  void OnRequest(const Endpoint& from, const wire::Request& request, Messenger::Responder respond);
  // A header or certificate request (its bytes), from the raw path or not.
  void OnDagBytes(const Endpoint& from, wire::Request::BodyCase kind, std::string_view bytes,
                  Messenger::Responder respond);
  void OnHeader(const Endpoint& from, std::string_view bytes);
  void OnVote(const Endpoint& from, const wire::Vote& msg);
  void OnCertificate(const Endpoint& from, std::string_view bytes);
  absl::Status OnWorkerBatch(const Endpoint& from, const Digest& digest, WorkerId worker, bool ours,
                             TimeUs created_at_us, Round stored_round);
  void OnCertificatesRequest(const wire::CertificatesRequest& msg, Messenger::Responder respond);

  // ---- validation ----
  absl::Status CheckHeader(const Header& h, bool require_signature) const {
    return narwhal::CheckHeader(committee_, scheme_, h, require_signature);
  }
  absl::Status CheckCertificate(const Certificate& c) const {
    return narwhal::CheckCertificate(committee_, scheme_, c);
  }
  // What a check depends on besides the message, as a WireCache context: the
  // committee object and the scheme (an address inside the committee, offset
  // by the scheme's value, so two schemes never share a context).
  const void* check_context() const {
    return reinterpret_cast<const char*>(&committee_) + static_cast<int>(scheme_);
  }
  void Reject(std::string_view reason, const std::string& detail);
  // The store-failure policy (core/fail_stop.h): false if `s` is OK;
  // otherwise the primary halts and it returns true. Callers return at once.
  bool StoreFailed(std::string_view operation, const absl::Status& s);

  // ---- header path ----
  void ProcessHeader(const Header& header);
  void TryVote(const Header& header);
  void WakeWaiters(const Digest& certificate_digest);
  void WakePayload(const BatchRef& ref);
  // Asks our workers to fetch the batches `header` names that they lack.
  void RequestPayload(const Header& header, const absl::btree_set<BatchRef>& missing);
  // Asks again, every retry.max_interval, for the batches of headers still
  // waiting: a worker that ACKed a request and then stopped (a crash, a
  // store failure) lost it, and nothing else would ask again.
  void ArmPayloadResync();
  TimerId payload_resync_timer_ = 0;
  bool payload_resync_armed_ = false;

  // ---- certificate path ----
  // `checked`: the certificate already passed CheckCertificate against this
  // committee (a WireCache hit, or our own); otherwise it is checked here and
  // `cache_entry` (if any) remembers a success.
  void ProcessCertificate(CertificatePtr certificate, AuthorityIndex source,
                          WireCache<Certificate>::Entry* cache_entry = nullptr);
  absl::Status AcceptCertificate(const CertificatePtr& cert);
  bool HasCertificate(const Digest& d) const { return dag_.Contains(d); }

  // ---- proposer ----
  void OnRoundQuorum(Round round);
  void TryPropose();
  bool LeaderReady(Round parents_round) const;
  void Propose();
  void SignAndBroadcastHeader(Header header, bool store_it);
  void BroadcastOwnHeader(const Header& header, const std::vector<AuthorityIndex>& to);
  // Sends our header of `round` again, while it is not certified, to those
  // who have not voted for it (proposer.cc says why).
  void ArmHeaderResend(Round round);
  // Our batches were committed: they need no re-proposal, ever.
  void ForgetOwnPayload(const std::vector<BatchRef>& committed);
  uint64_t StakeOf(Round round) const;

  // ---- votes ----
  void SendVote(const Header& header);

  // ---- commit and GC ----
  void OnCommitted(const std::vector<CommittedSubDag>& committed);
  void GarbageCollect(Round new_gc_round);
  absl::Status Recover();

  // ---- state sync (a node further behind than the others' GC) ----
  void OnCommittedRequest(const wire::CommittedRequest& msg, Messenger::Responder respond);
  void MaybeStartCatchUp(Round seen_round);
  void OnCatchUpItems(AuthorityIndex from, uint64_t from_index, const wire::Response& response);
  void FinishCatchUpRound();
  absl::Status ApplySyncedRow(const std::string& bytes);
  void ReprocessWaiting();

  // ---- Byzantine hooks (simulator only) ----
  // What the Byzantine behaviours may use of this primary (core/byzantine/behavior.h).
  byzantine::PrimaryContext ByzantineContext();

  // Before env_: every part is built on the guarded environment.
  FailStop fail_stop_;
  Env env_;
  const Committee& committee_;
  const Parameters& params_;
  const AuthorityIndex self_;
  const KeyPair key_;
  const SignatureScheme scheme_;
  PrimaryHooks hooks_;
  byzantine::Composite byzantine_;  // no behaviour: every hook does nothing
  Messenger messenger_;
  std::unique_ptr<Consensus> consensus_;
  CertificateFetcher fetcher_;
  // After messenger_: destroyed before it (its callbacks check liveness).
  std::unique_ptr<Executor> executor_;
  // Operator warnings, rate limited (log_limiter.h): our headers without a
  // quorum of votes, our certificates not committed, headers dropped while
  // waiting for batches nobody served.
  LogLimiter warnings_{10 * kSecondUs};
  uint64_t uncertified_headers_ = 0;  // consecutive own headers without a certificate
  Round last_own_committed_round_ = 0;
  void WarnIfStuck();
  // Our batches not committed yet -> the lowest round our worker tagged
  // them with (0: unknown). Workers keep them (PruneBatchesBelow).
  absl::btree_map<BatchRef, Round> own_pending_tags_;
  // Our batches committed in the last kOwnCommittedMemoryUs, oldest first:
  // a worker that retries a report we did not ACK (we halted; our restart
  // proposed the batch from the own_payload table, and it was committed)
  // must not have it queued and committed again.
  static constexpr TimeUs kOwnCommittedMemoryUs = 60 * kSecondUs;
  absl::btree_set<BatchRef> own_committed_recently_;
  std::deque<std::pair<TimeUs, BatchRef>> own_committed_order_;
  // The prune_batches_below last sent to our workers (Cleanup): monotonic.
  Round prune_batches_sent_ = 0;
  Round PruneBatchesBelow() const;
  // Drops signed committed rows beyond state_sync_retention that the
  // executor no longer needs.
  void PruneCommittedRows(uint64_t last_index);
  // Feeds the executor the stored committed sub-DAGs it has not executed.
  absl::Status RecoverExecutor();

  // DAG above the GC round (certificate_dag.h).
  CertificateDag dag_;
  Round gc_round_ = 0;
  absl::Status CheckParents(const Header& header, absl::btree_set<Digest>* missing) {
    return dag_.CheckParents(header, gc_round_, missing);
  }

  // Waiting for parents (headers and certificates) or payload (headers).
  WaitingRoom waiting_;

  // Proposer.
  Round proposer_round_ = 1;  // the round of the next header
  Round proposed_round_ = 0;  // highest round proposed
  TimeUs round_reached_us_ = 0;
  // Our batches to propose (payload_queue.h).
  PayloadQueue payload_queue_;
  bool header_delay_passed_ = false;
  TimerId header_timer_ = 0;
  TimerId leader_timer_ = 0;
  TimerId header_resend_timer_ = 0;
  bool leader_timer_fired_ = false;

  // Our header in flight and its votes (vote_aggregator.h).
  VoteAggregator own_;
  // Batches handed to execution already (execution_filter.h).
  ExecutionFilter executed_;
  // Our certificates below round `top` that nothing of round `top` reaches
  // look orphaned: their batches are proposed again (execution de-duplicates).
  void RequeueUnreachableOwnBatches(Round top);
  absl::Status RecoverExecuted();
  // Payload of our certificates not yet committed, by round.
  absl::btree_map<Round, std::vector<BatchRef>> own_uncommitted_;

  // Reliable sends, dropped (cancelled) at garbage collection.
  absl::btree_map<Round, std::vector<RequestHandle>> sends_by_round_;
  Round cleanup_sent_round_ = 0;
  // State sync: per index, candidate rows (by content) and who sent them.
  bool catch_up_in_flight_ = false;
  uint64_t consensus_next_index_ = 0;
  TimerId catch_up_timer_ = 0;
  absl::btree_map<uint64_t, absl::btree_map<std::string, absl::btree_set<AuthorityIndex>>> catch_up_rows_;
  PrimaryStats stats_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_PRIMARY_PRIMARY_H_
