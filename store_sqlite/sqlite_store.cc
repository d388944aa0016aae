#include "store_sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "glog/logging.h"

namespace narwhal {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// The cached statements, prepared once in Open. The enum indexes kSql.
enum StatementId : int {
  kBegin,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackToSavepoint,
  kPutBatch,
  kGetBatch,
  kPruneBatches,
  kPutPayload,
  kHasPayload,
  kPutOwnPayload,
  kRemoveOwnPayload,
  kListOwnPayload,
  kCertificateInSlot,
  kPutCertificate,
  kGetCertificate,
  kCertificatesInRounds,
  kPutOwnHeader,
  kGetOwnHeader,
  kLastOwnHeaderRound,
  kPutVote,
  kGetVote,
  kInsertCommitted,
  kUpdateConsensusState,
  kGetConsensusState,
  kGetNextCommitIndex,
  kCommittedFrom,
  kPruneCommitted,
  kGetLastExecuted,
  kInsertExecuted,
  kSetLastExecuted,
  kExecutedFrom,
  kExecutedSizes,
  kPruneExecuted,
  kPruneCertificates,
  kPruneOwnHeaders,
  kPruneVotes,
  kPrunePayload,
  kCountBatches,
  kCountPayload,
  kCountOwnPayload,
  kCountCertificates,
  kCountOwnHeaders,
  kCountVotes,
  kCountCommitted,
  kCountExecuted,
  kFreelistCount,
  kPageCount,
  kStatementCount,
};

constexpr const char* kSql[] = {
    // IMMEDIATE takes the write lock at BEGIN, so a competing writer makes us
    // wait (busy_timeout) there rather than fail at some write in mid-body.
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT narwhal_store",
    "RELEASE narwhal_store",
    "ROLLBACK TO narwhal_store",
    "INSERT OR REPLACE INTO batches(digest, round, bytes) VALUES(?1, ?2, ?3)",
    "SELECT bytes FROM batches WHERE digest = ?1",
    "DELETE FROM batches WHERE round < ?1",
    "INSERT OR REPLACE INTO payload(digest, worker, round) VALUES(?1, ?2, ?3)",
    "SELECT 1 FROM payload WHERE digest = ?1 AND worker = ?2",
    // DO NOTHING (not OR REPLACE): a re-put keeps the row's original seq.
    "INSERT INTO own_payload(digest, worker, created_at_us) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(digest, worker) DO NOTHING",
    "DELETE FROM own_payload WHERE digest = ?1 AND worker = ?2",
    "SELECT digest, worker, created_at_us FROM own_payload ORDER BY seq",
    "SELECT digest FROM certificates WHERE round = ?1 AND author = ?2",
    "INSERT OR REPLACE INTO certificates(digest, round, author, bytes) VALUES(?1, ?2, ?3, ?4)",
    "SELECT bytes FROM certificates WHERE digest = ?1",
    // (round, author) is unique, so the order is total.
    "SELECT bytes FROM certificates WHERE round >= ?1 AND round <= ?2 ORDER BY round, author",
    "INSERT OR REPLACE INTO own_headers(round, bytes) VALUES(?1, ?2)",
    "SELECT bytes FROM own_headers WHERE round = ?1",
    "SELECT max(round) FROM own_headers",
    "INSERT OR REPLACE INTO votes(round, author, header_digest) VALUES(?1, ?2, ?3)",
    "SELECT header_digest FROM votes WHERE round = ?1 AND author = ?2",
    "INSERT INTO committed(idx, sub_dag) VALUES(?1, ?2)",
    "UPDATE consensus_state SET state = ?1, next_commit_index = next_commit_index + 1 "
    "WHERE id = 0",
    "SELECT state FROM consensus_state WHERE id = 0",
    "SELECT next_commit_index FROM consensus_state WHERE id = 0",
    "SELECT idx, sub_dag FROM committed WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
    "DELETE FROM committed WHERE idx < ?1",
    "SELECT value FROM meta WHERE key = 'last_executed_index'",
    "INSERT INTO executed(idx, size, row) VALUES(?1, ?2, ?3)",
    "INSERT OR REPLACE INTO meta(key, value) VALUES('last_executed_index', ?1)",
    "SELECT idx, row FROM executed WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
    // `size` is read instead of length(row) so the blobs stay on disk.
    "SELECT idx, size FROM executed ORDER BY idx",
    "DELETE FROM executed WHERE idx < ?1",
    "DELETE FROM certificates WHERE round < ?1",
    "DELETE FROM own_headers WHERE round < ?1",
    "DELETE FROM votes WHERE round < ?1",
    "DELETE FROM payload WHERE round < ?1",
    "SELECT count(*) FROM batches",
    "SELECT count(*) FROM payload",
    "SELECT count(*) FROM own_payload",
    "SELECT count(*) FROM certificates",
    "SELECT count(*) FROM own_headers",
    "SELECT count(*) FROM votes",
    "SELECT count(*) FROM committed",
    "SELECT count(*) FROM executed",
    // Both read the file header when stepped, so the cached statements stay
    // current.
    "PRAGMA freelist_count",
    "PRAGMA page_count",
};
static_assert(sizeof(kSql) / sizeof(kSql[0]) == kStatementCount, "one SQL text per StatementId");

// Same names and order as MemoryStore::RowCounts.
constexpr std::pair<const char*, StatementId> kCountedTables[] = {
    {"batches", kCountBatches},         {"payload", kCountPayload},
    {"own_payload", kCountOwnPayload},  {"certificates", kCountCertificates},
    {"own_headers", kCountOwnHeaders},  {"votes", kCountVotes},
    {"committed", kCountCommitted},     {"executed", kCountExecuted},
};

// The schema of version 2 (version 1 had no own_payload table and allowed two
// certificates per (round, author)); kUpgradeSql takes it to kSchemaVersion.
// A new file goes through the same upgrades as an old one, so every test
// exercises them. Column order puts small columns before blobs: SQLite reads
// a row front to back, so a prune that tests `round` never touches a batch's
// overflow pages. `round` indexes make every prune a range delete.
constexpr int64_t kOldestUpgradableVersion = 2;
constexpr char kSchemaSql[] = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE batches(digest BLOB PRIMARY KEY, round INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE INDEX batches_by_round ON batches(round);
CREATE TABLE payload(digest BLOB NOT NULL, worker INTEGER NOT NULL, round INTEGER NOT NULL,
                     PRIMARY KEY(digest, worker)) WITHOUT ROWID;
CREATE INDEX payload_by_round ON payload(round);
-- AUTOINCREMENT: seq only grows, even after the newest row is removed, so
-- ORDER BY seq is the order the primary first learned of the batches.
CREATE TABLE own_payload(seq INTEGER PRIMARY KEY AUTOINCREMENT, digest BLOB NOT NULL,
                         worker INTEGER NOT NULL, created_at_us INTEGER NOT NULL,
                         UNIQUE(digest, worker));
CREATE TABLE certificates(digest BLOB PRIMARY KEY, round INTEGER NOT NULL,
                          author INTEGER NOT NULL, bytes BLOB NOT NULL);
-- UNIQUE backs the one-certificate-per-(round, author) rule PutCertificate checks.
CREATE UNIQUE INDEX certificates_by_round ON certificates(round, author);
CREATE TABLE own_headers(round INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE votes(author INTEGER NOT NULL, round INTEGER NOT NULL, header_digest BLOB NOT NULL,
                   PRIMARY KEY(round, author)) WITHOUT ROWID;
CREATE TABLE committed(idx INTEGER PRIMARY KEY, sub_dag BLOB NOT NULL);
-- One row. next_commit_index lives here, not as max(idx)+1, because
-- PruneCommittedBelow may empty the committed table.
CREATE TABLE consensus_state(id INTEGER PRIMARY KEY CHECK (id = 0),
                             next_commit_index INTEGER NOT NULL, state BLOB);
INSERT INTO consensus_state(id, next_commit_index, state) VALUES(0, 0, NULL);
)sql";

// kUpgradeSql[i] takes a file from version kOldestUpgradableVersion + i to
// the next one, inside the transaction that checks the version.
constexpr const char* kUpgradeSql[] = {
    // 2 -> 3: the executor's output. The highest index appended is kept in
    // meta ('last_executed_index', absent until the first append), not as
    // max(idx), because PruneExecutedBelow may empty the table; the last
    // rather than the next index so that INT64_MAX itself is storable.
    R"sql(
CREATE TABLE executed(idx INTEGER PRIMARY KEY, size INTEGER NOT NULL, row BLOB NOT NULL);
)sql",
};
static_assert(kOldestUpgradableVersion +
                      static_cast<int64_t>(sizeof(kUpgradeSql) / sizeof(kUpgradeSql[0])) ==
                  SqliteStore::kSchemaVersion,
              "one upgrade per schema version after the oldest upgradable one");

// Free pages are given back once they are both this share of the file and
// this many bytes: below that they are cheaper to reuse than to move live
// pages over them (the worker's garbage collection frees about 1/gc_depth of
// its store per round, which later batches fill again).
constexpr int64_t kReclaimFreePercentMin = 10;
constexpr int64_t kReclaimFreeBytesMin = int64_t{1} << 20;
// Steps the destructor may run, so a close gives back most of what the
// prunes had not yet without making a restart wait long.
constexpr int kReclaimStepsAtClose = 16;

bool IsValidSynchronous(const std::string& value) {
  return value == "FULL" || value == "NORMAL" || value == "OFF";
}

bool IsValidPageSize(int bytes) {
  return bytes >= 512 && bytes <= 65536 && (bytes & (bytes - 1)) == 0;
}

absl::StatusCode CantOpenCode(int system_errno) {
  switch (system_errno) {
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOENT:
    case ENOTDIR:
      return absl::StatusCode::kNotFound;
    default:
      return absl::StatusCode::kFailedPrecondition;
  }
}

absl::StatusCode StatusCodeFor(int rc, int system_errno) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
      return CantOpenCode(system_errno);
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return absl::StatusCode::kInvalidArgument;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

// The one place SQLite result codes turn into statuses. Reads the message
// before anything else touches `db`, since the next call overwrites it.
absl::Status SqliteStatus(sqlite3* db, const std::string& path, int rc, absl::string_view op) {
  // A failing bind or prepare may leave the connection's message stale; the
  // generic text for `rc` is then the honest one.
  const bool message_is_current = db != nullptr && sqlite3_extended_errcode(db) == rc;
  std::string message = message_is_current ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int system_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  std::string cause = absl::StrCat(message, " (sqlite code ", rc);
  if (system_errno != 0 && ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR ||
                            (rc & 0xff) == SQLITE_FULL)) {
    absl::StrAppend(&cause, ", ", std::strerror(system_errno));
  }
  absl::StrAppend(&cause, ")");
  return absl::Status(StatusCodeFor(rc, system_errno),
                      absl::StrCat("sqlite store ", path, ": ", op, ": ", cause));
}

