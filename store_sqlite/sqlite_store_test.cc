// SqliteStore behaviour that MemoryStore cannot show: durability across
// reopen, real rollback, nesting, options, and every way a file can be wrong.
// The per-method semantics shared with MemoryStore live in
// sqlite_store_contract_test.cc.
#include "store_sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace narwhal {
namespace {

using ::testing::HasSubstr;

Digest D(uint8_t seed) {
  Digest digest;
  for (size_t i = 0; i < Digest::kSize; ++i) digest.bytes[i] = static_cast<uint8_t>(seed + i);
  return digest;
}

// A fresh path under Bazel's per-test temp dir, with no leftovers.
std::string FreshPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path,
                                       const SqliteOptions& options = SqliteOptions{}) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// Runs `sql` on `path` through a plain SQLite connection, as a foreign tool
// (or a bad actor) would.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

off_t FileSize(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 ? info.st_size : -1;
}

TEST(SqliteStoreTest, InMemoryStoreWorks) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutBatch(D(1), "batch", 1).ok());
  EXPECT_EQ(*store->GetBatch(D(1)), "batch");
}

TEST(SqliteStoreTest, InMemoryStoresAreIndependent) {
  std::unique_ptr<SqliteStore> a = OpenOrDie(":memory:");
  std::unique_ptr<SqliteStore> b = OpenOrDie(":memory:");
  ASSERT_TRUE(a->PutBatch(D(1), "batch", 1).ok());
  EXPECT_EQ(*b->GetBatch(D(1)), std::nullopt);
}

TEST(SqliteStoreTest, SynchronousAcceptsTheThreeDocumentedValues) {
  for (const char* value : {"FULL", "NORMAL", "OFF"}) {
    SqliteOptions options;
    options.synchronous = value;
    EXPECT_NE(OpenOrDie(FreshPath(absl::StrCat("sync_", value, ".db")), options), nullptr);
  }
}

TEST(SqliteStoreTest, SynchronousRejectsAnythingElseNamingTheValue) {
  for (const char* value : {"EXTRA", "full", "", "FULL; DROP TABLE batches"}) {
    SqliteOptions options;
    options.synchronous = value;
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(":memory:", options);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument) << value;
    EXPECT_THAT(store.status().message(), HasSubstr(absl::StrCat("\"", value, "\"")));
  }
}

TEST(SqliteStoreTest, PageSizeAppliesToNewFilesAndIsValidated) {
  for (int bytes : {0, 1000, 131072}) {
    SqliteOptions options;
    options.page_size_bytes = bytes;
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(":memory:", options);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument) << bytes;
    EXPECT_THAT(store.status().message(), HasSubstr(absl::StrCat("got ", bytes)));
  }
  const std::string path = FreshPath("page_size.db");
  SqliteOptions options;
  options.page_size_bytes = 65536;
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path, options);
    ASSERT_TRUE(store->PutBatch(D(1), std::string(200000, 'x'), 1).ok());
  }
  // Reopening with another page size keeps the file's own and its data.
  options.page_size_bytes = 1024;
  std::unique_ptr<SqliteStore> store = OpenOrDie(path, options);
  EXPECT_EQ(store->GetBatch(D(1))->value().size(), 200000u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 65536);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStoreTest, EmptyPathIsRefused) {
  EXPECT_EQ(SqliteStore::Open("", SqliteOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SqliteStoreTest, MissingFileWithoutCreateIsNotFoundAndCreatesNothing) {
  const std::string path = FreshPath("missing.db");
  SqliteOptions options;
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_EQ(FileSize(path), -1);
}

TEST(SqliteStoreTest, MissingDirectoryIsAClearError) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(FreshPath("no_such_dir/store.db"), SqliteOptions{});
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("no_such_dir/store.db"));
}

