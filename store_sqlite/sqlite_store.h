// SqliteStore: the Store seam on SQLite, for the node (a file in WAL mode) and
// for the simulator (":memory:", so the same SQL runs in both worlds).
//
//   SqliteOptions options;
//   options.synchronous = "NORMAL";
//   absl::StatusOr<std::unique_ptr<SqliteStore>> store =
//       SqliteStore::Open("/var/lib/narwhal/primary.db", options);
//   if (!store.ok()) return store.status();  // names the path and the cause
//
// Semantics are those of store.h and match MemoryStore (the contract test
// sqlite_store_contract_test.cc runs the same assertions against both), with
// one difference: rounds and indexes are stored as SQLite's signed 64-bit
// integers, so a write with a round above INT64_MAX is refused
// (InvalidArgument) where MemoryStore would accept it. Query and prune bounds
// may be any uint64_t (e.g. CertificatesInRounds(r, UINT64_MAX)).
//
// Errors: every SQLite failure becomes a status naming the store's path, the
// operation and SQLite's message; nothing crashes or throws on a DB error.
// Status codes: DataLoss for a corrupt or non-database file, ResourceExhausted
// for a full disk, FailedPrecondition for a wrong schema version or a file that
// is not a Narwhal store, PermissionDenied for a read-only file or directory,
// Unavailable when another process holds the lock past busy_timeout_ms.
//
// Disk space follows the live data. A new file (not ":memory:") uses
// incremental auto-vacuum: after a prune deletes rows, and on later prunes
// until done, free pages are given back in bounded steps (at most
// kReclaimStepPagesMax pages or kReclaimStepBytesMax per call, so a prune
// does not stall the event loop), and only once they are >= 10% of the file
// and >= 1 MB, so steady garbage collection reuses its pages instead of
// moving live ones; the destructor runs a few more steps. A file created by
// an older build has no auto-vacuum: it keeps working and reuses its free
// pages but never shrinks until a one-time VACUUM (with the node stopped):
//   sqlite3 primary.db 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'
// The -wal file is cut back to journal_size_limit (kWalSizeLimitBytes) when
// the log starts over, to 0 bytes by the checkpoint thread once the writer is
// quiet (SqliteOptions::checkpoint_idle_ms), and to 0 bytes (or removed) when
// the store is closed.
//
// Thread safety: none, except FileSizes. A store belongs to one role's event
// loop thread; the cached statements and the transaction depth are not
// guarded.
#ifndef NARWHAL_STORE_SQLITE_SQLITE_STORE_H_
#define NARWHAL_STORE_SQLITE_SQLITE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace narwhal {
namespace sqlite_store_internal {
class Binder;  // sets a cached statement's parameters; defined in the .cc
class Checkpointer;  // SqliteOptions::background_checkpoint; defined in the .cc
}  // namespace sqlite_store_internal

struct SqliteOptions {
  // PRAGMA synchronous: "FULL" (every commit reaches the disk before the call
  // returns), "NORMAL" (in WAL mode a power loss may drop the last commits but
  // never corrupts the file) or "OFF" (tests and benchmarks only). Anything else
  // is refused by Open.
  std::string synchronous = "FULL";
  // If false, opening a file that does not exist is a NotFound error instead of
  // creating an empty store (so a typo in a restart path does not silently
  // start a fresh node, which could then equivocate).
  bool create_if_missing = true;
  // How long a call waits for a lock held by another connection before failing
  // with Unavailable.
  int busy_timeout_ms = 5000;
  // Runs PRAGMA quick_check when an existing file is opened, so a corrupt or
  // truncated file fails at Open rather than at some later read. It reads every
  // page: a few seconds per GB. Turn off only if startup time matters more.
  bool check_integrity_on_open = true;
  // Page size of a newly created file (an existing file keeps its own): a
  // power of two from 512 to 65536. Large pages make big blobs cheaper (see
  // sqlite_store_bench: 500 KB batches go ~1.5-2x faster with 65536 than with
  // SQLite's default 4096) but make every small commit write a whole page, so
  // a worker's store wants it large and a primary's store small.
  int page_size_bytes = 4096;
  // PRAGMA max_page_count when > 0: caps the file size (in pages of
  // page_size_bytes); writes beyond it fail like a full disk (ResourceExhausted).
  int64_t max_page_count = 0;
  // WAL checkpoints (copying the log into the database file, and under
  // NORMAL the two fsyncs that go with them) run on a thread of the store,
  // with its own connection, instead of inside the commit that crosses
  // SQLite's auto-checkpoint size, which blocked the caller (an event loop)
  // for 100-300 ms each time under load. Same durability: the checkpoint
  // syncs exactly as SQLite's own would. If the thread falls behind and the
  // log reaches checkpoint_inline_frames, the committing call waits for it
  // and checkpoints the rest itself, so the log stays bounded. Under steady
  // writes that is the usual way the log starts over (a PASSIVE checkpoint
  // running beside the writer never finds the log fully copied), so the
  // -wal file grows to about checkpoint_inline_frames pages, and the caller
  // pays for copying only what the thread had not copied yet, once per
  // checkpoint_inline_frames instead of once per checkpoint_frames. Files
  // only (not ":memory:").
  bool background_checkpoint = false;
  // Log size (in pages) that wakes the checkpoint thread: SQLite's default
  // auto-checkpoint size.
  int checkpoint_frames = 1000;
  int checkpoint_inline_frames = 8000;
  // With background_checkpoint: once the store has committed nothing for
  // this long, the checkpoint thread copies the rest of the log into the
  // database file and truncates the -wal file to 0 bytes, so an idle store's
  // files are the size of its data. It never waits for the writer: a commit
  // in the meantime just leaves the log for the next quiet period.
  int checkpoint_idle_ms = 1000;
};