// Resets and unbinds a cached statement when the call that used it ends, so it
// keeps no pointer into the caller's buffers and holds no read lock.
class ScopedReset {
 public:
  explicit ScopedReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ScopedReset() {
    sqlite3_reset(stmt_);  // returns the last step's error, already reported
    sqlite3_clear_bindings(stmt_);
  }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

std::string ColumnBytes(sqlite3_stmt* stmt, int column) {
  // blob before bytes: that is the order SQLite documents as safe.
  const void* data = sqlite3_column_blob(stmt, column);
  const int size = sqlite3_column_bytes(stmt, column);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

// Runs `sql` (one statement) and returns the first column of every row as
// text. Only for Open: the hot paths use the cached statements.
absl::StatusOr<std::vector<std::string>> QueryText(sqlite3* db, const std::string& path,
                                                   const std::string& sql, absl::string_view op) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db, path, rc, op);
  std::vector<std::string> rows;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    rows.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
  }
  absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : SqliteStatus(db, path, rc, op);
  sqlite3_finalize(stmt);
  if (!status.ok()) return status;
  return rows;
}

absl::Status ExecScript(sqlite3* db, const std::string& path, const char* sql,
                        absl::string_view op) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db, path, rc, op);
  return absl::OkStatus();
}

// PRAGMA quick_check reads every page and checks the b-trees; a truncated or
// scribbled file fails here instead of answering later reads wrongly.
absl::Status CheckIntegrity(sqlite3* db, const std::string& path) {
  absl::StatusOr<std::vector<std::string>> problems =
      QueryText(db, path, "PRAGMA quick_check(5)", "Open: integrity check");
  if (!problems.ok()) return problems.status();
  if (problems->size() == 1 && (*problems)[0] == "ok") return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("sqlite store ", path,
                                          ": Open: integrity check failed (the file is corrupt "
                                          "or truncated): ",
                                          absl::StrJoin(*problems, "; ")));
}

absl::Status EnableWal(sqlite3* db, const std::string& path) {
  absl::StatusOr<std::vector<std::string>> mode =
      QueryText(db, path, "PRAGMA journal_mode=WAL", "Open: enable WAL");
  if (!mode.ok()) return mode.status();
  if (mode->size() == 1 && (*mode)[0] == "wal") return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("sqlite store ", path, ": Open: could not switch to WAL journal mode (got \"",
                   mode->empty() ? "" : (*mode)[0],
                   "\"); is the directory writable and on a local file system?"));
}

// Runs the upgrades from `version` to kSchemaVersion and records the new
// version; the caller's transaction makes it all or nothing.
absl::Status UpgradeSchema(sqlite3* db, const std::string& path, int64_t version) {
  for (int64_t v = version; v < SqliteStore::kSchemaVersion; ++v) {
    absl::Status status = ExecScript(db, path, kUpgradeSql[v - kOldestUpgradableVersion],
                                     absl::StrCat("Open: upgrade schema from version ", v));
    if (!status.ok()) return status;
  }
  const std::string set_version =
      absl::StrCat("INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ",
                   SqliteStore::kSchemaVersion, ")");
  return ExecScript(db, path, set_version.c_str(), "Open: write schema version");
}

absl::Status CreateSchema(sqlite3* db, const std::string& path) {
  absl::Status status = ExecScript(db, path, kSchemaSql, "Open: create schema");
  if (!status.ok()) return status;
  return UpgradeSchema(db, path, kOldestUpgradableVersion);
}