TEST(SqliteStoreTest, EveryTableSurvivesCloseAndReopen) {
  const std::string path = FreshPath("reopen.db");
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->PutBatch(D(1), "batch", 2).ok());
    ASSERT_TRUE(store->PutPayload(D(1), 3, 2).ok());
    ASSERT_TRUE(store->PutCertificate(D(2), 2, 1, "cert").ok());
    ASSERT_TRUE(store->PutOwnHeader(2, "header").ok());
    ASSERT_TRUE(store->PutVote(1, 2, D(3)).ok());
    ASSERT_TRUE(store->PutOwnPayload({D(4), 1, 77}).ok());
    for (uint64_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(store->AppendCommitted({i, absl::StrCat("d", i)}, absl::StrCat("s", i)).ok());
    }
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->GetBatch(D(1)), "batch");
  EXPECT_TRUE(*store->HasPayload(D(1), 3));
  EXPECT_EQ(*store->GetCertificate(D(2)), "cert");
  EXPECT_EQ(*store->CertificatesInRounds(2, 2), std::vector<std::string>{"cert"});
  EXPECT_EQ(*store->GetOwnHeader(2), "header");
  EXPECT_EQ(*store->LastOwnHeaderRound(), 2u);
  EXPECT_EQ(*store->GetVote(1, 2), D(3));
  EXPECT_EQ(*store->ListOwnPayload(), (std::vector<OwnPayloadRow>{{D(4), 1, 77}}));
  EXPECT_EQ(*store->GetConsensusState(), "s2");
  EXPECT_EQ(store->CommittedFrom(0, 10)->size(), 3u);
  EXPECT_EQ(*store->NextCommitIndex(), 3u);
}

// A restarted primary must find its unheadered batches in the order it first
// learned of them; a seq reused after removing the newest row would break that.
TEST(SqliteStoreTest, OwnPayloadKeepsInsertionOrderAcrossReopen) {
  const std::string path = FreshPath("own_payload.db");
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    ASSERT_TRUE(store->PutOwnPayload({D(9), 0, 1}).ok());
    ASSERT_TRUE(store->PutOwnPayload({D(5), 1, 2}).ok());
    ASSERT_TRUE(store->RemoveOwnPayload(D(5), 1).ok());
  }
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    ASSERT_TRUE(store->PutOwnPayload({D(1), 0, 3}).ok());
    ASSERT_TRUE(store->PutOwnPayload({D(9), 0, 4}).ok());  // re-put: stays first
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  EXPECT_EQ(*store->ListOwnPayload(), (std::vector<OwnPayloadRow>{{D(9), 0, 1}, {D(1), 0, 3}}));
  ASSERT_TRUE(store->PutOwnPayload({D(5), 1, 5}).ok());
  EXPECT_EQ(*store->ListOwnPayload(),
            (std::vector<OwnPayloadRow>{{D(9), 0, 1}, {D(1), 0, 3}, {D(5), 1, 5}}));
}

TEST(SqliteStoreTest, NextCommitIndexContinuesAfterPruneAndReopen) {
  const std::string path = FreshPath("next_index.db");
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(store->AppendCommitted({i, "d"}, "s").ok());
    ASSERT_TRUE(store->PruneCommittedBelow(5).ok());
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  EXPECT_TRUE(store->CommittedFrom(0, 10)->empty());
  EXPECT_EQ(*store->NextCommitIndex(), 5u);
  EXPECT_EQ(store->AppendCommitted({0, "d"}, "s").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->AppendCommitted({6, "d"}, "s").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store->AppendCommitted({5, "d5"}, "s5").ok());
}

TEST(SqliteStoreTest, AppendCommittedGapIsRefusedWithBothIndexes) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  ASSERT_TRUE(store->AppendCommitted({0, "d"}, "s").ok());
  absl::Status gap = store->AppendCommitted({2, "d"}, "s2");
  EXPECT_EQ(gap.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(gap.message(), HasSubstr("appending index 2 but the next index is 1"));
  EXPECT_EQ(*store->GetConsensusState(), "s");
  EXPECT_EQ(store->CommittedFrom(0, 10)->size(), 1u);
}

TEST(SqliteStoreTest, SchemaVersionMismatchIsFailedPrecondition) {
  const std::string path = FreshPath("version.db");
  ASSERT_NE(OpenOrDie(path), nullptr);
  RawExec(path, "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, SqliteOptions{});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(),
              HasSubstr(absl::StrCat("schema version 99, this build expects ",
                                     SqliteStore::kSchemaVersion)));
  EXPECT_THAT(store.status().message(), HasSubstr(path));
}

TEST(SqliteStoreTest, ForeignSqliteDatabaseIsRefused) {
  const std::string path = FreshPath("foreign.db");
  RawExec(path, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, SqliteOptions{});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("not a Narwhal store"));
}

