// The Store contract (core/store/store.h), asserted identically against
// MemoryStore, SqliteStore on ":memory:" and SqliteStore on a file, so the
// simulator's stores and the node's store cannot drift apart unnoticed.
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/store/checksummed_store.h"
#include "core/store/memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store_sqlite/sqlite_store.h"

namespace narwhal {
namespace {

constexpr Round kMaxRound = std::numeric_limits<Round>::max();

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::string& test_name)> make;
};

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::unique_ptr<Store> OpenSqliteOrDie(const std::string& path) {
  if (path != ":memory:") {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, SqliteOptions{});
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return std::move(*store);
}

std::vector<StoreFactory> Factories() {
  return {
      {"Memory", [](const std::string&) { return std::make_unique<MemoryStore>(); }},
      {"SqliteInMemory", [](const std::string&) { return OpenSqliteOrDie(":memory:"); }},
      // The checksum layer keeps the contract over either store.
      {"ChecksummedMemory",
       [](const std::string&) { return std::make_unique<ChecksummedStore>(std::make_unique<MemoryStore>()); }},
      {"ChecksummedSqlite",
       [](const std::string&) -> std::unique_ptr<Store> {
         auto inner = OpenSqliteOrDie(":memory:");
         if (inner == nullptr) return nullptr;
         return std::make_unique<ChecksummedStore>(std::move(inner));
       }},
      {"SqliteFile",
       [](const std::string& test_name) {
         // Parameterized test names contain '/'.
         return OpenSqliteOrDie(absl::StrCat(TempDir(), "/contract_",
                                             absl::StrReplaceAll(test_name, {{"/", "_"}}), ".db"));
       }},
  };
}

Digest D(uint8_t seed) {
  Digest digest;
  for (size_t i = 0; i < Digest::kSize; ++i) digest.bytes[i] = static_cast<uint8_t>(seed + i);
  return digest;
}

class StoreContractTest : public testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_NE(store_, nullptr);
  }

  // Value of a read that must succeed.
  template <typename T>
  static T Ok(absl::StatusOr<T> result) {
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : T{};
  }

  std::vector<CommittedSubDagRow> Committed(uint64_t from, size_t limit) {
    return Ok(store_->CommittedFrom(from, limit));
  }

  std::vector<uint64_t> CommittedIndexes(uint64_t from, size_t limit) {
    std::vector<uint64_t> out;
    for (const CommittedSubDagRow& row : Committed(from, limit)) out.push_back(row.index);
    return out;
  }

  std::vector<uint64_t> ExecutedIndexes(uint64_t from, size_t limit) {
    std::vector<uint64_t> out;
    for (const ExecutedRow& row : Ok(store_->ExecutedFrom(from, limit))) out.push_back(row.index);
    return out;
  }

  absl::Status AppendExecuted(uint64_t index, std::string row) {
    return store_->AppendExecuted(index, std::make_shared<const std::string>(std::move(row)));
  }

  std::unique_ptr<Store> store_;
};

TEST_P(StoreContractTest, BatchPutGetMissingOverwrite) {
  EXPECT_EQ(Ok(store_->GetBatch(D(1))), std::nullopt);
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(store_->PutBatch(D(1), binary, 3).ok());
  EXPECT_EQ(Ok(store_->GetBatch(D(1))), binary);
  EXPECT_EQ(Ok(store_->GetBatch(D(2))), std::nullopt);
  ASSERT_TRUE(store_->PutBatch(D(1), "replaced", 3).ok());
  EXPECT_EQ(Ok(store_->GetBatch(D(1))), "replaced");
}

TEST_P(StoreContractTest, EmptyBatchIsAValueNotAbsence) {
  ASSERT_TRUE(store_->PutBatch(D(1), "", 1).ok());
  EXPECT_EQ(Ok(store_->GetBatch(D(1))), std::string());
}

TEST_P(StoreContractTest, LargeBatchRoundTrips) {
  std::string batch(512 * 1024, '\0');
  for (size_t i = 0; i < batch.size(); ++i) batch[i] = static_cast<char>(i * 31 % 251);
  ASSERT_TRUE(store_->PutBatch(D(9), batch, 1).ok());
  EXPECT_EQ(Ok(store_->GetBatch(D(9))), batch);
}