// Accepts kSchemaVersion, upgrades an older version this build knows, and
// refuses anything else.
absl::Status CheckOrUpgradeSchema(sqlite3* db, const std::string& path) {
  absl::StatusOr<std::vector<std::string>> has_meta = QueryText(
      db, path, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
      "Open: read schema");
  if (!has_meta.ok()) return has_meta.status();
  if (has_meta->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite store ", path,
        ": Open: the file is an SQLite database but not a Narwhal store (no meta table)"));
  }
  absl::StatusOr<std::vector<std::string>> version = QueryText(
      db, path, "SELECT value FROM meta WHERE key = 'schema_version'", "Open: read schema version");
  if (!version.ok()) return version.status();
  const std::string expected = absl::StrCat(SqliteStore::kSchemaVersion);
  if (version->size() == 1 && (*version)[0] == expected) return absl::OkStatus();
  for (int64_t old = kOldestUpgradableVersion; old < SqliteStore::kSchemaVersion; ++old) {
    if (version->size() != 1 || (*version)[0] != absl::StrCat(old)) continue;
    absl::Status status = UpgradeSchema(db, path, old);
    if (status.ok()) {
      LOG(INFO) << "sqlite store " << path << ": upgraded schema version " << old << " to "
                << SqliteStore::kSchemaVersion;
    }
    return status;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "sqlite store ", path, ": Open: schema version ",
      version->empty() ? "(missing)" : (*version)[0], ", this build expects ", expected,
      " (and upgrades versions ", kOldestUpgradableVersion, " to ", SqliteStore::kSchemaVersion - 1,
      ")"));
}

// Creates the schema in an empty database or checks the version of an
// existing one, in one write transaction so two processes opening a fresh
// file cannot both create it.
absl::Status EnsureSchema(sqlite3* db, const std::string& path) {
  absl::Status status = ExecScript(db, path, "BEGIN IMMEDIATE", "Open: begin");
  if (!status.ok()) return status;
  absl::StatusOr<std::vector<std::string>> objects =
      QueryText(db, path, "SELECT count(*) FROM sqlite_master", "Open: read schema");
  if (!objects.ok()) {
    status = objects.status();
  } else if (objects->size() == 1 && (*objects)[0] == "0") {
    status = CreateSchema(db, path);
  } else {
    status = CheckOrUpgradeSchema(db, path);
  }
  if (status.ok()) return ExecScript(db, path, "COMMIT", "Open: commit schema");
  if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return status;
}

// SQLite retries a failed create as a read-only open, so its errno for a new
// file in an unwritable directory is a misleading ENOENT. Asking the directory
// directly gives the real cause.
absl::Status DiagnoseCannotCreate(const std::string& path, absl::Status sqlite_status) {
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (access(dir.c_str(), W_OK | X_OK) == 0) return sqlite_status;
  const int error = errno;
  const absl::StatusCode code = CantOpenCode(error);
  return absl::Status(code, absl::StrCat("sqlite store ", path, ": Open: cannot create the file: ",
                                         "directory ", dir, " is not usable (",
                                         std::strerror(error), ")"));
}

absl::Status Configure(sqlite3* db, const std::string& path, const SqliteOptions& options,
                       bool in_memory, bool existed) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  // Before any read: reading a WAL database creates -wal and -shm files, which
  // a store we are about to refuse should not leave behind.
  if (sqlite3_db_readonly(db, "main") == 1) {
    return absl::PermissionDeniedError(
        absl::StrCat("sqlite store ", path, ": Open: opened read-only; the file is not writable"));
  }
  if (existed && options.check_integrity_on_open) {
    absl::Status status = CheckIntegrity(db, path);
    if (!status.ok()) return status;
  }
  if (!existed) {
    // Both only take effect before the first table exists, and must precede
    // WAL. Incremental auto-vacuum keeps the bookkeeping (pointer-map pages)
    // that lets ReclaimFreePages cut free pages off the end of the file. Not
    // in memory: there the bookkeeping slows the simulator's writes (up to
    // ~15% for multi-page rows) and nothing is returned to anyone.
    std::string pragmas = absl::StrCat("PRAGMA page_size=", options.page_size_bytes, ";");
    if (!in_memory) absl::StrAppend(&pragmas, "PRAGMA auto_vacuum=INCREMENTAL;");
    absl::Status status = ExecScript(db, path, pragmas.c_str(), "Open: set page size");
    if (!status.ok()) return status;
  }
  if (!in_memory) {
    absl::Status status = EnableWal(db, path);
    if (!status.ok()) return status;
  }
  // The value was validated against a fixed list, so splicing it is safe.
  std::string pragmas = absl::StrCat("PRAGMA synchronous=", options.synchronous, ";");
  if (options.max_page_count > 0) {
    absl::StrAppend(&pragmas, "PRAGMA max_page_count=", options.max_page_count, ";");
  }
  if (!in_memory) {
    // SQLite reuses the -wal file from its start when the log starts over
    // and would otherwise keep it at its largest size ever.
    absl::StrAppend(&pragmas, "PRAGMA journal_size_limit=", SqliteStore::kWalSizeLimitBytes, ";");
  }
  absl::Status status = ExecScript(db, path, pragmas.c_str(), "Open: set pragmas");
  if (!status.ok()) return status;
  return EnsureSchema(db, path);
}

}  // namespace

namespace sqlite_store_internal {

// Binds parameters left to right, keeping the first failure so the caller
// checks once. Blobs are bound SQLITE_STATIC: the caller's buffer outlives the
// step, and ScopedReset unbinds the statement before the call returns, so a
// 500 KB batch is never copied on its way into SQLite.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* stmt) : stmt_(stmt) {}

  Binder& Int(int64_t value) { return Record(sqlite3_bind_int64(stmt_, next_++, value)); }

  // A uint64_t used as a query bound. Above INT64_MAX it binds 2^63 as a REAL,
  // which SQLite compares exactly with every stored integer (all are smaller),
  // so bounds like UINT64_MAX mean "everything" rather than wrapping to -1.
  Binder& Bound(uint64_t value) {
    if (value <= static_cast<uint64_t>(kInt64Max)) return Int(static_cast<int64_t>(value));
    return Record(sqlite3_bind_double(stmt_, next_++, 9223372036854775808.0));
  }

  Binder& Blob(std::string_view bytes) {
    // A null pointer would bind NULL, not an empty blob.
    const char* data = bytes.empty() ? "" : bytes.data();
    return Record(sqlite3_bind_blob64(stmt_, next_++, data, bytes.size(), SQLITE_STATIC));
  }

  Binder& Blob(const Digest& digest) {
    return Blob(std::string_view(reinterpret_cast<const char*>(digest.bytes.data()),
                                 Digest::kSize));
  }

  int rc() const { return rc_; }

 private:
  Binder& Record(int rc) {
    if (rc_ == SQLITE_OK) rc_ = rc;
    return *this;
  }

  sqlite3_stmt* stmt_;
  int next_ = 1;
  int rc_ = SQLITE_OK;
};