TEST(SqliteStoreTest, GarbageFileIsDataLoss) {
  const std::string path = FreshPath("garbage.db");
  std::string garbage;
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&garbage, "this is not a database ", i, "\n");
  for (bool check_integrity : {true, false}) {
    WriteFile(path, garbage);
    SqliteOptions options;
    options.check_integrity_on_open = check_integrity;
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, options);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
    EXPECT_THAT(store.status().message(), HasSubstr("not a database"));
  }
}

// Fills a store with enough rows to span many pages, then cuts the file.
std::string MakeTruncatedStore(const std::string& name, double keep_fraction) {
  const std::string path = FreshPath(name);
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    const std::string blob(3000, 'x');
    for (int i = 0; i < 200; ++i) {
      EXPECT_TRUE(store->PutCertificate(D(static_cast<uint8_t>(i)), i / 4, i % 4,
                                        absl::StrCat(i, blob)).ok());
      EXPECT_TRUE(store->PutVote(i % 4, i / 4, D(static_cast<uint8_t>(i))).ok());
    }
  }
  const off_t size = FileSize(path);
  EXPECT_GT(size, 100 * 1024);
  EXPECT_EQ(truncate(path.c_str(), static_cast<off_t>(size * keep_fraction)), 0);
  return path;
}

TEST(SqliteStoreTest, TruncatedFileFailsOpen) {
  const std::string path = MakeTruncatedStore("truncated.db", 0.5);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, SqliteOptions{});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr(path));
}

TEST(SqliteStoreTest, FileCutInsideTheHeaderFailsOpen) {
  const std::string path = MakeTruncatedStore("truncated_header.db", 0.0001);
  EXPECT_FALSE(SqliteStore::Open(path, SqliteOptions{}).ok());
}

TEST(SqliteStoreTest, CorruptStoredDigestIsDataLoss) {
  const std::string path = FreshPath("bad_digest.db");
  ASSERT_TRUE(OpenOrDie(path)->PutVote(1, 2, D(3)).ok());
  RawExec(path, "UPDATE votes SET header_digest = x'0102'");
  EXPECT_EQ(OpenOrDie(path)->GetVote(1, 2).status().code(), absl::StatusCode::kDataLoss);
}

TEST(SqliteStoreTest, RoundAboveInt64IsRefusedNotWrapped) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  const Round too_big = std::numeric_limits<Round>::max();
  EXPECT_EQ(store->PutBatch(D(1), "b", too_big).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutOwnHeader(too_big, "h").code(), absl::StatusCode::kInvalidArgument);
  const Round largest = std::numeric_limits<int64_t>::max();
  ASSERT_TRUE(store->PutOwnHeader(largest, "h").ok());
  EXPECT_EQ(*store->LastOwnHeaderRound(), largest);
  EXPECT_EQ(store->CertificatesInRounds(0, too_big)->size(), 0u);
  ASSERT_TRUE(store->PruneRoundsBelow(too_big).ok());
  EXPECT_EQ(*store->LastOwnHeaderRound(), 0u);
}

TEST(SqliteStoreTest, FailedTransactionLeavesNothingOnDisk) {
  const std::string path = FreshPath("rollback.db");
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    absl::Status status = store->RunInTransaction([&]() -> absl::Status {
      EXPECT_TRUE(store->PutBatch(D(1), "b", 1).ok());
      EXPECT_TRUE(store->PutCertificate(D(2), 1, 0, "c").ok());
      EXPECT_TRUE(store->AppendCommitted({0, "d"}, "s").ok());
      EXPECT_TRUE(store->PruneRoundsBelow(0).ok());
      return absl::InternalError("body failed");
    });
    EXPECT_EQ(status, absl::InternalError("body failed"));
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  EXPECT_EQ(*store->GetBatch(D(1)), std::nullopt);
  EXPECT_EQ(*store->GetCertificate(D(2)), std::nullopt);
  EXPECT_EQ(*store->NextCommitIndex(), 0u);
  EXPECT_EQ(*store->GetConsensusState(), std::nullopt);
}

