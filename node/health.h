// The health verdict of one role of a node: healthy, or degraded with the
// reasons. A pure function of what the role observed (HealthInputs), so it
// is unit-tested without a cluster; the node fills the inputs from its core
// state (node/role_observer.h) and answers client::StatusRequest with it
// (`narwhal_node status`), and exports it as metrics (docs/metrics.md).
//
// What "degraded" means, and why each rule:
//  - starting: no certificate of ours from a round after the one we
//    started in has been committed yet. Applies from the first second, so
//    that a restarted node says healthy only once it takes part again (a
//    rolling restart waits for exactly that).
//  - behind: the highest round certified by another authority is more than
//    behind_rounds_max above ours. A primary that stopped advancing while
//    the others go on (cut off, or stuck) looks exactly like this.
//  - own certificates not committed: the committee commits, but none of our
//    certificates for more than own_uncommitted_rounds_max rounds. The
//    others do not reference us: our clients' transactions wait.
//  - no commit: nothing committed for no_commit_us_max although we hold
//    certificates of higher rounds (a stuck committee or a stuck consensus).
//  - peers unreachable: a peer we have been waiting on for an answer for
//    more than peer_silent_us_max.
//  - worker at its pending limit: it refuses transactions (BACKPRESSURE).
//  - store: free disk under disk_free_bytes_min, or a WAL over
//    wal_bytes_max (checkpoints not keeping up).
#ifndef NARWHAL_NODE_HEALTH_H_
#define NARWHAL_NODE_HEALTH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"

namespace narwhal::node {

struct HealthThresholds {
  uint64_t behind_rounds_max = 20;
  uint64_t own_uncommitted_rounds_max = 50;
  TimeUs no_commit_us_max = 30 * kSecondUs;
  TimeUs peer_silent_us_max = 10 * kSecondUs;
  // Grace after the role starts: a restarting node catches up first.
  TimeUs startup_grace_us = 30 * kSecondUs;
  double pending_fraction_max = 0.9;
  uint64_t disk_free_bytes_min = 1ull << 30;
  uint64_t wal_bytes_max = 1ull << 30;
};

struct PrimaryHealthInputs {
  Round round = 0;
  Round highest_peer_round = 0;  // certified by another authority
  Round last_committed_round = 0;
  // The last committed round holding one of our certificates (or, before
  // the first, the committed round when the role started).
  Round last_own_committed_round = 0;
  TimeUs since_last_commit_us = 0;
  // One of our certificates above the round we started in was committed:
  // we take part again (until then a restarted primary is "starting",
  // whatever else it reports).
  bool own_committed_since_start = true;
};

struct WorkerHealthInputs {
  uint64_t pending_bytes = 0;
  uint64_t max_pending_bytes = 0;
};

struct HealthInputs {
  TimeUs uptime_us = 0;
  std::optional<PrimaryHealthInputs> primary;
  std::optional<WorkerHealthInputs> worker;
  // Peers waited on longer than peer_silent_us_max ("primary-2", "worker-1.0").
  std::vector<std::string> unreachable_peers;
  uint64_t wal_bytes = 0;
  std::optional<uint64_t> disk_free_bytes;  // unknown if statvfs failed
};

struct HealthReport {
  bool healthy() const { return problems.empty(); }
  std::vector<std::string> problems;
};

HealthReport AssessHealth(const HealthInputs& in, const HealthThresholds& limits);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_HEALTH_H_
