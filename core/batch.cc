#include "core/batch.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/crypto.h"

namespace narwhal {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t GetU32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

}  // namespace

void BatchBuilder::Clear() {
  bytes_.clear();
  PutU32(bytes_, 0);
  count_ = 0;
  payload_bytes_ = 0;
}

void BatchBuilder::Add(std::string_view tx) {
  PutU32(bytes_, static_cast<uint32_t>(tx.size()));
  bytes_.append(tx);
  ++count_;
  payload_bytes_ += tx.size();
}

std::string BatchBuilder::Seal() {
  std::string out = std::move(bytes_);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(count_ >> (8 * i));
  Clear();
  return out;
}

absl::StatusOr<std::vector<std::string_view>> DecodeBatch(std::string_view batch,
                                                          size_t max_transaction_size_bytes,
                                                          size_t max_transactions) {
  if (batch.size() < 4) return absl::InvalidArgumentError("batch: shorter than its 4-byte count");
  const uint32_t count = GetU32(batch, 0);
  if (count > max_transactions) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch: ", count, " transactions exceeds the limit of ", max_transactions));
  }
  std::vector<std::string_view> txs;
  // The count is what the sender claims: each transaction takes at least its
  // 4-byte length, so never reserve more than the bytes can hold (a 12-byte
  // batch claiming 2^32 transactions must not allocate 64 GiB).
  txs.reserve(std::min<size_t>(count, (batch.size() - 4) / 4));
  size_t at = 4;
  for (uint32_t i = 0; i < count; ++i) {
    if (batch.size() - at < 4) return absl::InvalidArgumentError(absl::StrCat("batch: truncated at transaction ", i));
    const uint32_t len = GetU32(batch, at);
    at += 4;
    if (len > max_transaction_size_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("batch: transaction ", i, " is ", len,
                                                     " bytes, over the limit of ",
                                                     max_transaction_size_bytes));
    }
    if (batch.size() - at < len) return absl::InvalidArgumentError(absl::StrCat("batch: truncated in transaction ", i));
    txs.push_back(batch.substr(at, len));
    at += len;
  }
  if (at != batch.size()) {
    return absl::InvalidArgumentError(absl::StrCat("batch: ", batch.size() - at, " trailing bytes"));
  }
  return txs;
}

Digest BatchDigest(std::string_view batch) { return Blake2b256(batch); }

}  // namespace narwhal