TEST(SqliteStoreTest, MultiStatementWritesNestInsideATransaction) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  ASSERT_TRUE(store->PutOwnHeader(1, "old").ok());
  absl::Status status = store->RunInTransaction([&]() -> absl::Status {
    absl::Status s = store->AppendCommitted({0, "d0"}, "s0");
    if (s.ok()) s = store->AppendCommitted({1, "d1"}, "s1");
    if (s.ok()) s = store->PruneRoundsBelow(2);
    if (s.ok()) s = store->PutBatch(D(1), "b", 1);
    return s;
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*store->NextCommitIndex(), 2u);
  EXPECT_EQ(*store->GetOwnHeader(1), std::nullopt);
  EXPECT_EQ(*store->GetBatch(D(1)), "b");
}

TEST(SqliteStoreTest, RefusedAppendInsideTransactionDoesNotAdvanceIndex) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  absl::Status status = store->RunInTransaction([&]() -> absl::Status {
    EXPECT_TRUE(store->AppendCommitted({0, "d0"}, "s0").ok());
    EXPECT_FALSE(store->AppendCommitted({5, "d5"}, "s5").ok());
    return absl::OkStatus();  // the caller chose to go on
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*store->NextCommitIndex(), 1u);
  EXPECT_EQ(*store->GetConsensusState(), "s0");
}

TEST(SqliteStoreTest, FailedInnerTransactionUndoesOnlyItself) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  absl::Status status = store->RunInTransaction([&]() -> absl::Status {
    EXPECT_TRUE(store->PutBatch(D(1), "outer before", 1).ok());
    absl::Status inner = store->RunInTransaction([&]() -> absl::Status {
      EXPECT_TRUE(store->PutBatch(D(2), "inner", 1).ok());
      return absl::InternalError("inner failed");
    });
    EXPECT_EQ(inner.code(), absl::StatusCode::kInternal);
    return store->PutBatch(D(3), "outer after", 1);
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*store->GetBatch(D(1)), "outer before");
  EXPECT_EQ(*store->GetBatch(D(2)), std::nullopt);
  EXPECT_EQ(*store->GetBatch(D(3)), "outer after");
}

TEST(SqliteStoreTest, FailedInnerTransactionPropagatedUndoesEverything) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  absl::Status status = store->RunInTransaction([&]() -> absl::Status {
    EXPECT_TRUE(store->PutBatch(D(1), "outer", 1).ok());
    return store->RunInTransaction([&]() -> absl::Status {
      EXPECT_TRUE(store->PutBatch(D(2), "inner", 1).ok());
      return absl::InternalError("inner failed");
    });
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(*store->GetBatch(D(1)), std::nullopt);
  EXPECT_EQ(*store->GetBatch(D(2)), std::nullopt);
  // The store is usable afterwards: no transaction was left open.
  ASSERT_TRUE(store->PutBatch(D(3), "after", 1).ok());
  ASSERT_TRUE(store->RunInTransaction([] { return absl::OkStatus(); }).ok());
}

SqliteOptions TinyDisk() {
  SqliteOptions options;
  options.max_page_count = 64;  // 256 KiB with 4 KiB pages
  return options;
}

TEST(SqliteStoreTest, FullDiskIsResourceExhaustedAndStoreStaysUsable) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(FreshPath("full.db"), TinyDisk());
  ASSERT_NE(store, nullptr);
  absl::Status full = store->PutBatch(D(1), std::string(1 << 20, 'x'), 1);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_THAT(full.message(), HasSubstr("PutBatch"));
  EXPECT_THAT(full.message(), HasSubstr("full"));
  EXPECT_EQ(*store->GetBatch(D(1)), std::nullopt);
  EXPECT_TRUE(store->PutBatch(D(2), "small", 1).ok());
  EXPECT_EQ(*store->GetBatch(D(2)), "small");
}

TEST(SqliteStoreTest, FullDiskInsideTransactionLeavesNothingWritten) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(FreshPath("full_txn.db"), TinyDisk());
  ASSERT_NE(store, nullptr);
  absl::Status status = store->RunInTransaction([&]() -> absl::Status {
    EXPECT_TRUE(store->PutBatch(D(1), "small", 1).ok());
    absl::Status s = store->PutBatch(D(2), std::string(1 << 20, 'x'), 1);
    // A careless body that ignores the error must not get a partial commit.
    absl::Status ignored = store->PutBatch(D(3), "after the failure", 1);
    (void)ignored;
    return s;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(*store->GetBatch(D(1)), std::nullopt);
  EXPECT_EQ(*store->GetBatch(D(3)), std::nullopt);
  EXPECT_TRUE(store->PutBatch(D(4), "small", 1).ok());
}

// Opens `path` as an unprivileged user (root ignores permissions) in a forked
// child; exits 0 iff Open fails with PermissionDenied, printing the status.
void OpenAsNobodyAndExit(const std::string& path) {
  if (geteuid() == 0 && setuid(65534) != 0) std::exit(2);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, SqliteOptions{});
  std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
  std::exit(store.status().code() == absl::StatusCode::kPermissionDenied ? 0 : 1);
}

