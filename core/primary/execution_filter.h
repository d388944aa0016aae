// Which committed batches have been handed to execution already, so that a
// batch proposed twice (our re-proposal of an orphaned certificate's
// batches, both copies committed after all) is executed once.
//
// Deterministic: what it remembers derives from the committed sequence
// only, so every honest node filters the same way. The memory is bounded:
// a digest is forgotten `window_rounds` leader rounds after it was
// committed (a re-proposal happens within gc_depth rounds of the original,
// and the window is 4 * gc_depth).
#ifndef NARWHAL_CORE_PRIMARY_EXECUTION_FILTER_H_
#define NARWHAL_CORE_PRIMARY_EXECUTION_FILTER_H_

#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "core/consensus/consensus.h"
#include "core/dag.h"

namespace narwhal {

class ExecutionFilter {
 public:
  explicit ExecutionFilter(Round window_rounds) : window_rounds_(window_rounds) {}

  // Remembers `digest` as committed at leader round `round`; false if it
  // was remembered already (the second copy: skip it).
  bool Remember(const Digest& digest, Round round);
  // The batches of `sub` not executed before, in the sub-DAG's order
  // (certificates in order, each one's payload in order) into sub.batches;
  // then forgets what is older than the window below the leader's round.
  void Fill(CommittedSubDag& sub);
  size_t size() const { return rounds_.size(); }

 private:
  const Round window_rounds_;
  absl::flat_hash_map<Digest, Round> rounds_;  // lookup only
  absl::btree_map<Round, std::vector<Digest>> by_round_;
  Round last_fill_round_ = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_PRIMARY_EXECUTION_FILTER_H_
