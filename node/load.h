// The load generator behind `narwhal_client submit` and the local
// benchmark: sends benchmark transactions (client_lib.h layout) to one
// worker at a fixed rate, in requests of up to request_transactions_max,
// and waits for their acceptance.
#ifndef NARWHAL_NODE_LOAD_H_
#define NARWHAL_NODE_LOAD_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace narwhal::node {

struct SubmitOptions {
  std::string address;
  size_t tx_size = 512;
  double rate = 1000;        // transactions per second
  double duration_s = 10;
  uint64_t count = 0;        // stop after this many (0: rate * duration)
  uint64_t sample_every = 100;  // every n-th transaction is a sample ('S')
  double wait_s = 20;        // after sending, wait this long at most for acceptance
  uint64_t client_id = 0;    // 0: random
  int tick_ms = 5;
  int request_transactions_max = 2000;
  // When set and true, stop sending (and waiting) early.
  const std::atomic<bool>* stop = nullptr;
};

struct SubmitReport {
  uint64_t client_id = 0;
  uint64_t submitted = 0;   // sent in a request
  uint64_t sequenced = 0;
  uint64_t refused_backpressure = 0;
  uint64_t refused_oversized = 0;
  uint64_t refused_other = 0;
  uint64_t accepted = 0;
  uint64_t not_sent = 0;    // our socket's queue was full
  double acceptance_ms_p50 = 0;
  double acceptance_ms_p99 = 0;
  double send_seconds = 0;
  int64_t first_send_unix_us = 0;
  std::string ToJson() const;
};

absl::StatusOr<SubmitReport> RunSubmit(void* context, const SubmitOptions& options);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_LOAD_H_
