#include "node/health.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace narwhal::node {

HealthReport AssessHealth(const HealthInputs& in, const HealthThresholds& limits) {
  HealthReport report;
  std::vector<std::string>& problems = report.problems;
  const bool settled = in.uptime_us >= limits.startup_grace_us;
  if (in.primary.has_value() && !in.primary->own_committed_since_start) {
    problems.push_back(absl::StrCat("starting (", in.uptime_us / kSecondUs,
                                    " s ago): no own certificate committed since"));
  }
  if (in.primary.has_value() && settled) {
    const PrimaryHealthInputs& p = *in.primary;
    if (p.highest_peer_round > p.round + limits.behind_rounds_max) {
      problems.push_back(absl::StrCat("behind the others by ", p.highest_peer_round - p.round,
                                      " rounds (round ", p.round, ", others at ",
                                      p.highest_peer_round, ")"));
    }
    if (p.last_committed_round > p.last_own_committed_round + limits.own_uncommitted_rounds_max) {
      problems.push_back(absl::StrCat("own certificates not committed for ",
                                      p.last_committed_round - p.last_own_committed_round,
                                      " rounds (last in round ", p.last_own_committed_round, ")"));
    }
    if (p.since_last_commit_us > limits.no_commit_us_max) {
      problems.push_back(absl::StrCat("nothing committed for ", p.since_last_commit_us / kSecondUs,
                                      " s (last committed round ", p.last_committed_round, ")"));
    }
  }
  if (in.worker.has_value() && in.worker->max_pending_bytes > 0) {
    const WorkerHealthInputs& w = *in.worker;
    if (static_cast<double>(w.pending_bytes) >=
        limits.pending_fraction_max * static_cast<double>(w.max_pending_bytes)) {
      problems.push_back(absl::StrCat("at its pending limit (", w.pending_bytes, " of ",
                                      w.max_pending_bytes,
                                      " bytes not at quorum): refusing transactions"));
    }
  }
  if (!in.unreachable_peers.empty()) {
    problems.push_back(absl::StrCat("peers unreachable for over ", limits.peer_silent_us_max / kSecondUs,
                                    " s: ", absl::StrJoin(in.unreachable_peers, ", ")));
  }
  if (in.disk_free_bytes.has_value() && *in.disk_free_bytes < limits.disk_free_bytes_min) {
    problems.push_back(absl::StrCat("store disk nearly full: ", *in.disk_free_bytes >> 20,
                                    " MiB free"));
  }
  if (in.wal_bytes > limits.wal_bytes_max) {
    problems.push_back(absl::StrCat("store write-ahead log at ", in.wal_bytes >> 20,
                                    " MiB: checkpoints are not keeping up"));
  }
  return report;
}

}  // namespace narwhal::node