// Runs PASSIVE checkpoints on its own thread and connection when the
// store's WAL hook asks for one. PASSIVE never waits for the writer or
// readers: it copies what it can, and the writer restarts the log from its
// start once a checkpoint has copied all of it (and cuts the file back to
// journal_size_limit then). When the writer is quiet, the thread also
// truncates the -wal file to 0 bytes (TruncateLog).
class Checkpointer {
 public:
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Start(const std::string& path,
                                                             const SqliteOptions& options) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
      absl::Status status = SqliteStatus(db, path, rc, "Open: checkpoint connection");
      sqlite3_close(db);
      return status;
    }
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    // The checkpointing connection's own setting decides how it syncs.
    const std::string pragma = absl::StrCat("PRAGMA synchronous=", options.synchronous);
    absl::Status status = ExecScript(db, path, pragma.c_str(), "Open: checkpoint connection");
    if (!status.ok()) {
      sqlite3_close(db);
      return status;
    }
    return std::unique_ptr<Checkpointer>(new Checkpointer(db, path, options));
  }

  ~Checkpointer() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
    sqlite3_close(db_);
  }

  // The store's WAL hook: runs on the committing thread after each commit.
  static int OnCommit(void* arg, sqlite3* db, const char* name, int frames) {
    auto* self = static_cast<Checkpointer*>(arg);
    self->commits_.fetch_add(1, std::memory_order_relaxed);
    if (frames >= self->inline_frames_) {
      self->CheckpointInline(db, name);
      absl::MutexLock lock(&self->mu_);
      self->complete_at_frames_ = 0;
    } else if (frames >= self->frames_) {
      absl::MutexLock lock(&self->mu_);
      // After a checkpoint that copied the whole log, the next write starts
      // the log over unless a reader still uses it; checkpointing again
      // right away would only get in that restart's way.
      if (frames < self->complete_at_frames_) self->complete_at_frames_ = 0;
      const bool restart_due = self->complete_at_frames_ > 0 &&
                               frames < self->complete_at_frames_ + self->frames_ / 4;
      if (!self->running_ && !restart_due) self->requested_ = true;
    }
    return SQLITE_OK;
  }

 private:
  Checkpointer(sqlite3* db, std::string path, const SqliteOptions& options)
      : db_(db),
        path_(std::move(path)),
        frames_(options.checkpoint_frames),
        inline_frames_(options.checkpoint_inline_frames),
        busy_timeout_ms_(options.busy_timeout_ms),
        idle_ms_(options.checkpoint_idle_ms),
        thread_([this] { Run(); }) {}

  static constexpr int kPauseMs = 10;

  void Run() {
    // commits_ when the thread last woke, and when it last emptied the log
    // (never yet: Open may have written the schema).
    uint64_t commits_seen = commits_.load(std::memory_order_relaxed);
    uint64_t commits_at_truncate = commits_seen - 1;
    while (true) {
      bool requested;
      {
        absl::MutexLock lock(&mu_);
        running_ = false;
        requested = mu_.AwaitWithTimeout(
            absl::Condition(
                +[](Checkpointer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
                  return c->requested_ || c->stop_;
                },
                this),
            absl::Milliseconds(idle_ms_));
        if (stop_) return;
        requested_ = false;
        running_ = true;
      }
      const uint64_t commits = commits_.load(std::memory_order_relaxed);
      const bool quiet = commits == commits_seen;
      commits_seen = commits;
      // Woken by the timer: act only if a whole period passed without a
      // commit and something was written since the log was last emptied.
      if (!requested && (!quiet || commits == commits_at_truncate)) continue;
      int log_frames = 0, copied_frames = 0;
      const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                               &log_frames, &copied_frames);
      // BUSY: the inline checkpoint is running; the next commit asks again.
      LOG_IF(WARNING, rc != SQLITE_OK && rc != SQLITE_BUSY)
          << SqliteStatus(db_, path_, rc, "background checkpoint");
      // Everything is in the database file and nothing was committed since
      // the checkpoint began: emptying the log now costs the writer nothing.
      if (rc == SQLITE_OK && copied_frames == log_frames &&
          commits_.load(std::memory_order_relaxed) == commits && TruncateLog()) {
        commits_at_truncate = commits;
      }
      absl::MutexLock lock(&mu_);
      if (rc == SQLITE_OK && log_frames > 0 && copied_frames == log_frames) {
        complete_at_frames_ = log_frames;
      }
      // A pause between checkpoints, so that they do not follow each other
      // back to back while the writer keeps the log growing.
      mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(kPauseMs));
    }
  }

  // Truncates the -wal file to 0 bytes if no connection is writing or
  // reading an old snapshot; true if it did. With the busy handler off a
  // TRUNCATE checkpoint never waits: if the writer lock or a reader is held
  // it backs off like PASSIVE and returns BUSY. If a commit slipped in after
  // the caller's check, it copies that commit's few frames (and syncs) while
  // holding the writer lock, which the writer then waits for; that is the
  // worst case, and only when the writer has just been idle.
  bool TruncateLog() {
    sqlite3_busy_handler(db_, nullptr, nullptr);
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                             nullptr);
    sqlite3_busy_timeout(db_, busy_timeout_ms_);
    LOG_IF(WARNING, rc != SQLITE_OK && rc != SQLITE_BUSY)
        << SqliteStatus(db_, path_, rc, "background log truncation");
    return rc == SQLITE_OK;
  }

  // The thread fell far behind, or the writer outruns its checkpoints:
  // copy the rest here and make the next write start the log over, so the
  // log cannot grow further. Waits (at most the busy timeout) while the
  // thread's checkpoint holds SQLite's checkpoint lock.
  void CheckpointInline(sqlite3* db, const char* name) {
    for (int waited_ms = 0; waited_ms < busy_timeout_ms_; waited_ms += kPauseMs) {
      const int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
      if (rc != SQLITE_BUSY) {
        LOG_IF(WARNING, rc != SQLITE_OK) << SqliteStatus(db, path_, rc, "inline checkpoint");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(kPauseMs));
    }
  }

  sqlite3* const db_;
  const std::string path_;
  const int frames_;
  const int inline_frames_;
  const int busy_timeout_ms_;
  const int idle_ms_;
  // Commits seen by OnCommit; the thread compares snapshots to tell a quiet
  // writer. Relaxed: a stale value only delays or skips one truncation.
  std::atomic<uint64_t> commits_{0};
  absl::Mutex mu_;
  bool requested_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  // Log size when a checkpoint last copied all of it; 0 once the log
  // started over.
  int complete_at_frames_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the fields above are set
};

}  // namespace sqlite_store_internal

