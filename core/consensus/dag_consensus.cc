#include "core/consensus/dag_consensus.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

#include "core/consensus/ordering.h"
#include "glog/logging.h"

namespace narwhal {

DagConsensus::DagConsensus(const Committee& committee, const ConsensusOptions& options)
    : committee_(committee),
      options_(options),
      dag_(committee_),
      commit_state_(committee_.size(), options_.gc_depth) {
  if (options_.test_only_break_commit_rule) {
    LOG(WARNING) << "consensus: test_only_break_commit_rule is set: commits without f+1 votes";
  }
}

std::vector<CommittedSubDag> DagConsensus::ProcessCertificate(CertificatePtr certificate) {
  CHECK(certificate != nullptr);
  const Round round = certificate->round();
  if (dag_.Insert(std::move(certificate)) != DagState::InsertResult::kInserted) return {};
  std::optional<Round> leader_round = DecidedLeaderRound(round);
  if (!leader_round.has_value()) return {};
  CHECK(*leader_round >= 2 && *leader_round % 2 == 0 && *leader_round < round);
  CertificatePtr leader = DecidedLeader(*leader_round);
  if (leader == nullptr) return {};
  return Commit(leader);
}

CertificatePtr DagConsensus::DecidedLeader(Round leader_round) const {
  if (leader_round <= commit_state_.last_committed_round()) return nullptr;
  const CertificatePtr& leader = dag_.Get(leader_round, committee_.Leader(leader_round));
  if (leader == nullptr) return nullptr;
  // f+1 by stake, not by head count: at least one honest voter, so any
  // quorum of the next round intersects the voters and reaches the leader.
  if (!options_.test_only_break_commit_rule &&
      dag_.LeaderSupport(leader_round) < committee_.ValidityThreshold()) {
    return nullptr;
  }
  return leader;
}

std::vector<CommittedSubDag> DagConsensus::Commit(const CertificatePtr& leader) {
  std::vector<CommittedSubDag> committed;
  // One leader at a time, GC in between, exactly as if each had been decided
  // on its own: the sequence must not depend on how decisions were batched.
  for (CertificatePtr& next :
       LeadersToCommit(dag_, committee_, leader, commit_state_.last_committed_round())) {
    CommittedSubDag sub_dag;
    sub_dag.certificates = OrderSubDag(dag_, commit_state_, next);
    for (const CertificatePtr& certificate : sub_dag.certificates) {
      commit_state_.RecordCertificate(certificate->author(), certificate->round());
    }
    sub_dag.index = commit_state_.RecordLeader(next->round());
    sub_dag.leader = std::move(next);
    dag_.GarbageCollect(commit_state_.gc_round());
    VLOG(1) << "consensus: committed leader " << sub_dag.leader->digest.Short() << " round "
            << sub_dag.leader->round() << " index " << sub_dag.index << " with "
            << sub_dag.certificates.size() << " certificates";
    committed.push_back(std::move(sub_dag));
  }
  return committed;
}

absl::Status DagConsensus::ApplySynced(const CommittedSubDag& sub) {
  if (sub.index != commit_state_.next_index()) {
    return absl::FailedPreconditionError(absl::StrCat("synced sub-DAG has index ", sub.index,
                                                      ", the next index is ", commit_state_.next_index()));
  }
  if (sub.leader == nullptr || sub.leader->round() <= commit_state_.last_committed_round()) {
    return absl::InvalidArgumentError("synced sub-DAG's leader is not above the last committed round");
  }
  const Round gc = commit_state_.gc_round();
  for (const CertificatePtr& certificate : sub.certificates) {
    if (certificate->round() <= gc || commit_state_.IsCommitted(certificate->author(), certificate->round())) {
      continue;
    }
    commit_state_.RecordCertificate(certificate->author(), certificate->round());
    dag_.Insert(certificate);
  }
  commit_state_.RecordLeader(sub.leader->round());
  dag_.GarbageCollect(commit_state_.gc_round());
  return absl::OkStatus();
}

absl::Status DagConsensus::Restore(std::string_view state,
                                   const std::vector<CertificatePtr>& uncommitted_dag) {
  absl::StatusOr<CommitState> parsed =
      CommitState::Parse(state, committee_.size(), options_.gc_depth);
  if (!parsed.ok()) return parsed.status();
  commit_state_ = std::move(*parsed);
  dag_.Clear(commit_state_.gc_round());
  // Parents before children whatever order the store returned: leader votes
  // are counted on insertion and need the leader first.
  std::vector<CertificatePtr> by_round;
  by_round.reserve(uncommitted_dag.size());
  for (const CertificatePtr& certificate : uncommitted_dag) {
    if (certificate != nullptr) by_round.push_back(certificate);
  }
  std::stable_sort(by_round.begin(), by_round.end(),
                   [](const CertificatePtr& a, const CertificatePtr& b) {
                     return a->round() < b->round();
                   });
  // Whether each one was committed is CommitState's answer, not a property
  // of the certificate, so committed ones may be re-fed too.
  for (CertificatePtr& certificate : by_round) dag_.Insert(std::move(certificate));
  return absl::OkStatus();
}

}  // namespace narwhal
