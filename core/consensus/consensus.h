// The ordering layer: Bullshark (default) and Tusk behind one interface. A
// protocol is fed certificates in causal order (every parent above the
// garbage-collection round was fed before its child) and returns the
// sub-DAGs that became committed, in commit order. It is a pure state
// machine: no clock, no I/O, no randomness.
//
//   auto consensus = MakeConsensus(ConsensusKind::kBullshark, committee, options);  // make_consensus.h
//   for (const CommittedSubDag& sub : consensus->ProcessCertificate(cert)) emit(sub);
#ifndef NARWHAL_CORE_CONSENSUS_CONSENSUS_H_
#define NARWHAL_CORE_CONSENSUS_CONSENSUS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/committee.h"
#include "core/consensus_kind.h"
#include "core/dag.h"

namespace narwhal {

struct ConsensusOptions {
  Round gc_depth = 50;
  // Test-only fault injection for the simulator's own tests (issue 7): when
  // set, the commit rule ignores the f+1 support requirement. Never set in
  // production code paths.
  bool test_only_break_commit_rule = false;
};

struct CommittedSubDag {
  uint64_t index = 0;                        // consensus index, 0-based, no gaps
  CertificatePtr leader;
  std::vector<CertificatePtr> certificates;  // deterministic order, leader last
  // Filled by the primary, not by consensus: the batches to execute, in
  // certificate order, without batches an earlier sub-DAG already carried (a
  // batch re-proposed from a certificate that looked orphaned may still be
  // committed twice; it is executed once).
  std::vector<BatchRef> batches;
};

class Consensus {
 public:
  virtual ~Consensus() = default;
  // Feeds one certificate. Certificates of rounds at or below the GC round,
  // or already fed, are ignored, as are (with a warning) a second
  // certificate for an (author, round) and authors outside the committee.
  // Parents missing from the DAG (a caller bug) are skipped, not fatal.
  // Cost: O(log) per certificate; walking the DAG happens only on commit.
  virtual std::vector<CommittedSubDag> ProcessCertificate(CertificatePtr certificate) = 0;
  virtual Round last_committed_round() const = 0;
  // Rounds below this are garbage-collected: last_committed_round - gc_depth.
  virtual Round gc_round() const = 0;
  // Per-author last committed rounds, last committed round, next index, and
  // per author the rounds below its last committed one whose certificate is
  // not committed yet (a certificate can be committed after a later one of
  // its author). Canonical text; format in commit_state.h.
  virtual std::string SerializeState() const = 0;
  // Restores from SerializeState's output, then re-feeds `uncommitted_dag`
  // (certificates above the GC round read back from the store, in round
  // order) without committing anything that was committed before. Replaces
  // all state; on error nothing changes. Re-fed certificates may include
  // committed ones. Restore itself never commits: a leader decided by the
  // re-fed certificates commits, with the same sub-DAG, on a later call.
  virtual absl::Status Restore(std::string_view state,
                               const std::vector<CertificatePtr>& uncommitted_dag) = 0;
  // State sync: applies a sub-DAG that the others committed (a node too far
  // behind to rebuild the DAG learns it from f+1 authorities). `sub.index`
  // must be the next index and its leader above the last committed round.
  // Its certificates are recorded as committed; the GC round advances.
  virtual absl::Status ApplySynced(const CommittedSubDag& sub) = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_CONSENSUS_H_