namespace {

using sqlite_store_internal::Binder;

void NoParameters(Binder&) {}

// Rounds and indexes are stored as SQLite's signed 64-bit integers.
absl::Status CheckStorable(const std::string& path, uint64_t value, absl::string_view op,
                           absl::string_view what = "round") {
  if (value <= static_cast<uint64_t>(kInt64Max)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("sqlite store ", path, ": ", op, ": ", what, " ",
                                                 value, " exceeds the storable maximum ",
                                                 kInt64Max));
}

// Whether `free_pages` of `total_pages` are worth giving back now.
bool ReclaimIsWorthIt(int64_t free_pages, int64_t total_pages, int64_t page_size_bytes) {
  return free_pages * 100 >= total_pages * kReclaimFreePercentMin &&
         free_pages * page_size_bytes >= kReclaimFreeBytesMin;
}

// Bytes of the file at `path`, 0 if there is none.
absl::StatusOr<uint64_t> SizeOfFile(const std::string& path, absl::string_view op) {
  struct stat info;
  if (stat(path.c_str(), &info) == 0) return static_cast<uint64_t>(info.st_size);
  if (errno == ENOENT) return uint64_t{0};
  return absl::Status(CantOpenCode(errno), absl::StrCat("sqlite store ", path, ": ", op,
                                                        ": cannot stat: ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               const SqliteOptions& options) {
  if (path.empty()) {
    return absl::InvalidArgumentError("sqlite store: Open: empty path (use \":memory:\")");
  }
  if (!IsValidSynchronous(options.synchronous)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sqlite store ", path, ": SqliteOptions.synchronous must be FULL, NORMAL or "
                     "OFF, got \"", options.synchronous, "\""));
  }
  if (!IsValidPageSize(options.page_size_bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sqlite store ", path, ": SqliteOptions.page_size_bytes must be a power of ",
                     "two from 512 to 65536, got ", options.page_size_bytes));
  }
  if (options.background_checkpoint &&
      (options.checkpoint_frames <= 0 || options.checkpoint_inline_frames < options.checkpoint_frames)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sqlite store ", path, ": SqliteOptions.checkpoint_frames must be > 0 and at most ",
        "checkpoint_inline_frames, got ", options.checkpoint_frames, " and ",
        options.checkpoint_inline_frames));
  }
  if (options.background_checkpoint && options.checkpoint_idle_ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sqlite store ", path, ": SqliteOptions.checkpoint_idle_ms must be > 0, got ",
        options.checkpoint_idle_ms));
  }
  const bool in_memory = path == ":memory:";
  bool existed = false;
  if (!in_memory) {
    struct stat info;
    if (stat(path.c_str(), &info) == 0) {
      existed = true;
    } else if (errno != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("sqlite store ", path, ": Open: cannot stat: ", std::strerror(errno)));
    } else if (!options.create_if_missing) {
      return absl::NotFoundError(absl::StrCat(
          "sqlite store ", path, ": Open: no such file and create_if_missing is false"));
    }
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  // Owning the handle from here on closes it on every failure path below.
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path));
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteStatus(db, path, rc, "Open");
    return existed ? status : DiagnoseCannotCreate(path, std::move(status));
  }
  absl::Status status = Configure(db, path, options, in_memory, existed);
  if (status.ok()) status = store->PrepareStatements();
  if (status.ok()) status = store->PrepareReclaim();
  if (!status.ok()) return status;
  if (options.background_checkpoint && !in_memory) {
    auto checkpointer = sqlite_store_internal::Checkpointer::Start(path, options);
    if (!checkpointer.ok()) return checkpointer.status();
    store->checkpointer_ = *std::move(checkpointer);
    // Replaces SQLite's auto-checkpoint (which is itself a WAL hook).
    sqlite3_wal_hook(db, &sqlite_store_internal::Checkpointer::OnCommit,
                     store->checkpointer_.get());
  }
  store->open_ = true;
  return store;
}

SqliteStore::SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

SqliteStore::~SqliteStore() {
  // First, so that its thread and connection do not race the final
  // checkpoint below.
  if (checkpointer_ != nullptr) {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    checkpointer_.reset();
  }
  if (transaction_depth_ > 0) {
    LOG(ERROR) << "sqlite store " << path_ << ": closed in a transaction";
  } else if (open_ && path_ != ":memory:") {
    FoldBackForClose();
  }
  for (sqlite3_stmt* stmt : statements_) sqlite3_finalize(stmt);
  sqlite3_finalize(reclaim_step_);
  // With every statement finalized close cannot be busy; in WAL mode the last
  // connection's close checkpoints and removes the -wal file.
  const int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) LOG(ERROR) << SqliteStatus(db_, path_, rc, "close");
}

void SqliteStore::FoldBackForClose() {
  ReclaimFreePages(kReclaimStepsAtClose);
  // close() removes the -wal file only if no other connection (another
  // process's SqliteBatchReader) has the database open; this leaves it empty
  // either way. TRUNCATE waits (busy_timeout) for readers on an old snapshot.
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                           nullptr);
  LOG_IF(WARNING, rc != SQLITE_OK) << SqliteStatus(db_, path_, rc, "checkpoint at close");
}

absl::Status SqliteStore::PrepareReclaim() {
  absl::StatusOr<std::vector<std::string>> mode =
      QueryText(db_, path_, "PRAGMA auto_vacuum", "Open: read auto_vacuum");
  if (!mode.ok()) return mode.status();
  absl::StatusOr<std::vector<std::string>> page_size =
      QueryText(db_, path_, "PRAGMA page_size", "Open: read page size");
  if (!page_size.ok()) return page_size.status();
  if (page_size->size() != 1 || !absl::SimpleAtoi((*page_size)[0], &page_size_bytes_) ||
      !IsValidPageSize(static_cast<int>(page_size_bytes_))) {
    return absl::DataLossError(
        absl::StrCat("sqlite store ", path_, ": Open: unreadable page size"));
  }
  // 2 is INCREMENTAL. NONE cannot shrink without a VACUUM (see the header);
  // FULL (not ours) shrinks by itself at every commit.
  if (mode->size() != 1 || (*mode)[0] != "2") {
    LOG_IF(INFO, path_ != ":memory:")
        << "sqlite store " << path_ << ": created without incremental auto-vacuum, so the "
        << "file will not shrink when rows are pruned; to enable it, stop the node and run: "
        << "sqlite3 " << path_ << " 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'";
    return absl::OkStatus();
  }
  const int64_t step_pages =
      std::max<int64_t>(1, std::min(kReclaimStepPagesMax, kReclaimStepBytesMax / page_size_bytes_));
  const std::string sql = absl::StrCat("PRAGMA incremental_vacuum(", step_pages, ")");
  const int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT,
                                    &reclaim_step_, nullptr);
  if (rc != SQLITE_OK) return Error(rc, absl::StrCat("Open: prepare \"", sql, "\""));
  // The last run may have ended (crashed) before it gave everything back.
  reclaim_pending_ = true;
  return absl::OkStatus();
}

void SqliteStore::AfterPrune(int64_t changes_before) {
  if (sqlite3_total_changes64(db_) != changes_before) reclaim_pending_ = true;
  // Inside a transaction the pages are not free until it commits (and may
  // never be): the step waits for the outermost level's end (Atomically).
  if (transaction_depth_ == 0) {
    ReclaimFreePages(1);
  } else {
    pruned_in_transaction_ = true;
  }
}

