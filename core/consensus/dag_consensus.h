// The machinery Bullshark and Tusk share: store each certificate, ask the
// protocol which leader (if any) the certificate's arrival may decide, check
// the leader's f+1 stake of votes, then commit it with the earlier leaders it
// reaches (ordering.h), record what was committed (commit_state.h) and
// garbage-collect. A subclass supplies only the decision round.
#ifndef NARWHAL_CORE_CONSENSUS_DAG_CONSENSUS_H_
#define NARWHAL_CORE_CONSENSUS_DAG_CONSENSUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/committee.h"
#include "core/consensus/commit_state.h"
#include "core/consensus/consensus.h"
#include "core/consensus/dag_state.h"
#include "core/dag.h"

namespace narwhal {

class DagConsensus : public Consensus {
 public:
  DagConsensus(const DagConsensus&) = delete;
  DagConsensus& operator=(const DagConsensus&) = delete;

  std::vector<CommittedSubDag> ProcessCertificate(CertificatePtr certificate) final;
  Round last_committed_round() const final { return commit_state_.last_committed_round(); }
  Round gc_round() const final { return commit_state_.gc_round(); }
  std::string SerializeState() const final { return commit_state_.Serialize(); }
  // Replaces all state. The re-fed certificates only rebuild the DAG: no
  // commit rule runs, because Restore has no way to hand out sub-DAGs. A
  // leader whose votes were among them is committed, with the same sub-DAG,
  // by the next certificate of its voting round or, failing that, through
  // the linked path of the next decided leader (every later leader reaches
  // a leader with f+1 votes).
  absl::Status Restore(std::string_view state,
                       const std::vector<CertificatePtr>& uncommitted_dag) final;

  absl::Status ApplySynced(const CommittedSubDag& sub) final;

  // Certificates currently held (for tests and metrics).
  size_t dag_size() const { return dag_.size(); }

 protected:
  DagConsensus(const Committee& committee, const ConsensusOptions& options);

  // The even leader round that the arrival of a certificate of `round` may
  // decide, or nullopt. Called once per stored certificate: keep it O(1).
  virtual std::optional<Round> DecidedLeaderRound(Round round) const = 0;

 private:
  // The leader of `leader_round` if it is stored, not committed and has f+1
  // stake of votes; else null.
  CertificatePtr DecidedLeader(Round leader_round) const;
  std::vector<CommittedSubDag> Commit(const CertificatePtr& leader);

  const Committee committee_;
  const ConsensusOptions options_;
  DagState dag_;  // refers to committee_, declared above
  CommitState commit_state_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_DAG_CONSENSUS_H_