TEST_P(StoreContractTest, PruneBatchesBelowDropsOlderRoundsOnly) {
  ASSERT_TRUE(store_->PutBatch(D(1), "r1", 1).ok());
  ASSERT_TRUE(store_->PutBatch(D(2), "r2", 2).ok());
  ASSERT_TRUE(store_->PutBatch(D(3), "r3", 3).ok());
  // An overwrite moves the batch to its new round.
  ASSERT_TRUE(store_->PutBatch(D(4), "r1", 1).ok());
  ASSERT_TRUE(store_->PutBatch(D(4), "r9", 9).ok());
  ASSERT_TRUE(store_->PruneBatchesBelow(2).ok());
  EXPECT_EQ(Ok(store_->GetBatch(D(1))), std::nullopt);
  EXPECT_EQ(Ok(store_->GetBatch(D(2))), "r2");
  EXPECT_EQ(Ok(store_->GetBatch(D(3))), "r3");
  EXPECT_EQ(Ok(store_->GetBatch(D(4))), "r9");
  ASSERT_TRUE(store_->PruneBatchesBelow(kMaxRound).ok());
  EXPECT_EQ(Ok(store_->GetBatch(D(4))), std::nullopt);
}

TEST_P(StoreContractTest, PayloadMarks) {
  EXPECT_FALSE(Ok(store_->HasPayload(D(1), 0)));
  ASSERT_TRUE(store_->PutPayload(D(1), 0, 1).ok());
  ASSERT_TRUE(store_->PutPayload(D(2), 1, 5).ok());
  EXPECT_TRUE(Ok(store_->HasPayload(D(1), 0)));
  EXPECT_FALSE(Ok(store_->HasPayload(D(1), 1)));
  EXPECT_TRUE(Ok(store_->HasPayload(D(2), 1)));
  // Re-marking at a later round keeps the mark past a prune of the old round.
  ASSERT_TRUE(store_->PutPayload(D(3), 0, 1).ok());
  ASSERT_TRUE(store_->PutPayload(D(3), 0, 6).ok());
  ASSERT_TRUE(store_->PruneRoundsBelow(3).ok());
  EXPECT_FALSE(Ok(store_->HasPayload(D(1), 0)));
  EXPECT_TRUE(Ok(store_->HasPayload(D(2), 1)));
  EXPECT_TRUE(Ok(store_->HasPayload(D(3), 0)));
}

TEST_P(StoreContractTest, OwnPayloadListsInInsertionOrder) {
  EXPECT_EQ(Ok(store_->ListOwnPayload()), std::vector<OwnPayloadRow>{});
  // Not digest order, and one digest may come from two workers.
  ASSERT_TRUE(store_->PutOwnPayload({D(3), 0, 30}).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(1), 1, 10}).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(2), 0, 20}).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(1), 0, 11}).ok());
  EXPECT_EQ(Ok(store_->ListOwnPayload()),
            (std::vector<OwnPayloadRow>{
                {D(3), 0, 30}, {D(1), 1, 10}, {D(2), 0, 20}, {D(1), 0, 11}}));
}

TEST_P(StoreContractTest, OwnPayloadRePutKeepsOriginalPositionAndTime) {
  ASSERT_TRUE(store_->PutOwnPayload({D(1), 0, 10}).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(2), 0, 20}).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(1), 0, 99}).ok());
  EXPECT_EQ(Ok(store_->ListOwnPayload()),
            (std::vector<OwnPayloadRow>{{D(1), 0, 10}, {D(2), 0, 20}}));
}