void SqliteStore::ReclaimFreePages(int steps_max) {
  if (reclaim_step_ == nullptr) return;
  for (int step = 0; step < steps_max && reclaim_pending_; ++step) {
    absl::StatusOr<std::optional<int64_t>> free_pages =
        QueryInt(kFreelistCount, "reclaim free pages", NoParameters);
    absl::StatusOr<std::optional<int64_t>> total_pages =
        free_pages.ok() ? QueryInt(kPageCount, "reclaim free pages", NoParameters)
                        : free_pages;
    if (!total_pages.ok()) {
      LOG(WARNING) << total_pages.status();
      return;  // still pending: the next prune tries again
    }
    if (!ReclaimIsWorthIt(free_pages->value_or(0), total_pages->value_or(0), page_size_bytes_)) {
      reclaim_pending_ = false;
      return;
    }
    // The pragma yields a row per page it frees and commits when done.
    ScopedReset reset(reclaim_step_);
    int rc;
    while ((rc = sqlite3_step(reclaim_step_)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      LOG(WARNING) << Error(rc, "reclaim free pages");
      return;
    }
  }
}

absl::Status SqliteStore::PrepareStatements() {
  statements_.reserve(kStatementCount);
  for (int id = 0; id < kStatementCount; ++id) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, kSql[id], -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, absl::StrCat("Open: prepare \"", kSql[id], "\""));
    statements_.push_back(stmt);
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::Error(int rc, absl::string_view op) const {
  return SqliteStatus(db_, path_, rc, op);
}

absl::Status SqliteStore::CheckTransactionAlive(absl::string_view op) const {
  if (transaction_depth_ == 0 || !sqlite3_get_autocommit(db_)) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat("sqlite store ", path_, ": ", op,
                                         ": the enclosing transaction was already rolled back "
                                         "by SQLite after an earlier error"));
}

absl::Status SqliteStore::EnsureGroupOpen(absl::string_view op) {
  if (!grouping_ || group_open_) return absl::OkStatus();
  group_open_ = true;  // before the BEGIN: Exec must not come back here
  absl::Status status = Exec(kBegin, op, NoParameters);
  if (!status.ok()) {
    group_open_ = false;
    return status;
  }
  ++transaction_depth_;
  return absl::OkStatus();
}

void SqliteStore::BeginGroup() {
  CHECK(!grouping_) << path_ << ": BeginGroup inside a group";
  CHECK_EQ(transaction_depth_, 0) << path_ << ": BeginGroup inside a transaction";
  grouping_ = true;
}

absl::Status SqliteStore::EndGroup(bool commit) {
  CHECK(grouping_) << path_ << ": EndGroup without BeginGroup";
  grouping_ = false;
  if (!group_open_) return absl::OkStatus();
  group_open_ = false;
  CHECK_EQ(transaction_depth_, 1) << path_ << ": a transaction inside the group is still open";
  absl::Status status;
  if (commit) {
    status = Exec(kCommit, "commit the event loop pass's writes", NoParameters);
    if (!status.ok()) RollBackLevel("commit the event loop pass's writes");
  } else {
    RollBackLevel("roll back the event loop pass's writes");
  }
  --transaction_depth_;
  if (pruned_in_transaction_) {
    pruned_in_transaction_ = false;
    ReclaimFreePages(1);
  }
  return status;
}

absl::Status SqliteStore::Exec(int id, absl::string_view op,
                               absl::FunctionRef<void(Binder&)> bind) {
  if (absl::Status opened = EnsureGroupOpen(op); !opened.ok()) return opened;
  absl::Status alive = CheckTransactionAlive(op);
  if (!alive.ok()) return alive;
  sqlite3_stmt* stmt = statement(id);
  ScopedReset reset(stmt);
  Binder binder(stmt);
  bind(binder);
  if (binder.rc() != SQLITE_OK) return Error(binder.rc(), op);
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return Error(rc, op);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> SqliteStore::QueryBlob(
    int id, absl::string_view op, absl::FunctionRef<void(Binder&)> bind) {
  sqlite3_stmt* stmt = statement(id);
  ScopedReset reset(stmt);
  Binder binder(stmt);
  bind(binder);
  if (binder.rc() != SQLITE_OK) return Error(binder.rc(), op);
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return Error(rc, op);
  if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) return std::optional<std::string>();
  return std::optional<std::string>(ColumnBytes(stmt, 0));
}

absl::StatusOr<std::optional<int64_t>> SqliteStore::QueryInt(
    int id, absl::string_view op, absl::FunctionRef<void(Binder&)> bind) {
  sqlite3_stmt* stmt = statement(id);
  ScopedReset reset(stmt);
  Binder binder(stmt);
  bind(binder);
  if (binder.rc() != SQLITE_OK) return Error(binder.rc(), op);
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  if (rc != SQLITE_ROW) return Error(rc, op);
  if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) return std::optional<int64_t>();
  return std::optional<int64_t>(sqlite3_column_int64(stmt, 0));
}

absl::Status SqliteStore::Atomically(absl::string_view op,
                                     absl::FunctionRef<absl::Status()> body) {
  if (absl::Status opened = EnsureGroupOpen(op); !opened.ok()) return opened;
  const bool outermost = transaction_depth_ == 0;
  absl::Status status = Exec(outermost ? kBegin : kSavepoint, op, NoParameters);
  if (!status.ok()) return status;
  ++transaction_depth_;
  status = body();
  if (status.ok()) status = Exec(outermost ? kCommit : kRelease, op, NoParameters);
  if (!status.ok()) RollBackLevel(op);
  --transaction_depth_;
  // A prune inside the body left its reclaim step for now (AfterPrune).
  if (outermost && pruned_in_transaction_) {
    pruned_in_transaction_ = false;
    ReclaimFreePages(1);
  }
  return status;
}

void SqliteStore::RollBackLevel(absl::string_view op) {
  // SQLite rolls the whole transaction back by itself after some errors (a
  // full disk, an I/O error); there is nothing left to undo then.
  if (sqlite3_get_autocommit(db_)) return;
  const bool outermost = transaction_depth_ == 1;
  absl::Status status = outermost ? Exec(kRollback, op, NoParameters)
                                  : Exec(kRollbackToSavepoint, op, NoParameters);
  // ROLLBACK TO keeps the savepoint open; RELEASE pops it.
  if (status.ok() && !outermost) status = Exec(kRelease, op, NoParameters);
  if (!status.ok()) LOG(ERROR) << "rollback failed: " << status;
}

absl::Status SqliteStore::PutBatch(const Digest& digest, std::string_view batch, Round round) {
  absl::Status storable = CheckStorable(path_, round, "PutBatch");
  if (!storable.ok()) return storable;
  return Exec(kPutBatch, "PutBatch", [&](Binder& b) {
    b.Blob(digest).Int(static_cast<int64_t>(round)).Blob(batch);
  });
}

absl::StatusOr<std::optional<std::string>> SqliteStore::GetBatch(const Digest& digest) {
  return QueryBlob(kGetBatch, "GetBatch", [&](Binder& b) { b.Blob(digest); });
}

absl::Status SqliteStore::PruneBatchesBelow(Round round) {
  const int64_t changes_before = sqlite3_total_changes64(db_);
  absl::Status status =
      Exec(kPruneBatches, "PruneBatchesBelow", [&](Binder& b) { b.Bound(round); });
  if (status.ok()) AfterPrune(changes_before);
  return status;
}

