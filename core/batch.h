// Canonical batch bytes: the bytes a batch digest is computed over and the
// bytes workers exchange. Little-endian u32 count, then per transaction a
// little-endian u32 length and the transaction bytes.
#ifndef NARWHAL_CORE_BATCH_H_
#define NARWHAL_CORE_BATCH_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/types.h"

namespace narwhal {

class BatchBuilder {
 public:
  BatchBuilder() { Clear(); }
  void Add(std::string_view tx);
  size_t count() const { return count_; }
  // Transaction bytes so far (what batch_size_bytes is compared to).
  size_t payload_bytes() const { return payload_bytes_; }
  // Returns the canonical bytes and starts a new, empty batch.
  std::string Seal();

 private:
  void Clear();
  std::string bytes_;
  size_t count_ = 0;
  size_t payload_bytes_ = 0;
};

// Views into `batch` (which must outlive them). Fails on any inconsistency:
// truncation, trailing bytes, a transaction over `max_transaction_size_bytes`,
// or more than `max_transactions`.
absl::StatusOr<std::vector<std::string_view>> DecodeBatch(std::string_view batch,
                                                          size_t max_transaction_size_bytes,
                                                          size_t max_transactions);

Digest BatchDigest(std::string_view batch);

}  // namespace narwhal

#endif  // NARWHAL_CORE_BATCH_H_
