#include "core/parameters.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace narwhal {
namespace {
absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("parameters.", field, ": ", why));
}

// A duration from the config (ms) in the core's unit (us); refused, not
// wrapped, when it does not fit: at most half of TimeUs's range, so that a
// clock reading plus the duration (a timer's deadline) fits too.
absl::Status MsToUs(absl::string_view field, uint64_t ms, TimeUs* out) {
  constexpr uint64_t kMaxMs = static_cast<uint64_t>(std::numeric_limits<TimeUs>::max() / 2 / kMillisecondUs);
  if (ms > kMaxMs) return Bad(field, absl::StrCat(ms, " ms is too large (at most ", kMaxMs, ")"));
  *out = static_cast<TimeUs>(ms) * kMillisecondUs;
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<Parameters> Parameters::FromProto(const config::Parameters& p) {
  Parameters out;
  for (auto [field, ms, us] : {std::tuple{"max_batch_delay_ms", p.max_batch_delay_ms(), &out.max_batch_delay_us},
                               std::tuple{"min_batch_delay_ms", p.min_batch_delay_ms(), &out.min_batch_delay_us},
                               std::tuple{"max_header_delay_ms", p.max_header_delay_ms(), &out.max_header_delay_us},
                               std::tuple{"sync_retry_delay_ms", p.sync_retry_delay_ms(), &out.sync_retry_delay_us},
                               std::tuple{"leader_timeout_ms", p.leader_timeout_ms(), &out.leader_timeout_us},
                               std::tuple{"retry_initial_interval_ms", p.retry_initial_interval_ms(),
                                          &out.retry.initial_interval_us},
                               std::tuple{"retry_max_interval_ms", p.retry_max_interval_ms(), &out.retry.max_interval_us}}) {
    if (ms == 0) continue;
    if (absl::Status s = MsToUs(field, ms, us); !s.ok()) return s;
  }
  if (p.retry_max_elapsed_ms()) {
    TimeUs us = 0;
    if (absl::Status s = MsToUs("retry_max_elapsed_ms", p.retry_max_elapsed_ms(), &us); !s.ok()) return s;
    out.retry.max_elapsed_us = us;
  }
  if (p.batch_size_bytes()) out.batch_size_bytes = p.batch_size_bytes();
  if (p.header_size()) out.header_size = p.header_size();
  if (p.gc_depth()) out.gc_depth = p.gc_depth();
  if (!p.protocol().empty()) {
    auto kind = ParseConsensusKind(p.protocol());
    if (!kind.ok()) return Bad("protocol", absl::StrCat("must be \"bullshark\" or \"tusk\", got \"", p.protocol(), "\""));
    out.protocol = *kind;
  }
  if (p.max_transaction_size_bytes()) out.max_transaction_size_bytes = p.max_transaction_size_bytes();
  out.max_pending_bytes = p.max_pending_bytes() ? p.max_pending_bytes() : 4 * out.batch_size_bytes;
  if (p.retry_multiplier() != 0) out.retry.multiplier = p.retry_multiplier();
  if (p.retry_randomization_factor() != 0) out.retry.randomization_factor = p.retry_randomization_factor();
  if (p.max_pending_requests_per_peer()) out.max_pending_requests_per_peer = p.max_pending_requests_per_peer();
  if (p.max_round_ahead()) out.max_round_ahead = p.max_round_ahead();
  if (p.committed_output_retention()) out.committed_output_retention = p.committed_output_retention();
  if (p.committed_output_retention_bytes()) {
    out.committed_output_retention_bytes = p.committed_output_retention_bytes();
  }
  if (p.state_sync_retention()) out.state_sync_retention = p.state_sync_retention();
  if (!p.sqlite_synchronous().empty()) out.sqlite_synchronous = p.sqlite_synchronous();

  if (out.retry.multiplier < 1.0) return Bad("retry_multiplier", "must be >= 1");
  if (out.retry.randomization_factor < 0 || out.retry.randomization_factor >= 1) {
    return Bad("retry_randomization_factor", "must be in [0, 1)");
  }
  if (out.retry.max_interval_us < out.retry.initial_interval_us) {
    return Bad("retry_max_interval_ms", "must be >= retry_initial_interval_ms");
  }
  if (out.max_transaction_size_bytes > out.batch_size_bytes * 4 + 1024 * 1024) {
    return Bad("max_transaction_size_bytes", "is far larger than batch_size_bytes");
  }
  // Unset, or not below max_batch_delay: no early sealing.
  if (p.min_batch_delay_ms() == 0 || out.min_batch_delay_us > out.max_batch_delay_us) {
    out.min_batch_delay_us = out.max_batch_delay_us;
  }
  if (out.gc_depth < 4) return Bad("gc_depth", "must be at least 4 rounds");
  if (out.state_sync_retention < 2 * out.gc_depth + 2) {
    return Bad("state_sync_retention", "must be at least 2 * gc_depth + 2 sub-DAGs (restart recovery reads them)");
  }
  if (out.max_round_ahead < 2) return Bad("max_round_ahead", "must be at least 2 rounds");
  // OFF (no sync at all: a crash of the machine can corrupt the store and
  // make an authority equivocate after a restart) is not offered to nodes.
  if (out.sqlite_synchronous != "FULL" && out.sqlite_synchronous != "NORMAL") {
    return Bad("sqlite_synchronous", absl::StrCat("must be FULL or NORMAL, got \"", out.sqlite_synchronous, "\""));
  }
  return out;
}

config::Parameters Parameters::ToProto() const {
  config::Parameters p;
  p.set_batch_size_bytes(batch_size_bytes);
  p.set_max_batch_delay_ms(max_batch_delay_us / kMillisecondUs);
  p.set_min_batch_delay_ms(min_batch_delay_us / kMillisecondUs);
  p.set_header_size(header_size);
  p.set_max_header_delay_ms(max_header_delay_us / kMillisecondUs);
  p.set_gc_depth(gc_depth);
  p.set_sync_retry_delay_ms(sync_retry_delay_us / kMillisecondUs);
  p.set_leader_timeout_ms(leader_timeout_us / kMillisecondUs);
  p.set_protocol(std::string(ConsensusKindName(protocol)));
  p.set_max_transaction_size_bytes(max_transaction_size_bytes);
  p.set_max_pending_bytes(max_pending_bytes);
  p.set_retry_initial_interval_ms(retry.initial_interval_us / kMillisecondUs);
  p.set_retry_max_interval_ms(retry.max_interval_us / kMillisecondUs);
  p.set_retry_multiplier(retry.multiplier);
  p.set_retry_randomization_factor(retry.randomization_factor);
  if (retry.max_elapsed_us) p.set_retry_max_elapsed_ms(*retry.max_elapsed_us / kMillisecondUs);
  p.set_max_pending_requests_per_peer(max_pending_requests_per_peer);
  p.set_max_round_ahead(max_round_ahead);
  p.set_committed_output_retention(committed_output_retention);
  p.set_committed_output_retention_bytes(committed_output_retention_bytes);
  p.set_state_sync_retention(state_sync_retention);
  p.set_sqlite_synchronous(sqlite_synchronous);
  return p;
}

}  // namespace narwhal
