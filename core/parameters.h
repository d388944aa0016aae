// Protocol parameters in the units the core uses (microseconds, bytes), built
// from the config's Parameters message with a precise error per bad field.
// One name per idea: the same words as the JSON config and the docs.
#ifndef NARWHAL_CORE_PARAMETERS_H_
#define NARWHAL_CORE_PARAMETERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/consensus_kind.h"
#include "core/config.pb.h"
#include "core/net/retry.h"
#include "core/types.h"

namespace narwhal {

struct Parameters {
  size_t batch_size_bytes = 500'000;
  TimeUs max_batch_delay_us = 100 * kMillisecondUs;
  // A worker seals its open batch early, before max_batch_delay, once none
  // of its batches awaits a quorum and the batch is at least this old: the
  // batch size then follows the load (what arrives during one replication)
  // instead of a timer (docs/node.md "Throughput, latency and overload"). Off by default (equal
  // to max_batch_delay): on a lossy network many small batches each wait
  // for their own retransmissions and votes wait for all of them (the
  // simulator's 10%-loss runs with 7 and 10 authorities committed far less).
  // local_bench uses 25 ms on loopback.
  TimeUs min_batch_delay_us = 100 * kMillisecondUs;
  size_t header_size = 1;
  TimeUs max_header_delay_us = 100 * kMillisecondUs;
  Round gc_depth = 50;
  TimeUs sync_retry_delay_us = 1 * kSecondUs;
  TimeUs leader_timeout_us = 1 * kSecondUs;
  ConsensusKind protocol = ConsensusKind::kBullshark;
  size_t max_transaction_size_bytes = 64 * 1024;
  // Admission (docs/node.md "Throughput, latency and overload"): a worker refuses
  // transactions (BACKPRESSURE) while it holds this many bytes not yet at a
  // quorum. Unset in the config: 4 x batch_size_bytes, a few batches in
  // replication, so that queueing adds little latency and load beyond what
  // the committee replicates is refused at ingress, not queued.
  size_t max_pending_bytes = 4 * 500'000;
  RetryConfig retry;
  size_t max_pending_requests_per_peer = 10'000;
  Round max_round_ahead = 50;
  // Executed output kept for clients (docs/node.md "Disk budget"): ~1 day
  // of sub-DAGs at the default timers, and a byte cap for loaded runs.
  uint64_t committed_output_retention = 1'000'000;
  uint64_t committed_output_retention_bytes = uint64_t{8} << 30;
  // Certificate-bearing committed rows kept for peers' state sync (~3.3 KB
  // each at 4 authorities): an authority down for longer than this many
  // commits cannot catch up by state sync from these peers.
  uint64_t state_sync_retention = 20'000;
  std::string sqlite_synchronous = "FULL";

  // Unset (zero/empty) fields take the defaults above. Errors name the
  // field as it is spelled in the JSON config ("parameters.gc_depth: ...").
  static absl::StatusOr<Parameters> FromProto(const config::Parameters& proto);
  config::Parameters ToProto() const;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_PARAMETERS_H_
