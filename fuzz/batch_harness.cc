// Canonical batch bytes (core/batch.h): what a worker decodes from a peer's
// WorkerBatch and what the output stream decodes from an executed row.
//
// Input: byte 0 and 1 pick the limits (max transaction size, max count),
// the rest is the batch. Checks:
//  - decode ok: limits hold, views lie inside the input, and BatchBuilder
//    writes exactly the input back (there is one encoding per batch);
//  - decode fails: a non-empty reason, and if it fails only because of a
//    limit, decoding without limits succeeds and breaks that limit;
//  - encode: transactions cut from the input, built, decode to themselves.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "fuzz/harness.h"
#include "glog/logging.h"

namespace narwhal::fuzz {
namespace {

constexpr size_t kNoLimit = ~size_t{0};

void CheckDecode(std::string_view batch, size_t max_size, size_t max_count) {
  auto txs = DecodeBatch(batch, max_size, max_count);
  auto unlimited = DecodeBatch(batch, kNoLimit, kNoLimit);
  if (!txs.ok()) {
    CHECK(!txs.status().message().empty());
    if (unlimited.ok()) {
      bool over = unlimited->size() > max_count;
      for (std::string_view tx : *unlimited) over |= tx.size() > max_size;
      CHECK(over) << "refused without breaking a limit: " << txs.status();
    }
    return;
  }
  CHECK(unlimited.ok()) << "limits made a batch decode: " << unlimited.status();
  CHECK_LE(txs->size(), max_count);
  CHECK_EQ(txs->size(), unlimited->size());
  BatchBuilder builder;
  for (size_t i = 0; i < txs->size(); ++i) {
    std::string_view tx = (*txs)[i];
    CHECK_LE(tx.size(), max_size);
    CHECK(tx.data() >= batch.data() && tx.data() + tx.size() <= batch.data() + batch.size());
    CHECK(tx == (*unlimited)[i]);
    builder.Add(tx);
  }
  CHECK_EQ(builder.count(), txs->size());
  const std::string rebuilt = builder.Seal();
  CHECK(rebuilt == batch) << "decode then encode changed the bytes";
  CHECK(BatchDigest(rebuilt) == BatchDigest(batch));
}

void CheckEncode(std::string_view data) {
  // Cut the input into transactions: each byte below 0x20 ends one.
  std::vector<std::string> txs(1);
  for (char c : data) {
    if (static_cast<unsigned char>(c) < 0x20) {
      txs.emplace_back();
    } else {
      txs.back().push_back(c);
    }
  }
  BatchBuilder builder;
  size_t payload = 0;
  size_t largest = 0;
  for (const std::string& tx : txs) {
    builder.Add(tx);
    payload += tx.size();
    largest = std::max(largest, tx.size());
  }
  CHECK_EQ(builder.payload_bytes(), payload);
  const std::string batch = builder.Seal();
  CHECK_EQ(builder.count(), 0u) << "Seal starts a new batch";
  CHECK_EQ(batch.size(), 4 + 4 * txs.size() + payload);
  auto decoded = DecodeBatch(batch, largest, txs.size());
  CHECK(decoded.ok()) << decoded.status();
  CHECK_EQ(decoded->size(), txs.size());
  for (size_t i = 0; i < txs.size(); ++i) CHECK((*decoded)[i] == txs[i]);
  // One below either limit is refused.
  if (largest > 0) CHECK(!DecodeBatch(batch, largest - 1, txs.size()).ok());
  CHECK(!DecodeBatch(batch, largest, txs.size() - 1).ok());
}

void Run(std::string_view data) {
  Input in(data);
  const uint8_t size_byte = in.U8();
  const uint8_t count_byte = in.U8();
  // 255 means no limit; otherwise small limits, so that the fuzzer meets them.
  const size_t max_size = size_byte == 255 ? kNoLimit : size_byte;
  const size_t max_count = count_byte == 255 ? kNoLimit : count_byte;
  std::string_view batch = in.Rest();
  CheckDecode(batch, max_size, max_count);
  CheckEncode(batch);
}

std::string WithLimits(uint8_t size, uint8_t count, const std::string& batch) {
  return std::string{static_cast<char>(size), static_cast<char>(count)} + batch;
}

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  BatchBuilder b;
  out.push_back({"empty", WithLimits(255, 255, b.Seal())});
  b.Add("hello");
  b.Add("");
  b.Add("world!");
  out.push_back({"three", WithLimits(255, 255, b.Seal())});
  b.Add("a transaction over the size limit of 16");
  out.push_back({"oversized", WithLimits(16, 255, b.Seal())});
  for (int i = 0; i < 5; ++i) b.Add(std::string(i, 'x'));
  out.push_back({"five_limit_four", WithLimits(255, 4, b.Seal())});
  b.Add("truncated");
  std::string cut = b.Seal();
  cut.pop_back();
  out.push_back({"truncated", WithLimits(255, 255, cut)});
  b.Add("trailing");
  out.push_back({"trailing", WithLimits(255, 255, b.Seal() + "!")});
  return out;
}

}  // namespace

extern const Harness kBatchHarness = {"batch", &Run, &Seeds};

}  // namespace narwhal::fuzz