TEST_P(StoreContractTest, OwnPayloadRemove) {
  ASSERT_TRUE(store_->PutOwnPayload({D(1), 0, 10}).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(2), 0, 20}).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(3), 1, 30}).ok());
  ASSERT_TRUE(store_->RemoveOwnPayload(D(2), 0).ok());
  // Missing rows, including the right digest from another worker: OK, no effect.
  ASSERT_TRUE(store_->RemoveOwnPayload(D(2), 0).ok());
  ASSERT_TRUE(store_->RemoveOwnPayload(D(3), 0).ok());
  ASSERT_TRUE(store_->RemoveOwnPayload(D(9), 5).ok());
  EXPECT_EQ(Ok(store_->ListOwnPayload()),
            (std::vector<OwnPayloadRow>{{D(1), 0, 10}, {D(3), 1, 30}}));
  // A removed row put again is new: it goes last.
  ASSERT_TRUE(store_->PutOwnPayload({D(2), 0, 40}).ok());
  ASSERT_TRUE(store_->RemoveOwnPayload(D(1), 0).ok());
  EXPECT_EQ(Ok(store_->ListOwnPayload()),
            (std::vector<OwnPayloadRow>{{D(3), 1, 30}, {D(2), 0, 40}}));
}

TEST_P(StoreContractTest, OwnPayloadOutlivesRoundPruning) {
  ASSERT_TRUE(store_->PutOwnPayload({D(1), 0, 10}).ok());
  ASSERT_TRUE(store_->PruneRoundsBelow(kMaxRound).ok());
  ASSERT_TRUE(store_->PruneBatchesBelow(kMaxRound).ok());
  EXPECT_EQ(Ok(store_->ListOwnPayload()), (std::vector<OwnPayloadRow>{{D(1), 0, 10}}));
}

TEST_P(StoreContractTest, CertificatesPutGetOverwrite) {
  EXPECT_EQ(Ok(store_->GetCertificate(D(1))), std::nullopt);
  ASSERT_TRUE(store_->PutCertificate(D(1), 4, 2, "cert").ok());
  EXPECT_EQ(Ok(store_->GetCertificate(D(1))), "cert");
  ASSERT_TRUE(store_->PutCertificate(D(1), 4, 2, "cert again").ok());
  EXPECT_EQ(Ok(store_->GetCertificate(D(1))), "cert again");
  EXPECT_EQ(Ok(store_->CertificatesInRounds(0, kMaxRound)), std::vector<std::string>{"cert again"});
}

TEST_P(StoreContractTest, SecondCertificateForRoundAndAuthorIsAlreadyExists) {
  ASSERT_TRUE(store_->PutCertificate(D(1), 4, 2, "first").ok());
  absl::Status second = store_->PutCertificate(D(2), 4, 2, "second");
  EXPECT_EQ(second.code(), absl::StatusCode::kAlreadyExists) << second;
  EXPECT_EQ(Ok(store_->GetCertificate(D(2))), std::nullopt);
  EXPECT_EQ(Ok(store_->GetCertificate(D(1))), "first");
  EXPECT_EQ(Ok(store_->CertificatesInRounds(4, 4)), std::vector<std::string>{"first"});
  // The same certificate again is idempotent; other slots are independent.
  ASSERT_TRUE(store_->PutCertificate(D(1), 4, 2, "first").ok());
  ASSERT_TRUE(store_->PutCertificate(D(3), 4, 3, "other author").ok());
  ASSERT_TRUE(store_->PutCertificate(D(4), 5, 2, "other round").ok());
  EXPECT_EQ(Ok(store_->CertificatesInRounds(0, kMaxRound)),
            (std::vector<std::string>{"first", "other author", "other round"}));
  EXPECT_EQ(Ok(store_->RowCounts())[3], (std::pair<std::string, int64_t>{"certificates", 3}));
}

