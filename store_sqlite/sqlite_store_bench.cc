// PutBatch throughput with 500 KB batches (what a worker stores at ~100k tx/s)
// into a file store, synchronous FULL against NORMAL, at SQLite's default page
// size and at 64 KiB. Each PutBatch is its own transaction, as in the worker.
// PutVote shows what the large page costs a small write (a primary's store).
//
//   bazel run //store_sqlite:sqlite_store_bench  (.bazelrc builds with -O2)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "store_sqlite/sqlite_store.h"

namespace narwhal {
namespace {

constexpr size_t kBatchBytes = 500 * 1000;
// PruneBatchesBelow every this many rounds keeps the file (and the page cache
// it competes with) bounded, as the worker's garbage collection does.
constexpr Round kRoundsKept = 64;

const char* const kSynchronous[] = {"FULL", "NORMAL"};

void RemoveStoreFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

Digest DigestOf(uint64_t n) {
  Digest digest;
  for (size_t i = 0; i < 8; ++i) digest.bytes[i] = static_cast<uint8_t>(n >> (8 * i));
  return digest;
}

// Opens a fresh file store for benchmark arguments (synchronous, page size).
std::unique_ptr<SqliteStore> OpenBenchStore(benchmark::State& state, const std::string& path) {
  RemoveStoreFiles(path);
  SqliteOptions options;
  options.synchronous = kSynchronous[state.range(0)];
  options.page_size_bytes = static_cast<int>(state.range(1));
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, options);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return nullptr;
  }
  state.SetLabel(absl::StrCat("synchronous=", options.synchronous,
                              " page_size=", options.page_size_bytes));
  return std::move(*store);
}

std::string BenchPath(const char* name) {
  return absl::StrCat("/tmp/narwhal_sqlite_store_bench_", getpid(), "_", name, ".db");
}

void BM_PutBatch(benchmark::State& state) {
  const std::string path = BenchPath("batches");
  std::unique_ptr<SqliteStore> store = OpenBenchStore(state, path);
  if (store == nullptr) return;
  std::string batch(kBatchBytes, '\0');
  for (size_t i = 0; i < batch.size(); ++i) batch[i] = static_cast<char>(i * 7919 % 251);

  uint64_t n = 0;
  for (auto _ : state) {
    const Round round = n;
    absl::Status status = store->PutBatch(DigestOf(n), batch, round);
    if (status.ok() && round % kRoundsKept == 0 && round >= kRoundsKept) {
      status = store->PruneBatchesBelow(round - kRoundsKept);
    }
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
    ++n;
  }
  state.SetBytesProcessed(static_cast<int64_t>(n * kBatchBytes));
  store.reset();
  RemoveStoreFiles(path);
}
BENCHMARK(BM_PutBatch)
    ->ArgsProduct({{0, 1}, {4096, 65536}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_PutVote(benchmark::State& state) {
  const std::string path = BenchPath("votes");
  std::unique_ptr<SqliteStore> store = OpenBenchStore(state, path);
  if (store == nullptr) return;
  uint64_t n = 0;
  for (auto _ : state) {
    absl::Status status = store->PutVote(static_cast<AuthorityIndex>(n % 64), n / 64, DigestOf(n));
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
    ++n;
  }
  store.reset();
  RemoveStoreFiles(path);
}
BENCHMARK(BM_PutVote)
    ->ArgsProduct({{0, 1}, {4096, 65536}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace narwhal