absl::Status SqliteStore::PutPayload(const Digest& digest, WorkerId worker, Round round) {
  absl::Status storable = CheckStorable(path_, round, "PutPayload");
  if (!storable.ok()) return storable;
  return Exec(kPutPayload, "PutPayload", [&](Binder& b) {
    b.Blob(digest).Int(worker).Int(static_cast<int64_t>(round));
  });
}

absl::StatusOr<bool> SqliteStore::HasPayload(const Digest& digest, WorkerId worker) {
  absl::StatusOr<std::optional<int64_t>> found =
      QueryInt(kHasPayload, "HasPayload", [&](Binder& b) { b.Blob(digest).Int(worker); });
  if (!found.ok()) return found.status();
  return found->has_value();
}

absl::Status SqliteStore::PutOwnPayload(const OwnPayloadRow& row) {
  return Exec(kPutOwnPayload, "PutOwnPayload", [&](Binder& b) {
    b.Blob(row.digest).Int(row.worker).Int(row.created_at_us);
  });
}

absl::Status SqliteStore::RemoveOwnPayload(const Digest& digest, WorkerId worker) {
  return Exec(kRemoveOwnPayload, "RemoveOwnPayload",
              [&](Binder& b) { b.Blob(digest).Int(worker); });
}

absl::StatusOr<std::vector<OwnPayloadRow>> SqliteStore::ListOwnPayload() {
  constexpr absl::string_view kOp = "ListOwnPayload";
  sqlite3_stmt* stmt = statement(kListOwnPayload);
  ScopedReset reset(stmt);
  std::vector<OwnPayloadRow> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    absl::StatusOr<Digest> digest = Digest::FromBytes(ColumnBytes(stmt, 0));
    const int64_t worker = sqlite3_column_int64(stmt, 1);
    if (!digest.ok() || worker < 0 || worker > std::numeric_limits<WorkerId>::max()) {
      return absl::DataLossError(absl::StrCat("sqlite store ", path_, ": ", kOp,
                                              ": a stored row has an invalid digest or worker"));
    }
    out.push_back({*digest, static_cast<WorkerId>(worker), sqlite3_column_int64(stmt, 2)});
  }
  if (rc != SQLITE_DONE) return Error(rc, kOp);
  return out;
}

absl::Status SqliteStore::PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                         std::string_view certificate) {
  constexpr absl::string_view kOp = "PutCertificate";
  absl::Status storable = CheckStorable(path_, round, kOp);
  if (!storable.ok()) return storable;
  return Atomically(kOp, [&]() -> absl::Status {
    absl::StatusOr<std::optional<std::string>> held =
        QueryBlob(kCertificateInSlot, kOp,
                  [&](Binder& b) { b.Int(static_cast<int64_t>(round)).Int(author); });
    if (!held.ok()) return held.status();
    if (held->has_value() && **held != digest.ToBytes()) {
      absl::StatusOr<Digest> first = Digest::FromBytes(**held);
      return absl::AlreadyExistsError(absl::StrCat(
          "certificate ", digest.Short(), ": round ", round, " author ", author,
          " already has certificate ", first.ok() ? first->Short() : "(unreadable digest)"));
    }
    return Exec(kPutCertificate, kOp, [&](Binder& b) {
      b.Blob(digest).Int(static_cast<int64_t>(round)).Int(author).Blob(certificate);
    });
  });
}

absl::StatusOr<std::optional<std::string>> SqliteStore::GetCertificate(const Digest& digest) {
  return QueryBlob(kGetCertificate, "GetCertificate", [&](Binder& b) { b.Blob(digest); });
}

absl::StatusOr<std::vector<std::string>> SqliteStore::CertificatesInRounds(Round from, Round to) {
  constexpr absl::string_view kOp = "CertificatesInRounds";
  sqlite3_stmt* stmt = statement(kCertificatesInRounds);
  ScopedReset reset(stmt);
  Binder binder(stmt);
  binder.Bound(from).Bound(to);
  if (binder.rc() != SQLITE_OK) return Error(binder.rc(), kOp);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) out.push_back(ColumnBytes(stmt, 0));
  if (rc != SQLITE_DONE) return Error(rc, kOp);
  return out;
}

absl::Status SqliteStore::PutOwnHeader(Round round, std::string_view header) {
  absl::Status storable = CheckStorable(path_, round, "PutOwnHeader");
  if (!storable.ok()) return storable;
  return Exec(kPutOwnHeader, "PutOwnHeader", [&](Binder& b) {
    b.Int(static_cast<int64_t>(round)).Blob(header);
  });
}

absl::StatusOr<std::optional<std::string>> SqliteStore::GetOwnHeader(Round round) {
  return QueryBlob(kGetOwnHeader, "GetOwnHeader", [&](Binder& b) { b.Bound(round); });
}

absl::StatusOr<Round> SqliteStore::LastOwnHeaderRound() {
  absl::StatusOr<std::optional<int64_t>> last =
      QueryInt(kLastOwnHeaderRound, "LastOwnHeaderRound", NoParameters);
  if (!last.ok()) return last.status();
  return static_cast<Round>(last->value_or(0));
}

absl::Status SqliteStore::PutVote(AuthorityIndex author, Round round, const Digest& header) {
  absl::Status storable = CheckStorable(path_, round, "PutVote");
  if (!storable.ok()) return storable;
  return Exec(kPutVote, "PutVote", [&](Binder& b) {
    b.Int(static_cast<int64_t>(round)).Int(author).Blob(header);
  });
}

absl::StatusOr<std::optional<Digest>> SqliteStore::GetVote(AuthorityIndex author, Round round) {
  absl::StatusOr<std::optional<std::string>> raw =
      QueryBlob(kGetVote, "GetVote", [&](Binder& b) { b.Bound(round).Int(author); });
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<Digest>();
  absl::StatusOr<Digest> digest = Digest::FromBytes(**raw);
  if (!digest.ok()) {
    return absl::DataLossError(absl::StrCat("sqlite store ", path_, ": GetVote: stored ",
                                            digest.status().message()));
  }
  return std::optional<Digest>(*digest);
}

absl::Status SqliteStore::AppendCommitted(const CommittedSubDagRow& row,
                                          std::string_view consensus_state) {
  constexpr absl::string_view kOp = "AppendCommitted";
  return Atomically(kOp, [&]() -> absl::Status {
    absl::StatusOr<uint64_t> next = NextCommitIndex();
    if (!next.ok()) return next.status();
    if (row.index != *next) {
      return absl::FailedPreconditionError(
          absl::StrCat("committed output: appending index ", row.index,
                       " but the next index is ", *next));
    }
    absl::Status status = Exec(kInsertCommitted, kOp, [&](Binder& b) {
      b.Int(static_cast<int64_t>(row.index)).Blob(row.sub_dag);
    });
    if (!status.ok()) return status;
    return Exec(kUpdateConsensusState, kOp, [&](Binder& b) { b.Blob(consensus_state); });
  });
}

absl::StatusOr<std::optional<std::string>> SqliteStore::GetConsensusState() {
  return QueryBlob(kGetConsensusState, "GetConsensusState", NoParameters);
}