TEST_P(StoreContractTest, CertificatesInRoundsOrderedByRoundThenAuthor) {
  // Inserted out of order on purpose.
  ASSERT_TRUE(store_->PutCertificate(D(1), 3, 1, "r3a1").ok());
  ASSERT_TRUE(store_->PutCertificate(D(2), 2, 3, "r2a3").ok());
  ASSERT_TRUE(store_->PutCertificate(D(3), 3, 0, "r3a0").ok());
  ASSERT_TRUE(store_->PutCertificate(D(4), 2, 0, "r2a0").ok());
  ASSERT_TRUE(store_->PutCertificate(D(5), 5, 2, "r5a2").ok());
  ASSERT_TRUE(store_->PutCertificate(D(6), 1, 2, "r1a2").ok());
  EXPECT_EQ(Ok(store_->CertificatesInRounds(2, 3)),
            (std::vector<std::string>{"r2a0", "r2a3", "r3a0", "r3a1"}));
  EXPECT_EQ(Ok(store_->CertificatesInRounds(5, 5)), std::vector<std::string>{"r5a2"});
  EXPECT_EQ(Ok(store_->CertificatesInRounds(4, 4)), std::vector<std::string>{});
  EXPECT_EQ(Ok(store_->CertificatesInRounds(3, 2)), std::vector<std::string>{});
  EXPECT_EQ(Ok(store_->CertificatesInRounds(0, kMaxRound)).size(), 6u);
  EXPECT_EQ(Ok(store_->CertificatesInRounds(kMaxRound, kMaxRound)), std::vector<std::string>{});
}

TEST_P(StoreContractTest, PruneRoundsBelowDropsCertificatesHeadersVotesPayload) {
  for (Round round = 1; round <= 4; ++round) {
    const auto seed = static_cast<uint8_t>(round * 10);
    ASSERT_TRUE(store_->PutCertificate(D(seed), round, 0, absl::StrCat("c", round)).ok());
    ASSERT_TRUE(store_->PutOwnHeader(round, absl::StrCat("h", round)).ok());
    ASSERT_TRUE(store_->PutVote(1, round, D(seed + 1)).ok());
    ASSERT_TRUE(store_->PutPayload(D(seed + 2), 0, round).ok());
    ASSERT_TRUE(store_->PutBatch(D(seed + 3), "batch", round).ok());
  }
  ASSERT_TRUE(store_->AppendCommitted({0, "sub-dag"}, "state").ok());
  ASSERT_TRUE(store_->PruneRoundsBelow(3).ok());

  EXPECT_EQ(Ok(store_->CertificatesInRounds(0, kMaxRound)),
            (std::vector<std::string>{"c3", "c4"}));
  EXPECT_EQ(Ok(store_->GetCertificate(D(20))), std::nullopt);
  EXPECT_EQ(Ok(store_->GetCertificate(D(30))), "c3");
  EXPECT_EQ(Ok(store_->GetOwnHeader(2)), std::nullopt);
  EXPECT_EQ(Ok(store_->GetOwnHeader(3)), "h3");
  EXPECT_EQ(Ok(store_->GetVote(1, 2)), std::nullopt);
  EXPECT_EQ(Ok(store_->GetVote(1, 3)), D(31));
  EXPECT_FALSE(Ok(store_->HasPayload(D(22), 0)));
  EXPECT_TRUE(Ok(store_->HasPayload(D(32), 0)));
  // Batches and committed output have their own retention.
  EXPECT_EQ(Ok(store_->GetBatch(D(13))), "batch");
  EXPECT_EQ(Committed(0, 10).size(), 1u);

  ASSERT_TRUE(store_->PruneRoundsBelow(kMaxRound).ok());
  EXPECT_EQ(Ok(store_->CertificatesInRounds(0, kMaxRound)), std::vector<std::string>{});
  EXPECT_EQ(Ok(store_->LastOwnHeaderRound()), 0u);
}

TEST_P(StoreContractTest, OwnHeaders) {
  EXPECT_EQ(Ok(store_->LastOwnHeaderRound()), 0u);
  EXPECT_EQ(Ok(store_->GetOwnHeader(3)), std::nullopt);
  ASSERT_TRUE(store_->PutOwnHeader(3, "h3").ok());
  ASSERT_TRUE(store_->PutOwnHeader(7, "h7").ok());
  ASSERT_TRUE(store_->PutOwnHeader(5, "h5").ok());
  EXPECT_EQ(Ok(store_->LastOwnHeaderRound()), 7u);
  EXPECT_EQ(Ok(store_->GetOwnHeader(5)), "h5");
  EXPECT_EQ(Ok(store_->GetOwnHeader(4)), std::nullopt);
  ASSERT_TRUE(store_->PutOwnHeader(5, "h5 again").ok());
  EXPECT_EQ(Ok(store_->GetOwnHeader(5)), "h5 again");
  ASSERT_TRUE(store_->PruneRoundsBelow(6).ok());
  EXPECT_EQ(Ok(store_->GetOwnHeader(5)), std::nullopt);
  EXPECT_EQ(Ok(store_->LastOwnHeaderRound()), 7u);
}

