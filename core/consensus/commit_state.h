// What has been committed, in the compact form that survives a restart.
//
// Per author: the highest committed round, and the rounds at or below it
// (above the GC round) whose certificate is NOT committed. A certificate can
// be committed after a later one of the same author: a header need not cite
// its author's previous certificate, so an old certificate may reach a
// leader's history only through a late child. "round <= last committed round
// of the author" alone would call such a certificate committed, and a node
// restored from that state would skip it while the others commit it.
//
// Plus the last committed leader round and the next consensus index.
//
// Serialized form (text, one item per line, single spaces, '\n' after each
// line, decimal without leading zeros; exactly one spelling per state):
//
//   narwhal.consensus.state v1
//   last_committed_round 12
//   next_index 5
//   authorities 4
//   author 0 last_committed 12 uncommitted
//   author 1 last_committed 11 uncommitted 9 10
//   ...
#ifndef NARWHAL_CORE_CONSENSUS_COMMIT_STATE_H_
#define NARWHAL_CORE_CONSENSUS_COMMIT_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/statusor.h"
#include "core/types.h"

namespace narwhal {

class CommitState {
 public:
  CommitState(size_t committee_size, Round gc_depth);

  // Whether the certificate of `author` at `round` was committed. Exact above
  // the GC round; below it, history is forgotten and nothing is ordered.
  bool IsCommitted(AuthorityIndex author, Round round) const;

  // Records one certificate of a sub-DAG. It must be above the GC round and
  // not committed before.
  void RecordCertificate(AuthorityIndex author, Round round);
  // Closes the sub-DAG of the leader of `leader_round` (after all its
  // certificates were recorded): advances the last committed round and the
  // GC round, and returns the sub-DAG's consensus index.
  uint64_t RecordLeader(Round leader_round);

  Round last_committed_round() const { return last_committed_round_; }
  // last_committed_round - gc_depth, floored at 0.
  Round gc_round() const;
  Round last_committed(AuthorityIndex author) const { return last_committed_.at(author); }
  uint64_t next_index() const { return next_index_; }
  size_t committee_size() const { return last_committed_.size(); }

  std::string Serialize() const;
  // Fails, saying what is wrong, unless `text` is exactly what Serialize
  // writes for some consistent state of a committee of `committee_size`.
  static absl::StatusOr<CommitState> Parse(std::string_view text, size_t committee_size,
                                           Round gc_depth);

 private:
  // Checks that the per-author data agrees with the rounds (used by Parse).
  absl::Status Validate() const;

  Round gc_depth_;
  Round last_committed_round_ = 0;
  uint64_t next_index_ = 0;
  std::vector<Round> last_committed_;
  // Per author: rounds in (gc_round, last_committed_[a]) without a committed
  // certificate. At most gc_depth entries each after RecordLeader.
  std::vector<absl::btree_set<Round>> uncommitted_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_COMMIT_STATE_H_
