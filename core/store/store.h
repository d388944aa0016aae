// The Store seam: durable typed tables for one role (a primary or a worker)
// of one authority. The node implements it with SQLite on disk
// (//store_sqlite); the simulator with SQLite in memory or MemoryStore. A
// simulated crash throws away the reactors but keeps the Store object, so
// whatever was written before the crash is what the restarted node sees.
//
// Contract for every method: a non-OK status means the write did not happen
// (or the read could not be done) and the caller must not assume otherwise.
// The core never ignores one: every store error halts the role that saw it
// (core/fail_stop.h), in the node and in the simulator alike.
// Writes are durable when the method returns OK (modulo the synchronous
// setting the operator chose).
//
// Rounds and commit indexes written to a store must be <= INT64_MAX: SQLite
// stores signed 64-bit integers, and SqliteStore refuses a larger one with
// InvalidArgument rather than wrap it. Query and prune bounds may be any value
// (CertificatesInRounds(r, UINT64_MAX) means "from r on").
#ifndef NARWHAL_CORE_STORE_STORE_H_
#define NARWHAL_CORE_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/types.h"

namespace narwhal {

// Per-author last committed rounds and counters of the consensus state
// machine, serialized by the consensus module; the store keeps it opaque.
struct CommittedSubDagRow {
  uint64_t index = 0;       // consensus index, 0-based, no gaps
  std::string sub_dag;      // serialized wire form, opaque to the store
};

// One row of the executor's durable output: a serialized wire::ExecutedSubDag
// (the committed sub-DAG with the contents of its batches), opaque to the
// store. Shared: a store in memory keeps the reference, not a copy.
struct ExecutedRow {
  uint64_t index = 0;
  std::shared_ptr<const std::string> row;
};

// A batch sealed by one of the primary's own workers that reached a quorum of
// workers and was reported to the primary, not yet in a certified own header.
struct OwnPayloadRow {
  Digest digest;
  WorkerId worker = 0;
  TimeUs created_at_us = 0;  // when the primary first learned of it

  bool operator==(const OwnPayloadRow&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- batches (workers): digest -> canonical batch bytes ----
  // `round` is the worker's latest known round when storing, used only to
  // garbage-collect (PruneBatchesBelow).
  virtual absl::Status PutBatch(const Digest& digest, std::string_view batch, Round round) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetBatch(const Digest& digest) = 0;
  virtual absl::Status PruneBatchesBelow(Round round) = 0;

  // ---- payload availability (primaries): batches their own workers hold ----
  virtual absl::Status PutPayload(const Digest& digest, WorkerId worker, Round round) = 0;
  virtual absl::StatusOr<bool> HasPayload(const Digest& digest, WorkerId worker) = 0;

  // ---- own payload (primaries): own batches not yet in a certified own header ----
  // Kept across a crash-restart so every batch a worker got a quorum for ends
  // up in some header. Not touched by PruneRoundsBelow: a row leaves only
  // through RemoveOwnPayload, once a certified own header carries it.
  // Idempotent per (digest, worker): a re-put is a no-op that keeps the
  // original position and created_at_us.
  virtual absl::Status PutOwnPayload(const OwnPayloadRow& row) = 0;
  // Removing a row that is not there is OK.
  virtual absl::Status RemoveOwnPayload(const Digest& digest, WorkerId worker) = 0;
  // All rows in insertion order (the order the primary first learned of them).
  virtual absl::StatusOr<std::vector<OwnPayloadRow>> ListOwnPayload() = 0;

  // ---- certificates (primaries): digest -> serialized certificate ----
  // A node accepts at most one certificate per (round, author): putting a
  // certificate for a (round, author) that already has one with another digest
  // keeps the first and returns AlreadyExists. The same digest again is OK and
  // replaces the stored row (the digest does not cover the vote set, so two
  // serializations of one certificate may differ; either is valid).
  virtual absl::Status PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                      std::string_view certificate) = 0;
  // The same for bytes the caller shares: a store in memory may keep the
  // reference rather than a copy (the simulator's n stores then hold one
  // copy of each certificate, not n).
  virtual absl::Status PutSharedCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                            std::shared_ptr<const std::string> certificate) {
    return PutCertificate(digest, round, author, *certificate);
  }
  virtual absl::StatusOr<std::optional<std::string>> GetCertificate(const Digest& digest) = 0;
  // Serialized certificates with from <= round <= to, ordered by (round, author).
  virtual absl::StatusOr<std::vector<std::string>> CertificatesInRounds(Round from, Round to) = 0;

  // ---- own headers: round -> serialized header (never equivocate) ----
  virtual absl::Status PutOwnHeader(Round round, std::string_view header) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetOwnHeader(Round round) = 0;
  // Highest round with an own header, 0 if none.
  virtual absl::StatusOr<Round> LastOwnHeaderRound() = 0;

  // ---- votes: (header author, round) -> digest of the header voted for ----
  virtual absl::Status PutVote(AuthorityIndex author, Round round, const Digest& header) = 0;
  virtual absl::StatusOr<std::optional<Digest>> GetVote(AuthorityIndex author, Round round) = 0;

  // ---- consensus state and committed output ----
  // Appends sub-DAG `row.index` (must equal NextCommitIndex()) and replaces
  // the consensus state, in one atomic step.
  virtual absl::Status AppendCommitted(const CommittedSubDagRow& row,
                                       std::string_view consensus_state) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetConsensusState() = 0;
  virtual absl::StatusOr<uint64_t> NextCommitIndex() = 0;
  // Committed sub-DAGs with index >= from, in index order, at most `limit`.
  virtual absl::StatusOr<std::vector<CommittedSubDagRow>> CommittedFrom(uint64_t from,
                                                                        size_t limit) = 0;
  // Drops committed rows with index < `index` (retention).
  virtual absl::Status PruneCommittedBelow(uint64_t index) = 0;

  // ---- executed output (primaries): what clients read (core/execution) ----
  // Appends row `index`, which must equal NextExecutedIndex(), else
  // FailedPrecondition and nothing is written. The first row may have any
  // index (an executor that starts after state sync skipped what it never
  // had); after that, no gaps.
  virtual absl::Status AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) = 0;
  // One past the highest index ever appended, 0 if none; unchanged by
  // pruning, so it survives a retention that removes every row.
  virtual absl::StatusOr<uint64_t> NextExecutedIndex() = 0;
  // Rows with index >= from, in index order, at most `limit`.
  virtual absl::StatusOr<std::vector<ExecutedRow>> ExecutedFrom(uint64_t from, size_t limit) = 0;
  // (index, size of the row in bytes) of every row kept, in index order: the
  // executor's retention bookkeeping, read once at start.
  virtual absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ExecutedSizes() = 0;
  // Drops executed rows with index < `index` (retention).
  virtual absl::Status PruneExecutedBelow(uint64_t index) = 0;

  // ---- garbage collection (primaries) ----
  // Drops certificates, own headers, votes and payload marks of rounds below
  // `round`. Certificates still needed by the committed output are inside the
  // sub-DAG rows, so none is lost.
  virtual absl::Status PruneRoundsBelow(Round round) = 0;

  // Runs `body` so that all its writes land together or not at all: if `body`
  // returns non-OK, none of its writes remain and that status is returned.
  // Calls may nest: a failed inner body's writes are undone even if the
  // outer body then goes on and succeeds.
  virtual absl::Status RunInTransaction(const std::function<absl::Status()>& body) = 0;

  // (table, rows) for reports, in a fixed table order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RowCounts() = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_STORE_STORE_H_