TEST_P(StoreContractTest, Votes) {
  EXPECT_EQ(Ok(store_->GetVote(1, 2)), std::nullopt);
  ASSERT_TRUE(store_->PutVote(1, 2, D(7)).ok());
  ASSERT_TRUE(store_->PutVote(2, 2, D(8)).ok());
  ASSERT_TRUE(store_->PutVote(1, 3, D(9)).ok());
  EXPECT_EQ(Ok(store_->GetVote(1, 2)), D(7));
  EXPECT_EQ(Ok(store_->GetVote(2, 2)), D(8));
  EXPECT_EQ(Ok(store_->GetVote(1, 3)), D(9));
  EXPECT_EQ(Ok(store_->GetVote(3, 2)), std::nullopt);
  ASSERT_TRUE(store_->PutVote(1, 2, D(10)).ok());
  EXPECT_EQ(Ok(store_->GetVote(1, 2)), D(10));
}

TEST_P(StoreContractTest, AppendCommittedIsGaplessAndReplacesState) {
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 0u);
  EXPECT_EQ(Ok(store_->GetConsensusState()), std::nullopt);

  absl::Status gap = store_->AppendCommitted({1, "too far"}, "bad state");
  EXPECT_EQ(gap.code(), absl::StatusCode::kFailedPrecondition) << gap;
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 0u);
  EXPECT_EQ(Ok(store_->GetConsensusState()), std::nullopt);
  EXPECT_TRUE(Committed(0, 10).empty());

  ASSERT_TRUE(store_->AppendCommitted({0, "d0"}, "s0").ok());
  EXPECT_EQ(Ok(store_->GetConsensusState()), "s0");
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 1u);
  EXPECT_EQ(store_->AppendCommitted({0, "d0 again"}, "s").code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->AppendCommitted({1, "d1"}, "s1").ok());
  ASSERT_TRUE(store_->AppendCommitted({2, "d2"}, "").ok());
  // An empty state is a state, not its absence.
  EXPECT_EQ(Ok(store_->GetConsensusState()), std::string());
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 3u);
}

TEST_P(StoreContractTest, CommittedFromHonoursStartAndLimit) {
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->AppendCommitted({i, absl::StrCat("d", i)}, "s").ok());
  }
  std::vector<CommittedSubDagRow> rows = Committed(1, 2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].index, 1u);
  EXPECT_EQ(rows[0].sub_dag, "d1");
  EXPECT_EQ(rows[1].index, 2u);
  EXPECT_EQ(rows[1].sub_dag, "d2");
  EXPECT_EQ(CommittedIndexes(0, 100), (std::vector<uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(CommittedIndexes(3, std::numeric_limits<size_t>::max()),
            (std::vector<uint64_t>{3, 4}));
  EXPECT_TRUE(Committed(0, 0).empty());
  EXPECT_TRUE(Committed(5, 10).empty());
  EXPECT_TRUE(Committed(std::numeric_limits<uint64_t>::max(), 10).empty());
}

TEST_P(StoreContractTest, PruneCommittedKeepsNextIndex) {
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(store_->AppendCommitted({i, "d"}, "s").ok());
  ASSERT_TRUE(store_->PruneCommittedBelow(2).ok());
  EXPECT_EQ(CommittedIndexes(0, 10), (std::vector<uint64_t>{2, 3}));
  ASSERT_TRUE(store_->PruneCommittedBelow(std::numeric_limits<uint64_t>::max()).ok());
  EXPECT_TRUE(Committed(0, 10).empty());
  // The index sequence continues although the table is empty.
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 4u);
  EXPECT_EQ(store_->AppendCommitted({0, "d"}, "s").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->AppendCommitted({4, "d4"}, "s4").ok());
  EXPECT_EQ(CommittedIndexes(0, 10), (std::vector<uint64_t>{4}));
}