// Bytes on disk of a store's files, for metrics and reports.
struct SqliteFileSizes {
  uint64_t main_bytes = 0;  // the database file
  uint64_t wal_bytes = 0;   // the -wal file; 0 when there is none
};

class SqliteStore final : public Store {
 public:
  // The schema version this build writes. Open upgrades a file of version 2
  // in place (version 3 added the executed table), after which older builds
  // refuse it; a file of any other version is refused (FailedPrecondition).
  static constexpr int64_t kSchemaVersion = 3;

  // The -wal file is truncated to this size whenever the log starts over.
  static constexpr int64_t kWalSizeLimitBytes = int64_t{64} << 20;
  // Most pages one reclaim step gives back, and most bytes (whichever is
  // fewer): about 10-70 ms of work.
  static constexpr int64_t kReclaimStepPagesMax = 2048;
  static constexpr int64_t kReclaimStepBytesMax = int64_t{32} << 20;

  // Opens or creates the store at `path` (a file, or ":memory:" for a private
  // in-memory database that disappears with the object). On failure returns a
  // status naming the path and the cause, and holds no file open.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           const SqliteOptions& options);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::Status PutBatch(const Digest& digest, std::string_view batch, Round round) override;
  absl::StatusOr<std::optional<std::string>> GetBatch(const Digest& digest) override;
  absl::Status PruneBatchesBelow(Round round) override;
  absl::Status PutPayload(const Digest& digest, WorkerId worker, Round round) override;
  absl::StatusOr<bool> HasPayload(const Digest& digest, WorkerId worker) override;
  absl::Status PutOwnPayload(const OwnPayloadRow& row) override;
  absl::Status RemoveOwnPayload(const Digest& digest, WorkerId worker) override;
  absl::StatusOr<std::vector<OwnPayloadRow>> ListOwnPayload() override;
  absl::Status PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                              std::string_view certificate) override;
  absl::StatusOr<std::optional<std::string>> GetCertificate(const Digest& digest) override;
  absl::StatusOr<std::vector<std::string>> CertificatesInRounds(Round from, Round to) override;
  absl::Status PutOwnHeader(Round round, std::string_view header) override;
  absl::StatusOr<std::optional<std::string>> GetOwnHeader(Round round) override;
  absl::StatusOr<Round> LastOwnHeaderRound() override;
  absl::Status PutVote(AuthorityIndex author, Round round, const Digest& header) override;
  absl::StatusOr<std::optional<Digest>> GetVote(AuthorityIndex author, Round round) override;
  absl::Status AppendCommitted(const CommittedSubDagRow& row,
                               std::string_view consensus_state) override;
  absl::StatusOr<std::optional<std::string>> GetConsensusState() override;
  absl::StatusOr<uint64_t> NextCommitIndex() override;
  absl::StatusOr<std::vector<CommittedSubDagRow>> CommittedFrom(uint64_t from,
                                                                size_t limit) override;
  absl::Status PruneCommittedBelow(uint64_t index) override;
  // Indexes above INT64_MAX are refused (InvalidArgument), like rounds.
  absl::Status AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) override;
  absl::StatusOr<uint64_t> NextExecutedIndex() override;
  absl::StatusOr<std::vector<ExecutedRow>> ExecutedFrom(uint64_t from, size_t limit) override;
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ExecutedSizes() override;
  absl::Status PruneExecutedBelow(uint64_t index) override;
  absl::Status PruneRoundsBelow(Round round) override;
  // Outermost call: BEGIN IMMEDIATE .. COMMIT, ROLLBACK if `body` fails. Nested
  // calls (and the multi-statement write methods) use savepoints, so a failing
  // inner part is undone even if the outer body goes on.
  absl::Status RunInTransaction(const std::function<absl::Status()>& body) override;

  // Group commit (the node's event-loop pass, NodeProcess): between
  // BeginGroup and EndGroup every write joins one transaction, opened at the
  // first write, so the pass costs one commit (one fsync on FULL) however
  // many frames it handled. Reads see the group's writes. EndGroup(true)
  // commits, EndGroup(false) rolls the whole group back (the role halted:
  // nothing it did in the pass is kept, as nothing it sent leaves). Not
  // nested: a BeginGroup inside a group is a bug.
  void BeginGroup();
  absl::Status EndGroup(bool commit);
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RowCounts() override;

  // Sizes of the database and -wal files now; zeros for ":memory:". Only
  // stats the files, so it may be called from any thread. The -wal file holds
  // pages not yet copied into the database file: their sum is the disk used.
  absl::StatusOr<SqliteFileSizes> FileSizes() const;

 private:
  using Binder = sqlite_store_internal::Binder;

  SqliteStore(sqlite3* db, std::string path);

  absl::Status PrepareStatements();
  // Reads the file's page size and auto-vacuum mode and prepares the reclaim
  // step for them.
  absl::Status PrepareReclaim();
  // Called after every successful prune with the connection's change count
  // from before it: marks a reclaim pending if rows went, and runs one step
  // if one is pending (inside a transaction, at the outermost level's end). Never fails: the prune itself succeeded, and free pages
  // left over are reused by later writes or reclaimed by the next prune.
  void AfterPrune(int64_t changes_before);
  // Runs up to `steps_max` reclaim steps while the free pages are worth
  // giving back; clears reclaim_pending_ once they are not.
  void ReclaimFreePages(int steps_max);
  // Reclaims and truncates the -wal file before the destructor closes a file.
  void FoldBackForClose();
  sqlite3_stmt* statement(int id) const { return statements_[id]; }
  // A status for SQLite result code `rc` from operation `op`.
  absl::Status Error(int rc, absl::string_view op) const;
  // Non-OK if a transaction we opened was rolled back by SQLite itself (it does
  // that on a full disk or an I/O error): later writes of the body would
  // otherwise run outside any transaction and survive the failure.
  absl::Status CheckTransactionAlive(absl::string_view op) const;
  // Runs statement `id` to completion after `bind` set its parameters.
  absl::Status Exec(int id, absl::string_view op, absl::FunctionRef<void(Binder&)> bind);
  // Runs statement `id`, which selects one blob column; nullopt if no row.
  absl::StatusOr<std::optional<std::string>> QueryBlob(int id, absl::string_view op,
                                                       absl::FunctionRef<void(Binder&)> bind);
  // Runs statement `id`, which selects one integer; nullopt if no row or NULL.
  absl::StatusOr<std::optional<int64_t>> QueryInt(int id, absl::string_view op,
                                                  absl::FunctionRef<void(Binder&)> bind);
  // Runs `body` inside a transaction (depth 0) or a savepoint (nested).
  absl::Status Atomically(absl::string_view op, absl::FunctionRef<absl::Status()> body);
  // Undoes the innermost level after a failure, unless SQLite already did.
  void RollBackLevel(absl::string_view op);

  sqlite3* db_;
  const std::string path_;
  std::vector<sqlite3_stmt*> statements_;  // indexed by the enum in the .cc
  // Set when options.background_checkpoint; stopped before db_ closes.
  std::unique_ptr<sqlite_store_internal::Checkpointer> checkpointer_;
  int transaction_depth_ = 0;
  // BeginGroup..EndGroup; group_open_ once its transaction has begun (the
  // group holds one level of transaction_depth_ then).
  bool grouping_ = false;
  bool group_open_ = false;
  // Opens the group's transaction before the first write in it.
  absl::Status EnsureGroupOpen(absl::string_view op);
  // Set once Open succeeded: only then does the destructor write anything.
  bool open_ = false;
  // PRAGMA incremental_vacuum(kReclaimStepPages for this page size); null
  // for a file without incremental auto-vacuum, which cannot shrink.
  sqlite3_stmt* reclaim_step_ = nullptr;
  int64_t page_size_bytes_ = 0;
  // A prune deleted rows and the free pages have not been checked since (or
  // were still worth reclaiming when last checked): each later prune runs a
  // step, even one that deletes nothing, until they are not.
  bool reclaim_pending_ = false;
  // A prune ran inside the current transaction; its step runs at the end.
  bool pruned_in_transaction_ = false;
};

}  // namespace narwhal

#endif  // NARWHAL_STORE_SQLITE_SQLITE_STORE_H_