absl::StatusOr<uint64_t> SqliteStore::NextCommitIndex() {
  absl::StatusOr<std::optional<int64_t>> next =
      QueryInt(kGetNextCommitIndex, "NextCommitIndex", NoParameters);
  if (!next.ok()) return next.status();
  if (!next->has_value() || **next < 0) {
    return absl::DataLossError(absl::StrCat("sqlite store ", path_,
                                            ": NextCommitIndex: the consensus_state row is "
                                            "missing or invalid"));
  }
  return static_cast<uint64_t>(**next);
}

absl::StatusOr<std::vector<CommittedSubDagRow>> SqliteStore::CommittedFrom(uint64_t from,
                                                                           size_t limit) {
  constexpr absl::string_view kOp = "CommittedFrom";
  sqlite3_stmt* stmt = statement(kCommittedFrom);
  ScopedReset reset(stmt);
  Binder binder(stmt);
  // A negative LIMIT means "no limit" to SQLite, so clamp rather than cast.
  binder.Bound(from).Int(static_cast<int64_t>(std::min<uint64_t>(limit, kInt64Max)));
  if (binder.rc() != SQLITE_OK) return Error(binder.rc(), kOp);
  std::vector<CommittedSubDagRow> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    out.push_back({static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)), ColumnBytes(stmt, 1)});
  }
  if (rc != SQLITE_DONE) return Error(rc, kOp);
  return out;
}

absl::Status SqliteStore::PruneCommittedBelow(uint64_t index) {
  const int64_t changes_before = sqlite3_total_changes64(db_);
  absl::Status status =
      Exec(kPruneCommitted, "PruneCommittedBelow", [&](Binder& b) { b.Bound(index); });
  if (status.ok()) AfterPrune(changes_before);
  return status;
}

absl::Status SqliteStore::AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) {
  constexpr absl::string_view kOp = "AppendExecuted";
  if (row == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("sqlite store ", path_, ": ", kOp, ": no row"));
  }
  absl::Status storable = CheckStorable(path_, index, kOp, "index");
  if (!storable.ok()) return storable;
  return Atomically(kOp, [&]() -> absl::Status {
    absl::StatusOr<std::optional<int64_t>> last = QueryInt(kGetLastExecuted, kOp, NoParameters);
    if (!last.ok()) return last.status();
    // Before the first append any index goes; after it, only the next one.
    if (last->has_value() && index != static_cast<uint64_t>(**last) + 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "executed output: appending index ", index, " but the next index is ",
          static_cast<uint64_t>(**last) + 1));
    }
    absl::Status status = Exec(kInsertExecuted, kOp, [&](Binder& b) {
      b.Int(static_cast<int64_t>(index)).Int(static_cast<int64_t>(row->size())).Blob(*row);
    });
    if (!status.ok()) return status;
    return Exec(kSetLastExecuted, kOp,
                [&](Binder& b) { b.Int(static_cast<int64_t>(index)); });
  });
}

absl::StatusOr<uint64_t> SqliteStore::NextExecutedIndex() {
  absl::StatusOr<std::optional<int64_t>> last =
      QueryInt(kGetLastExecuted, "NextExecutedIndex", NoParameters);
  if (!last.ok()) return last.status();
  if (!last->has_value()) return uint64_t{0};
  if (**last < 0) {
    return absl::DataLossError(absl::StrCat("sqlite store ", path_,
                                            ": NextExecutedIndex: last_executed_index is ",
                                            **last));
  }
  return static_cast<uint64_t>(**last) + 1;
}

absl::StatusOr<std::vector<ExecutedRow>> SqliteStore::ExecutedFrom(uint64_t from, size_t limit) {
  constexpr absl::string_view kOp = "ExecutedFrom";
  sqlite3_stmt* stmt = statement(kExecutedFrom);
  ScopedReset reset(stmt);
  Binder binder(stmt);
  // A negative LIMIT means "no limit" to SQLite, so clamp rather than cast.
  binder.Bound(from).Int(static_cast<int64_t>(std::min<uint64_t>(limit, kInt64Max)));
  if (binder.rc() != SQLITE_OK) return Error(binder.rc(), kOp);
  std::vector<ExecutedRow> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    out.push_back({static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)),
                   std::make_shared<const std::string>(ColumnBytes(stmt, 1))});
  }
  if (rc != SQLITE_DONE) return Error(rc, kOp);
  return out;
}

absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> SqliteStore::ExecutedSizes() {
  constexpr absl::string_view kOp = "ExecutedSizes";
  sqlite3_stmt* stmt = statement(kExecutedSizes);
  ScopedReset reset(stmt);
  std::vector<std::pair<uint64_t, uint64_t>> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const int64_t index = sqlite3_column_int64(stmt, 0);
    const int64_t size = sqlite3_column_int64(stmt, 1);
    if (index < 0 || size < 0) {
      return absl::DataLossError(absl::StrCat("sqlite store ", path_, ": ", kOp,
                                              ": a stored row has index ", index, " and size ",
                                              size));
    }
    out.emplace_back(static_cast<uint64_t>(index), static_cast<uint64_t>(size));
  }
  if (rc != SQLITE_DONE) return Error(rc, kOp);
  return out;
}

absl::Status SqliteStore::PruneExecutedBelow(uint64_t index) {
  const int64_t changes_before = sqlite3_total_changes64(db_);
  absl::Status status =
      Exec(kPruneExecuted, "PruneExecutedBelow", [&](Binder& b) { b.Bound(index); });
  if (status.ok()) AfterPrune(changes_before);
  return status;
}

absl::Status SqliteStore::PruneRoundsBelow(Round round) {
  constexpr absl::string_view kOp = "PruneRoundsBelow";
  const int64_t changes_before = sqlite3_total_changes64(db_);
  absl::Status pruned = Atomically(kOp, [&]() -> absl::Status {
    for (StatementId id : {kPruneCertificates, kPruneOwnHeaders, kPruneVotes, kPrunePayload}) {
      absl::Status status = Exec(id, kOp, [&](Binder& b) { b.Bound(round); });
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  });
  if (pruned.ok()) AfterPrune(changes_before);
  return pruned;
}

absl::Status SqliteStore::RunInTransaction(const std::function<absl::Status()>& body) {
  return Atomically("RunInTransaction", body);
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> SqliteStore::RowCounts() {
  std::vector<std::pair<std::string, int64_t>> counts;
  for (const auto& [table, id] : kCountedTables) {
    absl::StatusOr<std::optional<int64_t>> count =
        QueryInt(id, absl::StrCat("RowCounts ", table), NoParameters);
    if (!count.ok()) return count.status();
    counts.emplace_back(table, count->value_or(0));
  }
  return counts;
}

absl::StatusOr<SqliteFileSizes> SqliteStore::FileSizes() const {
  SqliteFileSizes sizes;
  if (path_ == ":memory:") return sizes;
  absl::StatusOr<uint64_t> main_bytes = SizeOfFile(path_, "FileSizes");
  if (!main_bytes.ok()) return main_bytes.status();
  absl::StatusOr<uint64_t> wal_bytes = SizeOfFile(path_ + "-wal", "FileSizes");
  if (!wal_bytes.ok()) return wal_bytes.status();
  sizes.main_bytes = *main_bytes;
  sizes.wal_bytes = *wal_bytes;
  return sizes;
}

}  // namespace narwhal
