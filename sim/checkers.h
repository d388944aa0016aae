// The simulator's always-on checkers (DESIGN.md section 8):
//   agreement     every honest node's committed sequence is a prefix of one
//                 sequence (same sub-DAG at every consensus index), with no
//                 gap and no repeat per node;
//   integrity     only transactions a client submitted are committed, each once;
//   availability  every transaction an honest worker accepted is committed
//                 by the end of the run (after the heal and the drain);
//   liveness      commits resume within a bound after the last heal;
//   authority_liveness  every honest authority up at the end has a
//                 certificate committed within that bound after the heal;
//   dag           one certificate per (author, round) across all honest
//                 views, parents of round r-1 carrying quorum stake;
//   votes         no honest authority votes for two headers of one
//                 (author, round) (counted on the wire).
// A violation records the checker, the virtual time and the evidence.
#ifndef NARWHAL_SIM_CHECKERS_H_
#define NARWHAL_SIM_CHECKERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/committee.h"
#include "core/consensus/consensus.h"
#include "core/dag.h"

namespace narwhal::sim {

struct Violation {
  std::string checker;
  TimeUs at_us = 0;
  std::string evidence;
};

class Checkers {
 public:
  Checkers(const Committee* committee, absl::btree_set<AuthorityIndex> byzantine)
      : committee_(committee), byzantine_(std::move(byzantine)) {}

  void OnBatchSealed(const Digest& digest, std::vector<uint64_t> tx_ids);
  void OnTransactionsAccepted(const std::vector<uint64_t>& tx_ids);
  void OnCommit(AuthorityIndex node, const CommittedSubDag& sub, TimeUs now_us);
  void OnCertificate(AuthorityIndex node, const CertificatePtr& cert, TimeUs now_us);
  void OnVoteOnWire(AuthorityIndex voter, AuthorityIndex origin, Round round, const Digest& header,
                    TimeUs now_us);
  // End-of-run checks: availability, and liveness after `heal_us`.
  void Finish(TimeUs heal_us, TimeUs end_us, TimeUs liveness_bound_us);
  // Per-authority liveness: each honest authority in `up_at_end` has a
  // certificate committed within the bound after the heal (global commits
  // can hide an authority that never certifies again).
  void FinishPerAuthority(TimeUs heal_us, TimeUs end_us, TimeUs liveness_bound_us,
                          const absl::btree_set<AuthorityIndex>& up_at_end);

  const std::vector<Violation>& violations() const { return violations_; }
  // For checkers kept in their own files (sim/output_checker.h).
  void AddViolation(std::string checker, TimeUs at_us, std::string evidence) {
    Violate(std::move(checker), at_us, std::move(evidence));
  }
  const absl::flat_hash_set<uint64_t>& accepted_tx() const { return accepted_tx_; }
  uint64_t committed_sub_dags() const { return sequence_.size(); }
  uint64_t committed_certificates() const { return committed_certificates_; }
  uint64_t committed_transactions() const { return committed_tx_.size(); }
  uint64_t accepted_transactions() const { return accepted_tx_count_; }
  Round last_committed_round() const { return last_committed_round_; }
  TimeUs last_commit_us() const { return last_commit_us_; }
  // Commit latency samples (virtual us): batch sealed -> first commit.
  const std::vector<TimeUs>& batch_commit_latencies_us() const { return latencies_us_; }
  void set_batch_created(const Digest& d, TimeUs t) { batch_created_us_[d] = t; }
  // (time, index) of every first commit of an index, for plots.
  const std::vector<std::pair<TimeUs, TimeUs>>& commit_timeline() const { return timeline_; }
  // Stop recording once the first violation is seen (the run stops anyway).
  bool failed() const { return !violations_.empty(); }

 private:
  bool Honest(AuthorityIndex a) const { return !byzantine_.contains(a); }
  void Violate(std::string checker, TimeUs at, std::string evidence);
  static uint64_t Fingerprint(const CommittedSubDag& sub);

  const Committee* committee_;
  absl::btree_set<AuthorityIndex> byzantine_;
  std::vector<Violation> violations_;

  // agreement
  std::vector<uint64_t> sequence_;                      // index -> sub-DAG fingerprint
  absl::btree_map<AuthorityIndex, uint64_t> next_index_;
  uint64_t committed_certificates_ = 0;
  Round last_committed_round_ = 0;
  TimeUs last_commit_us_ = -1;
  std::vector<std::pair<TimeUs, TimeUs>> timeline_;
  // author -> first-commit times of its certificates (per-authority liveness).
  absl::btree_map<AuthorityIndex, std::vector<TimeUs>> author_commits_us_;

  // integrity and availability (lookup only; reports sort what they print)
  absl::flat_hash_map<Digest, std::vector<uint64_t>> batches_;
  absl::flat_hash_set<uint64_t> accepted_tx_;
  uint64_t accepted_tx_count_ = 0;
  absl::flat_hash_set<uint64_t> committed_tx_;
  absl::flat_hash_set<Digest> committed_batches_;
  absl::flat_hash_map<Digest, TimeUs> batch_created_us_;
  absl::flat_hash_map<uint64_t, Digest> tx_batch_;                 // tx -> batch (evidence)
  absl::flat_hash_map<Digest, std::pair<Round, AuthorityIndex>> batch_certified_;  // first certificate carrying it
  std::vector<TimeUs> latencies_us_;

  // dag
  absl::btree_map<std::pair<Round, AuthorityIndex>, Digest> certified_;
  absl::flat_hash_map<Digest, std::pair<Round, AuthorityIndex>> cert_index_;

  // votes
  absl::flat_hash_map<uint64_t, Digest> votes_;  // key: voter, origin, round
};

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_CHECKERS_H_
