#include "store_sqlite/sqlite_batch_reader.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "store_sqlite/sqlite_store.h"

namespace narwhal {
namespace {

absl::Status ReaderError(sqlite3* db, const std::string& path, int rc, absl::string_view op) {
  return absl::UnavailableError(absl::StrCat("sqlite batch reader ", path, ": ", op, ": ",
                                             db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteBatchReader>> SqliteBatchReader::Open(const std::string& path,
                                                                           int busy_timeout_ms) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("sqlite batch reader ", path, ": no such file"));
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = ReaderError(db, path, rc, "open");
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, busy_timeout_ms);
  sqlite3_stmt* version = nullptr;
  rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &version,
                          nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = absl::FailedPreconditionError(
        absl::StrCat("sqlite batch reader ", path, ": not a Narwhal store: ", sqlite3_errmsg(db)));
    sqlite3_close(db);
    return s;
  }
  rc = sqlite3_step(version);
  const bool version_ok =
      rc == SQLITE_ROW && sqlite3_column_int64(version, 0) == SqliteStore::kSchemaVersion;
  sqlite3_finalize(version);
  if (!version_ok) {
    sqlite3_close(db);
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite batch reader ", path, ": schema version is not ", SqliteStore::kSchemaVersion));
  }
  sqlite3_stmt* get = nullptr;
  rc = sqlite3_prepare_v3(db, "SELECT bytes FROM batches WHERE digest = ?1", -1,
                          SQLITE_PREPARE_PERSISTENT, &get, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = ReaderError(db, path, rc, "prepare");
    sqlite3_close(db);
    return s;
  }
  return std::unique_ptr<SqliteBatchReader>(new SqliteBatchReader(db, get, path));
}

SqliteBatchReader::~SqliteBatchReader() {
  sqlite3_finalize(get_);
  sqlite3_close(db_);
}

absl::StatusOr<std::optional<std::string>> SqliteBatchReader::GetBatch(const Digest& digest) {
  sqlite3_reset(get_);
  int rc = sqlite3_bind_blob(get_, 1, digest.bytes.data(), static_cast<int>(Digest::kSize),
                             SQLITE_STATIC);
  if (rc != SQLITE_OK) return ReaderError(db_, path_, rc, "bind");
  rc = sqlite3_step(get_);
  std::optional<std::string> out;
  if (rc == SQLITE_ROW) {
    const void* data = sqlite3_column_blob(get_, 0);
    const int size = sqlite3_column_bytes(get_, 0);
    out.emplace(static_cast<const char*>(data), data == nullptr ? 0 : static_cast<size_t>(size));
  }
  absl::Status status = rc == SQLITE_ROW || rc == SQLITE_DONE
                            ? absl::OkStatus()
                            : ReaderError(db_, path_, rc, "GetBatch");
  // Ends the read transaction at once: an open one would pin the owner's WAL.
  sqlite3_reset(get_);
  sqlite3_clear_bindings(get_);
  if (!status.ok()) return status;
  return out;
}

}  // namespace narwhal
