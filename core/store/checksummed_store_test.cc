// ChecksummedStore (and its CRC-32C): values come back as written; a value
// whose stored bytes changed or were cut short is DataLoss, for every kind
// of row it covers. The Store contract itself is checked against it in
// store_sqlite/sqlite_store_contract_test.cc.
#include "core/store/checksummed_store.h"

#include <memory>
#include <string>

#include "core/store/crc32c.h"
#include "core/store/memory_store.h"
#include "gtest/gtest.h"

namespace narwhal {
namespace {

TEST(Crc32cTest, KnownValues) {
  // The check value of CRC-32C (RFC 3720, appendix B.4, and every CRC catalogue).
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32cPortable("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
}

TEST(Crc32cTest, FastPathMatchesTableAndContinues) {
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes.push_back(static_cast<char>(i * 131 + 7));
  for (size_t n : {0, 1, 7, 8, 9, 63, 64, 999, 1000}) {
    const std::string_view v(bytes.data(), n);
    EXPECT_EQ(Crc32c(v), Crc32cPortable(v)) << n;
    for (size_t cut : {size_t{0}, n / 3, n}) {
      EXPECT_EQ(Crc32c(v.substr(cut), Crc32c(v.substr(0, cut))), Crc32c(v)) << n << " " << cut;
    }
  }
}

Digest D(uint8_t seed) {
  Digest digest;
  for (size_t i = 0; i < Digest::kSize; ++i) digest.bytes[i] = static_cast<uint8_t>(seed + i);
  return digest;
}

class ChecksummedStoreTest : public testing::Test {
 protected:
  ChecksummedStoreTest() {
    auto memory = std::make_unique<MemoryStore>();
    memory_ = memory.get();
    store_ = std::make_unique<ChecksummedStore>(std::move(memory));
  }
  MemoryStore* memory_;
  std::unique_ptr<ChecksummedStore> store_;
};

TEST_F(ChecksummedStoreTest, ValuesComeBackAsWrittenAndAreStoredSealed) {
  ASSERT_TRUE(store_->PutCertificate(D(1), 3, 0, "cert").ok());
  ASSERT_TRUE(store_->PutSharedCertificate(D(2), 3, 1, std::make_shared<const std::string>("shared")).ok());
  ASSERT_TRUE(store_->PutOwnHeader(3, "header").ok());
  ASSERT_TRUE(store_->AppendCommitted({0, "sub-dag"}, "state").ok());
  ASSERT_TRUE(store_->AppendExecuted(0, std::make_shared<const std::string>("executed")).ok());
  ASSERT_TRUE(store_->PutBatch(D(9), "batch", 1).ok());

  EXPECT_EQ(**store_->GetCertificate(D(1)), "cert");
  EXPECT_EQ(*store_->CertificatesInRounds(3, 3), (std::vector<std::string>{"cert", "shared"}));
  EXPECT_EQ(**store_->GetOwnHeader(3), "header");
  EXPECT_EQ(**store_->GetConsensusState(), "state");
  EXPECT_EQ(store_->CommittedFrom(0, 10)->at(0).sub_dag, "sub-dag");
  EXPECT_EQ(*store_->ExecutedFrom(0, 10)->at(0).row, "executed");
  EXPECT_EQ(store_->ExecutedSizes()->at(0).second, 8u);
  EXPECT_EQ(**store_->GetBatch(D(9)), "batch");
  EXPECT_FALSE(store_->GetCertificate(D(7))->has_value());

  EXPECT_EQ(**memory_->GetCertificate(D(1)), ChecksummedStore::Seal("cert"));
  EXPECT_EQ((**memory_->GetCertificate(D(1))).size(), 4 + ChecksummedStore::kTrailerBytes);
  EXPECT_EQ(**memory_->GetBatch(D(9)), ChecksummedStore::Seal("batch"));
}

TEST_F(ChecksummedStoreTest, OpenRefusesEveryFlippedByteAndEveryCut) {
  const std::string value = "1 2 3\nnext_index 12\n";  // text, where a flipped digit still parses
  const std::string row = ChecksummedStore::Seal(value);
  EXPECT_EQ(*ChecksummedStore::Open(row, "x"), value);
  for (size_t at = 0; at < row.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = row;
      bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
      EXPECT_EQ(ChecksummedStore::Open(bad, "x").status().code(), absl::StatusCode::kDataLoss) << at << " " << bit;
    }
  }
  for (size_t n = 0; n < row.size(); ++n) {
    EXPECT_EQ(ChecksummedStore::Open(row.substr(0, n), "x").status().code(), absl::StatusCode::kDataLoss) << n;
  }
}

TEST_F(ChecksummedStoreTest, DamagedRowsOfEveryCoveredKindAreDataLoss) {
  // Rows written underneath without a valid trailer, as a disk would return them.
  const std::string damaged = "no checksum here";
  ASSERT_TRUE(memory_->PutCertificate(D(1), 3, 0, damaged).ok());
  ASSERT_TRUE(memory_->PutOwnHeader(3, damaged).ok());
  ASSERT_TRUE(memory_->AppendCommitted({0, damaged}, damaged).ok());
  ASSERT_TRUE(memory_->AppendExecuted(0, std::make_shared<const std::string>("ab")).ok());

  EXPECT_EQ(store_->GetCertificate(D(1)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->CertificatesInRounds(0, 10).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->GetOwnHeader(3).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->GetConsensusState().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->CommittedFrom(0, 10).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->ExecutedFrom(0, 10).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->ExecutedSizes().status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace narwhal