// An executor that starts after state sync begins where its first row is.
TEST_P(StoreContractTest, FirstExecutedRowMayHaveAnyIndexThenNoGaps) {
  EXPECT_EQ(Ok(store_->NextExecutedIndex()), 0u);
  EXPECT_TRUE(Ok(store_->ExecutedFrom(0, 10)).empty());
  ASSERT_TRUE(AppendExecuted(5, "e5").ok());
  EXPECT_EQ(Ok(store_->NextExecutedIndex()), 6u);

  for (uint64_t wrong : {uint64_t{5}, uint64_t{7}, uint64_t{0}}) {
    absl::Status gap = AppendExecuted(wrong, "bad");
    EXPECT_EQ(gap.code(), absl::StatusCode::kFailedPrecondition) << wrong << ": " << gap;
    EXPECT_THAT(std::string(gap.message()),
                testing::HasSubstr(absl::StrCat("appending index ", wrong,
                                                " but the next index is 6")));
  }
  EXPECT_EQ(Ok(store_->NextExecutedIndex()), 6u);
  EXPECT_EQ(ExecutedIndexes(0, 10), (std::vector<uint64_t>{5}));

  ASSERT_TRUE(AppendExecuted(6, "e6").ok());
  EXPECT_EQ(Ok(store_->NextExecutedIndex()), 7u);
  std::vector<ExecutedRow> rows = Ok(store_->ExecutedFrom(0, 10));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].index, 5u);
  ASSERT_NE(rows[0].row, nullptr);
  EXPECT_EQ(*rows[0].row, "e5");
  EXPECT_EQ(rows[1].index, 6u);
  ASSERT_NE(rows[1].row, nullptr);
  EXPECT_EQ(*rows[1].row, "e6");
}

