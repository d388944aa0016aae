#include "store_sqlite/sqlite_batch_reader.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/crypto.h"
#include "gtest/gtest.h"
#include "store_sqlite/sqlite_store.h"

namespace narwhal {
namespace {

std::string FreshPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  return path;
}

TEST(SqliteBatchReaderTest, ReadsWhatTheOwnerWritesWhileTheOwnerKeepsWriting) {
  const std::string path = FreshPath("reader_owner.db");
  SqliteOptions options;
  options.synchronous = "NORMAL";
  options.page_size_bytes = 65536;
  auto owner = SqliteStore::Open(path, options);
  ASSERT_TRUE(owner.ok()) << owner.status();
  const std::string a(300'000, 'a'), b = "batch b";
  ASSERT_TRUE((*owner)->PutBatch(Blake2b256(a), a, 1).ok());

  auto reader = SqliteBatchReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto got = (*reader)->GetBatch(Blake2b256(a));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, a);
  got = (*reader)->GetBatch(Blake2b256(b));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());

  // Reads do not pin a snapshot: later writes and prunes are visible.
  ASSERT_TRUE((*owner)->PutBatch(Blake2b256(b), b, 5).ok());
  got = (*reader)->GetBatch(Blake2b256(b));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, b);
  ASSERT_TRUE((*owner)->PruneBatchesBelow(2).ok());
  got = (*reader)->GetBatch(Blake2b256(a));
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(SqliteBatchReaderTest, MissingFileIsNotFoundAndNotCreated) {
  const std::string path = FreshPath("reader_missing.db");
  auto reader = SqliteBatchReader::Open(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(SqliteBatchReaderTest, AFileThatIsNotAStoreIsRefused) {
  const std::string path = FreshPath("reader_not_a_store.db");
  std::ofstream(path) << "not sqlite at all, just some text that is long enough to be a header";
  auto reader = SqliteBatchReader::Open(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(reader.status().message().find(path), std::string::npos) << reader.status();
}

}  // namespace
}  // namespace narwhal