// Under /tmp rather than TEST_TMPDIR, whose parents an unprivileged user may
// not be allowed to traverse.
std::string MakeDirUnderTmp() {
  char dir[] = "/tmp/narwhal_sqlite_store_test_XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  return dir;
}

TEST(SqliteStoreTest, ReadOnlyDirectoryIsPermissionDenied) {
  std::error_code ignored_error;
  const std::string dir = MakeDirUnderTmp();
  ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
  EXPECT_EXIT(OpenAsNobodyAndExit(dir + "/store.db"), testing::ExitedWithCode(0),
              "store.db.*Permission denied");
  std::filesystem::remove_all(dir, ignored_error);
}

TEST(SqliteStoreTest, ReadOnlyFileIsPermissionDenied) {
  std::error_code ignored_error;
  const std::string dir = MakeDirUnderTmp();
  const std::string path = dir + "/store.db";
  ASSERT_NE(OpenOrDie(path), nullptr);
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0777), 0);
  EXPECT_EXIT(OpenAsNobodyAndExit(path), testing::ExitedWithCode(0), "store.db.*not writable");
  // A refused open leaves no -wal or -shm behind.
  EXPECT_EQ(FileSize(path + "-wal"), -1);
  EXPECT_EQ(FileSize(path + "-shm"), -1);
  std::filesystem::remove_all(dir, ignored_error);
}

TEST(SqliteStoreTest, WalFileIsFoldedBackOnClose) {
  const std::string path = FreshPath("wal.db");
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    ASSERT_TRUE(store->PutBatch(D(1), "b", 1).ok());
    EXPECT_GE(FileSize(path + "-wal"), 0) << "WAL mode is on while open";
  }
  EXPECT_EQ(FileSize(path + "-wal"), -1);
}

TEST(SqliteStoreTest, BackgroundCheckpointKeepsTheLogBoundedAndTheDataIntact) {
  const std::string path = FreshPath("background_checkpoint.db");
  SqliteOptions options;
  options.synchronous = "NORMAL";
  options.page_size_bytes = 4096;
  options.background_checkpoint = true;
  options.checkpoint_frames = 50;
  options.checkpoint_inline_frames = 400;
  const std::string batch(20'000, 'x');  // 5 pages
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path, options);
    ASSERT_NE(store, nullptr);
    int64_t wal_max = 0;
    for (int i = 0; i < 600; ++i) {
      ASSERT_TRUE(store->PutBatch(D(i), batch, i).ok());
      if (i % 10 == 0) ASSERT_TRUE(store->PruneBatchesBelow(i > 40 ? i - 40 : 0).ok());
      wal_max = std::max(wal_max, FileSize(path + "-wal"));
    }
    // Without any checkpoint the log would hold every page written: over
    // 3,000 frames. The inline limit bounds it near 400 frames (plus what
    // the writes between a checkpoint and the log's restart add), whatever
    // the thread does.
    EXPECT_LT(wal_max, 600 * (4096 + 24) + 32);
    auto got = store->GetBatch(D(599));
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ(**got, batch);
  }
  EXPECT_EQ(FileSize(path + "-wal"), -1) << "the last close folds the log back";
  std::unique_ptr<SqliteStore> reopened = OpenOrDie(path, options);
  ASSERT_NE(reopened, nullptr);
  auto got = reopened->GetBatch(D(580));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, batch);
  got = reopened->GetBatch(D(10));
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(SqliteStoreTest, BackgroundCheckpointLimitsAreValidated) {
  SqliteOptions options;
  options.background_checkpoint = true;
  options.checkpoint_frames = 100;
  options.checkpoint_inline_frames = 50;
  auto store = SqliteStore::Open(FreshPath("bad_checkpoint.db"), options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("checkpoint_frames"), std::string::npos);
}

}  // namespace
}  // namespace narwhal
