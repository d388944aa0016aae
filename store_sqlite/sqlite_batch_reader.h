// SqliteBatchReader: a read-only view of the batches table of a worker's
// store file (see SqliteStore), for another process on the same machine: the
// primary's executor reads the batches its own workers stored instead of
// asking them over the network for every committed batch.
//
//   absl::StatusOr<std::unique_ptr<SqliteBatchReader>> reader =
//       SqliteBatchReader::Open("/var/lib/narwhal/worker-0.db");
//   if (!reader.ok()) return reader.status();  // names the path and the cause
//   absl::StatusOr<std::optional<std::string>> batch = (*reader)->GetBatch(digest);
//
// The file must exist and be a Narwhal store of this build's schema version;
// nothing is ever written (SQLite, in WAL mode, still needs the -wal and -shm
// files beside it and write access to -shm to read consistently while the
// owner writes). Each read is its own short transaction, so the reader never
// holds back the owner's checkpoints.
//
// Thread safety: none; one reader belongs to one thread.
#ifndef NARWHAL_STORE_SQLITE_SQLITE_BATCH_READER_H_
#define NARWHAL_STORE_SQLITE_SQLITE_BATCH_READER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/types.h"

struct sqlite3;
struct sqlite3_stmt;

namespace narwhal {

class SqliteBatchReader {
 public:
  // NotFound if there is no file at `path` (it is never created);
  // FailedPrecondition if it is not a Narwhal store of kSchemaVersion.
  static absl::StatusOr<std::unique_ptr<SqliteBatchReader>> Open(const std::string& path,
                                                                 int busy_timeout_ms = 1000);
  ~SqliteBatchReader();
  SqliteBatchReader(const SqliteBatchReader&) = delete;
  SqliteBatchReader& operator=(const SqliteBatchReader&) = delete;

  // The canonical bytes of the batch, nullopt if the file does not hold it.
  absl::StatusOr<std::optional<std::string>> GetBatch(const Digest& digest);

 private:
  SqliteBatchReader(sqlite3* db, sqlite3_stmt* get, std::string path)
      : db_(db), get_(get), path_(std::move(path)) {}
  sqlite3* db_;
  sqlite3_stmt* get_;
  const std::string path_;
};

}  // namespace narwhal

#endif  // NARWHAL_STORE_SQLITE_SQLITE_BATCH_READER_H_
