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

// The first column of the first row of `sql` on `path`, through a plain
// SQLite connection (which may run beside an open store: WAL mode).
int64_t RawQueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  } else {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

std::shared_ptr<const std::string> Row(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
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

// The executor's output and its position outlive a restart, also after a
// retention that removed every row.
TEST(SqliteStoreTest, ExecutedRowsAndNextIndexSurviveReopen) {
  const std::string path = FreshPath("executed_reopen.db");
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    for (uint64_t i = 3; i < 8; ++i) ASSERT_TRUE(store->AppendExecuted(i, Row(absl::StrCat("e", i))).ok());
    ASSERT_TRUE(store->PruneExecutedBelow(6).ok());
  }
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    EXPECT_EQ(*store->NextExecutedIndex(), 8u);
    std::vector<ExecutedRow> rows = *store->ExecutedFrom(0, 10);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].index, 6u);
    EXPECT_EQ(*rows[0].row, "e6");
    EXPECT_EQ(rows[1].index, 7u);
    EXPECT_EQ(*rows[1].row, "e7");
    EXPECT_EQ(*store->ExecutedSizes(),
              (std::vector<std::pair<uint64_t, uint64_t>>{{6, 2}, {7, 2}}));
    ASSERT_TRUE(store->PruneExecutedBelow(8).ok());
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  EXPECT_TRUE(store->ExecutedFrom(0, 10)->empty());
  EXPECT_EQ(*store->NextExecutedIndex(), 8u);
  EXPECT_EQ(store->AppendExecuted(0, Row("e")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->AppendExecuted(9, Row("e")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store->AppendExecuted(8, Row("e8")).ok());
}

TEST(SqliteStoreTest, ExecutedIndexAboveInt64IsRefusedNotWrapped) {
  std::unique_ptr<SqliteStore> store = OpenOrDie(":memory:");
  const uint64_t largest = std::numeric_limits<int64_t>::max();
  absl::Status too_big = store->AppendExecuted(largest + 1, Row("e"));
  EXPECT_EQ(too_big.code(), absl::StatusCode::kInvalidArgument) << too_big;
  EXPECT_THAT(too_big.message(), HasSubstr("AppendExecuted: index 9223372036854775808"));
  EXPECT_EQ(*store->NextExecutedIndex(), 0u);
  ASSERT_TRUE(store->AppendExecuted(largest, Row("last")).ok());
  EXPECT_EQ(*store->NextExecutedIndex(), largest + 1);
  EXPECT_EQ(store->AppendExecuted(largest + 1, Row("e")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*store->ExecutedSizes(), (std::vector<std::pair<uint64_t, uint64_t>>{{largest, 4}}));
  ASSERT_TRUE(store->PruneExecutedBelow(std::numeric_limits<uint64_t>::max()).ok());
  EXPECT_TRUE(store->ExecutedSizes()->empty());
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

// Version 2, exactly as the build before the executed table wrote it.
constexpr char kVersion2Schema[] = R"sql(
PRAGMA page_size=4096;
PRAGMA journal_mode=WAL;
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE batches(digest BLOB PRIMARY KEY, round INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE INDEX batches_by_round ON batches(round);
CREATE TABLE payload(digest BLOB NOT NULL, worker INTEGER NOT NULL, round INTEGER NOT NULL,
                     PRIMARY KEY(digest, worker)) WITHOUT ROWID;
CREATE INDEX payload_by_round ON payload(round);
CREATE TABLE own_payload(seq INTEGER PRIMARY KEY AUTOINCREMENT, digest BLOB NOT NULL,
                         worker INTEGER NOT NULL, created_at_us INTEGER NOT NULL,
                         UNIQUE(digest, worker));
CREATE TABLE certificates(digest BLOB PRIMARY KEY, round INTEGER NOT NULL,
                          author INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE UNIQUE INDEX certificates_by_round ON certificates(round, author);
CREATE TABLE own_headers(round INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE votes(author INTEGER NOT NULL, round INTEGER NOT NULL, header_digest BLOB NOT NULL,
                   PRIMARY KEY(round, author)) WITHOUT ROWID;
CREATE TABLE committed(idx INTEGER PRIMARY KEY, sub_dag BLOB NOT NULL);
CREATE TABLE consensus_state(id INTEGER PRIMARY KEY CHECK (id = 0),
                             next_commit_index INTEGER NOT NULL, state BLOB);
INSERT INTO consensus_state(id, next_commit_index, state) VALUES(0, 0, NULL);
INSERT INTO meta(key, value) VALUES('schema_version', 2);
)sql";

// A node upgraded in place keeps its store: the old file gains the executed
// table and keeps every row, and the upgrade sticks.
TEST(SqliteStoreTest, Version2FileIsUpgradedOnOpenAndKeepsItsData) {
  const std::string path = FreshPath("version2.db");
  RawExec(path, kVersion2Schema);
  RawExec(path, "INSERT INTO own_headers(round, bytes) VALUES(4, 'h4');"
                "INSERT INTO committed(idx, sub_dag) VALUES(0, 'd0');"
                "UPDATE consensus_state SET next_commit_index = 1, state = 's0';");
  ASSERT_EQ(RawQueryInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'executed'"), 0);
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->GetOwnHeader(4), "h4");
    EXPECT_EQ(*store->NextCommitIndex(), 1u);
    EXPECT_EQ(*store->GetConsensusState(), "s0");
    EXPECT_EQ(*store->NextExecutedIndex(), 0u);
    ASSERT_TRUE(store->AppendExecuted(2, Row("e2")).ok());
    EXPECT_EQ(store->RowCounts()->back(), (std::pair<std::string, int64_t>{"executed", 1}));
  }
  EXPECT_EQ(RawQueryInt(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
            SqliteStore::kSchemaVersion);
  EXPECT_EQ(RawQueryInt(path, "SELECT count(*) FROM executed"), 1);
  // Not vacuumed: an old file keeps its auto_vacuum mode (see the header).
  EXPECT_EQ(RawQueryInt(path, "PRAGMA auto_vacuum"), 0);
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->NextExecutedIndex(), 3u);
  EXPECT_EQ(*store->ExecutedFrom(0, 10)->front().row, "e2");
}

TEST(SqliteStoreTest, VersionOlderThanTheUpgradesIsRefused) {
  const std::string path = FreshPath("version1.db");
  RawExec(path, kVersion2Schema);
  RawExec(path, "UPDATE meta SET value = 1 WHERE key = 'schema_version'");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, SqliteOptions{});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 1, this build expects 3"));
  // The refused file is left as it was.
  EXPECT_EQ(RawQueryInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'executed'"), 0);
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

TEST(SqliteStoreTest, NewFilesUseIncrementalAutoVacuumAndABoundedLog) {
  const std::string path = FreshPath("auto_vacuum.db");
  ASSERT_NE(OpenOrDie(path), nullptr);
  EXPECT_EQ(RawQueryInt(path, "PRAGMA auto_vacuum"), 2);  // INCREMENTAL
}

std::string BatchBytes(int seed, size_t size) {
  std::string batch(size, '\0');
  for (size_t i = 0; i < batch.size(); ++i) batch[i] = static_cast<char>((seed + i) * 131 % 251);
  return batch;
}

// What a user saw: a worker's store stayed 18-23 MB plus a 99-132 MB -wal file
// while holding no batches. After the batches go and the store closes, the
// files must be the size of what is left.
TEST(SqliteStoreTest, PrunedBatchesGiveTheirSpaceBackAndCloseEmptiesTheLog) {
  for (int page_size : {4096, 65536}) {
    for (bool background : {false, true}) {
      SCOPED_TRACE(absl::StrCat("page_size ", page_size, " background ", background));
      const std::string path = FreshPath(absl::StrCat("shrink_", page_size, "_", background, ".db"));
      SqliteOptions options;
      options.synchronous = "NORMAL";
      options.page_size_bytes = page_size;
      options.background_checkpoint = background;
      {
        std::unique_ptr<SqliteStore> store = OpenOrDie(path, options);
        ASSERT_NE(store, nullptr);
        for (int i = 0; i < 40; ++i) {  // 40 x 500 KB = 20 MB
          ASSERT_TRUE(store->PutBatch(D(static_cast<uint8_t>(i)), BatchBytes(i, 500'000), i).ok());
        }
        ASSERT_TRUE(store->PutOwnHeader(1, "kept").ok());
        absl::StatusOr<SqliteFileSizes> full = store->FileSizes();
        ASSERT_TRUE(full.ok()) << full.status();
        EXPECT_GT(full->main_bytes + full->wal_bytes, 20'000'000u);
        ASSERT_TRUE(store->PruneBatchesBelow(1000).ok());
        EXPECT_EQ(store->RowCounts()->front(), (std::pair<std::string, int64_t>{"batches", 0}));
      }
      // An empty store is one page per table and index: 1.2 MB with 64 KiB
      // pages.
      EXPECT_LT(FileSize(path), 2'000'000) << "the main file keeps the pruned pages";
      EXPECT_LE(FileSize(path + "-wal"), 0) << "the log was left behind";
      std::unique_ptr<SqliteStore> store = OpenOrDie(path, options);
      EXPECT_EQ(*store->GetOwnHeader(1), "kept");
    }
  }
}

// A prune gives back a bounded number of pages; later prunes, even ones that
// delete nothing (a worker with no more batches), give back the rest.
TEST(SqliteStoreTest, FreePagesAreGivenBackInBoundedStepsOverLaterPrunes) {
  const std::string path = FreshPath("reclaim_steps.db");
  SqliteOptions options;
  options.synchronous = "OFF";
  std::unique_ptr<SqliteStore> store = OpenOrDie(path, options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 60; ++i) {  // 30 MB: more than three steps' worth of pages
    ASSERT_TRUE(store->PutBatch(D(static_cast<uint8_t>(i)), BatchBytes(i, 500'000), 1).ok());
  }
  const int64_t full_pages = RawQueryInt(path, "PRAGMA page_count");
  ASSERT_GT(full_pages, 3 * SqliteStore::kReclaimStepPagesMax);
  ASSERT_TRUE(store->PruneBatchesBelow(2).ok());
  const int64_t after_one = RawQueryInt(path, "PRAGMA page_count");
  // The file also loses the pointer-map pages (one per 819 pages of 4 KiB)
  // of the range cut off.
  EXPECT_LE(full_pages - after_one, SqliteStore::kReclaimStepPagesMax + 4) << "one step at most";
  EXPECT_GT(full_pages - after_one, SqliteStore::kReclaimStepPagesMax / 2) << "a whole step";
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store->PruneBatchesBelow(2).ok());
  EXPECT_LT(RawQueryInt(path, "PRAGMA page_count"), full_pages / 10);
  EXPECT_LT(RawQueryInt(path, "PRAGMA freelist_count"), full_pages / 100);
}

// A prune inside a transaction gives back its pages once that commits.
TEST(SqliteStoreTest, PruneInsideATransactionReclaimsAfterTheCommit) {
  const std::string path = FreshPath("reclaim_transaction.db");
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(store->AppendExecuted(i, Row(BatchBytes(static_cast<int>(i), 500'000))).ok());
  }
  const int64_t full_pages = RawQueryInt(path, "PRAGMA page_count");
  ASSERT_TRUE(store->RunInTransaction([&] { return store->PruneExecutedBelow(8); }).ok());
  EXPECT_LT(RawQueryInt(path, "PRAGMA page_count"), full_pages / 2);
  EXPECT_EQ(*store->NextExecutedIndex(), 8u);
}

// A file from before auto-vacuum cannot shrink, but everything else works.
TEST(SqliteStoreTest, FileWithoutAutoVacuumKeepsWorking) {
  const std::string path = FreshPath("no_auto_vacuum.db");
  RawExec(path, kVersion2Schema);
  ASSERT_EQ(RawQueryInt(path, "PRAGMA auto_vacuum"), 0);
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->PutBatch(D(static_cast<uint8_t>(i)), BatchBytes(i, 500'000), i).ok());
  }
  ASSERT_TRUE(store->PruneBatchesBelow(5).ok());
  ASSERT_TRUE(store->PruneBatchesBelow(5).ok());
  ASSERT_TRUE(store->PutBatch(D(99), "after", 9).ok());
  EXPECT_EQ(*store->GetBatch(D(99)), "after");
  EXPECT_EQ(store->GetBatch(D(7))->value().size(), 500'000u);
  EXPECT_EQ(*store->GetBatch(D(2)), std::nullopt);
}

// The primary's executor keeps a reader on its workers' files: then the
// worker's close is not the last one and SQLite leaves the -wal file, which
// must at least be empty.
TEST(SqliteStoreTest, CloseEmptiesTheLogWhileAnotherConnectionReads) {
  const std::string path = FreshPath("wal_with_reader.db");
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(reader, "SELECT count(*) FROM batches", nullptr, nullptr, nullptr),
            SQLITE_OK);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->PutBatch(D(static_cast<uint8_t>(i)), BatchBytes(i, 200'000), i).ok());
  }
  EXPECT_GT(FileSize(path + "-wal"), 1'000'000);
  store.reset();
  EXPECT_EQ(FileSize(path + "-wal"), 0);
  sqlite3_close(reader);
}

TEST(SqliteStoreTest, BackgroundCheckpointEmptiesTheLogOnceTheWriterIsQuiet) {
  const std::string path = FreshPath("quiet_truncate.db");
  SqliteOptions options;
  options.synchronous = "NORMAL";
  options.background_checkpoint = true;
  options.checkpoint_frames = 50;
  options.checkpoint_inline_frames = 400;
  options.checkpoint_idle_ms = 20;
  std::unique_ptr<SqliteStore> store = OpenOrDie(path, options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(store->PutBatch(D(static_cast<uint8_t>(i)), BatchBytes(i, 20'000), i).ok());
  }
  ASSERT_TRUE(store->PruneBatchesBelow(1000).ok());
  uint64_t wal_bytes = 1;
  for (int waited_ms = 0; waited_ms < 10'000 && wal_bytes > 0; waited_ms += 10) {
    usleep(10'000);
    absl::StatusOr<SqliteFileSizes> sizes = store->FileSizes();
    ASSERT_TRUE(sizes.ok()) << sizes.status();
    wal_bytes = sizes->wal_bytes;
  }
  EXPECT_EQ(wal_bytes, 0u);
  // The store goes on as usual after its log was cut.
  ASSERT_TRUE(store->PutBatch(D(1), "after", 1).ok());
  EXPECT_EQ(*store->GetBatch(D(1)), "after");
}

TEST(SqliteStoreTest, FileSizesCountsTheDatabaseAndTheLog) {
  absl::StatusOr<SqliteFileSizes> memory = OpenOrDie(":memory:")->FileSizes();
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->main_bytes, 0u);
  EXPECT_EQ(memory->wal_bytes, 0u);

  const std::string path = FreshPath("file_sizes.db");
  std::unique_ptr<SqliteStore> store = OpenOrDie(path);
  ASSERT_TRUE(store->PutBatch(D(1), BatchBytes(1, 100'000), 1).ok());
  absl::StatusOr<SqliteFileSizes> sizes = store->FileSizes();
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  EXPECT_EQ(sizes->main_bytes, static_cast<uint64_t>(FileSize(path)));
  EXPECT_EQ(sizes->wal_bytes, static_cast<uint64_t>(FileSize(path + "-wal")));
  EXPECT_GT(sizes->main_bytes + sizes->wal_bytes, 100'000u);
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
  options.checkpoint_inline_frames = 200;
  options.checkpoint_idle_ms = 0;
  store = SqliteStore::Open(FreshPath("bad_checkpoint.db"), options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("checkpoint_idle_ms"));
}

}  // namespace
}  // namespace narwhal