TEST_P(StoreContractTest, ExecutedFromHonoursStartAndLimitAndSizesMatchRows) {
  const std::string binary("x\0y\xff", 4);
  const std::string large(300 * 1024, 'L');
  ASSERT_TRUE(AppendExecuted(0, "").ok());  // an empty row is a row
  ASSERT_TRUE(AppendExecuted(1, binary).ok());
  ASSERT_TRUE(AppendExecuted(2, large).ok());
  ASSERT_TRUE(AppendExecuted(3, "three").ok());

  std::vector<ExecutedRow> rows = Ok(store_->ExecutedFrom(1, 2));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].index, 1u);
  EXPECT_EQ(*rows[0].row, binary);
  EXPECT_EQ(rows[1].index, 2u);
  EXPECT_EQ(*rows[1].row, large);
  EXPECT_EQ(*Ok(store_->ExecutedFrom(0, 1))[0].row, "");
  EXPECT_EQ(ExecutedIndexes(0, 100), (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(ExecutedIndexes(2, std::numeric_limits<size_t>::max()),
            (std::vector<uint64_t>{2, 3}));
  EXPECT_TRUE(Ok(store_->ExecutedFrom(0, 0)).empty());
  EXPECT_TRUE(Ok(store_->ExecutedFrom(4, 10)).empty());
  EXPECT_TRUE(Ok(store_->ExecutedFrom(std::numeric_limits<uint64_t>::max(), 10)).empty());

  using Sizes = std::vector<std::pair<uint64_t, uint64_t>>;
  EXPECT_EQ(Ok(store_->ExecutedSizes()),
            (Sizes{{0, 0}, {1, binary.size()}, {2, large.size()}, {3, 5}}));
}

TEST_P(StoreContractTest, AppendExecutedWithoutRowIsRefused) {
  EXPECT_EQ(store_->AppendExecuted(0, nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ok(store_->NextExecutedIndex()), 0u);
  EXPECT_TRUE(Ok(store_->ExecutedSizes()).empty());
}

TEST_P(StoreContractTest, PruneExecutedKeepsNextIndexEvenWhenEmpty) {
  for (uint64_t i = 10; i < 14; ++i) ASSERT_TRUE(AppendExecuted(i, absl::StrCat("e", i)).ok());
  ASSERT_TRUE(store_->PruneExecutedBelow(12).ok());
  EXPECT_EQ(ExecutedIndexes(0, 10), (std::vector<uint64_t>{12, 13}));
  EXPECT_EQ(Ok(store_->ExecutedSizes()),
            (std::vector<std::pair<uint64_t, uint64_t>>{{12, 3}, {13, 3}}));
  ASSERT_TRUE(store_->PruneExecutedBelow(std::numeric_limits<uint64_t>::max()).ok());
  EXPECT_TRUE(Ok(store_->ExecutedFrom(0, 10)).empty());
  EXPECT_TRUE(Ok(store_->ExecutedSizes()).empty());
  // The sequence goes on although the table is empty: no fresh start.
  EXPECT_EQ(Ok(store_->NextExecutedIndex()), 14u);
  EXPECT_EQ(AppendExecuted(0, "e").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(AppendExecuted(15, "e").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(AppendExecuted(14, "e14").ok());
  EXPECT_EQ(ExecutedIndexes(0, 10), (std::vector<uint64_t>{14}));
}

TEST_P(StoreContractTest, ExecutedOutputHasItsOwnRetention) {
  ASSERT_TRUE(AppendExecuted(0, "e0").ok());
  ASSERT_TRUE(store_->AppendCommitted({0, "d0"}, "s").ok());
  ASSERT_TRUE(store_->PruneRoundsBelow(kMaxRound).ok());
  ASSERT_TRUE(store_->PruneBatchesBelow(kMaxRound).ok());
  ASSERT_TRUE(store_->PruneCommittedBelow(std::numeric_limits<uint64_t>::max()).ok());
  EXPECT_EQ(ExecutedIndexes(0, 10), (std::vector<uint64_t>{0}));
  ASSERT_TRUE(store_->PruneExecutedBelow(1).ok());
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 1u);
}

TEST_P(StoreContractTest, FailedTransactionUndoesExecutedAppends) {
  absl::Status status = store_->RunInTransaction([&]() -> absl::Status {
    EXPECT_TRUE(AppendExecuted(7, "e7").ok());
    EXPECT_TRUE(AppendExecuted(8, "e8").ok());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Ok(store_->NextExecutedIndex()), 0u);
  EXPECT_TRUE(Ok(store_->ExecutedFrom(0, 10)).empty());
  // Nothing was ever appended, so the first row may again have any index.
  ASSERT_TRUE(AppendExecuted(3, "e3").ok());
  EXPECT_EQ(Ok(store_->NextExecutedIndex()), 4u);
}

TEST_P(StoreContractTest, RowCountsNamesOrderAndValues) {
  using Counts = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(Ok(store_->RowCounts()), (Counts{{"batches", 0},
                                             {"payload", 0},
                                             {"own_payload", 0},
                                             {"certificates", 0},
                                             {"own_headers", 0},
                                             {"votes", 0},
                                             {"committed", 0},
                                             {"executed", 0}}));
  ASSERT_TRUE(store_->PutBatch(D(1), "b", 1).ok());
  ASSERT_TRUE(store_->PutBatch(D(2), "b", 1).ok());
  ASSERT_TRUE(store_->PutBatch(D(2), "b overwritten", 1).ok());
  ASSERT_TRUE(store_->PutPayload(D(1), 0, 1).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(1), 0, 5}).ok());
  ASSERT_TRUE(store_->PutOwnPayload({D(1), 1, 5}).ok());
  ASSERT_TRUE(store_->PutCertificate(D(1), 1, 0, "c").ok());
  ASSERT_TRUE(store_->PutCertificate(D(2), 1, 1, "c").ok());
  ASSERT_TRUE(store_->PutCertificate(D(3), 2, 0, "c").ok());
  ASSERT_TRUE(store_->PutOwnHeader(1, "h").ok());
  ASSERT_TRUE(store_->PutVote(0, 1, D(1)).ok());
  ASSERT_TRUE(store_->PutVote(1, 1, D(1)).ok());
  ASSERT_TRUE(store_->AppendCommitted({0, "d"}, "s").ok());
  ASSERT_TRUE(AppendExecuted(4, "e").ok());
  ASSERT_TRUE(AppendExecuted(5, "e").ok());
  EXPECT_EQ(Ok(store_->RowCounts()), (Counts{{"batches", 2},
                                             {"payload", 1},
                                             {"own_payload", 2},
                                             {"certificates", 3},
                                             {"own_headers", 1},
                                             {"votes", 2},
                                             {"committed", 1},
                                             {"executed", 2}}));
}

TEST_P(StoreContractTest, RunInTransactionCommitsBodyWrites) {
  absl::Status status = store_->RunInTransaction([&]() -> absl::Status {
    absl::Status s = store_->PutBatch(D(1), "b", 1);
    if (s.ok()) s = store_->PutOwnHeader(2, "h");
    if (s.ok()) s = store_->AppendCommitted({0, "d"}, "s");
    return s;
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Ok(store_->GetBatch(D(1))), "b");
  EXPECT_EQ(Ok(store_->GetOwnHeader(2)), "h");
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 1u);
}

TEST_P(StoreContractTest, RunInTransactionReturnsBodyError) {
  absl::Status status =
      store_->RunInTransaction([]() { return absl::InternalError("body failed"); });
  EXPECT_EQ(status, absl::InternalError("body failed"));
}

TEST_P(StoreContractTest, RunInTransactionFailureLeavesNothingWritten) {
  ASSERT_TRUE(store_->PutOwnPayload({D(5), 0, 1}).ok());
  ASSERT_TRUE(store_->PutCertificate(D(6), 1, 0, "kept").ok());
  absl::Status status = store_->RunInTransaction([&]() -> absl::Status {
    EXPECT_TRUE(store_->PutBatch(D(1), "b", 1).ok());
    EXPECT_TRUE(store_->PutVote(1, 1, D(2)).ok());
    EXPECT_TRUE(store_->AppendCommitted({0, "d"}, "s").ok());
    EXPECT_TRUE(store_->PutOwnPayload({D(3), 0, 2}).ok());
    EXPECT_TRUE(store_->RemoveOwnPayload(D(5), 0).ok());
    EXPECT_TRUE(store_->PruneRoundsBelow(kMaxRound).ok());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Ok(store_->GetBatch(D(1))), std::nullopt);
  EXPECT_EQ(Ok(store_->GetVote(1, 1)), std::nullopt);
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 0u);
  EXPECT_EQ(Ok(store_->GetConsensusState()), std::nullopt);
  EXPECT_EQ(Ok(store_->ListOwnPayload()), (std::vector<OwnPayloadRow>{{D(5), 0, 1}}));
  EXPECT_EQ(Ok(store_->CertificatesInRounds(0, kMaxRound)), std::vector<std::string>{"kept"});
  // The store still works after the rollback.
  ASSERT_TRUE(store_->AppendCommitted({0, "d"}, "s").ok());
  EXPECT_EQ(Ok(store_->NextCommitIndex()), 1u);
}

TEST_P(StoreContractTest, FailedNestedTransactionUndoesOnlyItself) {
  absl::Status status = store_->RunInTransaction([&]() -> absl::Status {
    EXPECT_TRUE(store_->PutBatch(D(1), "outer", 1).ok());
    absl::Status inner = store_->RunInTransaction([&]() -> absl::Status {
      EXPECT_TRUE(store_->PutBatch(D(2), "inner", 1).ok());
      EXPECT_TRUE(store_->PutOwnPayload({D(2), 0, 1}).ok());
      return absl::InternalError("inner failed");
    });
    EXPECT_EQ(inner.code(), absl::StatusCode::kInternal);
    return store_->PutBatch(D(3), "after", 1);
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Ok(store_->GetBatch(D(1))), "outer");
  EXPECT_EQ(Ok(store_->GetBatch(D(2))), std::nullopt);
  EXPECT_EQ(Ok(store_->GetBatch(D(3))), "after");
  EXPECT_EQ(Ok(store_->ListOwnPayload()), std::vector<OwnPayloadRow>{});
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreContractTest, testing::ValuesIn(Factories()),
                         [](const testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace narwhal
