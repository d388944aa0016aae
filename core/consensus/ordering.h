// The ordering shared by Bullshark and Tusk once a leader is decided: which
// earlier leaders come with it, and the order of each leader's sub-DAG. The
// protocols differ only in when they decide a leader (bullshark.h, tusk.h).
//
// Everything here walks the DAG, so it runs only on commit, never per
// certificate.
#ifndef NARWHAL_CORE_CONSENSUS_ORDERING_H_
#define NARWHAL_CORE_CONSENSUS_ORDERING_H_

#include <vector>

#include "core/committee.h"
#include "core/consensus/commit_state.h"
#include "core/consensus/dag_state.h"
#include "core/dag.h"

namespace narwhal {

// Whether `from` reaches `to` by a path of parent links through certificates
// stored in `dag` (a certificate reaches itself). Parents missing from the
// DAG end their path.
bool Linked(const DagState& dag, const Certificate& from, const Certificate& to);

// The leaders that `leader` commits, oldest first and `leader` last: walking
// the leader rounds leader.round-2, leader.round-4, ... down to
// last_committed_round+2, each leader present in the DAG and reached by the
// most recently kept one is kept. Committing them first is what keeps nodes
// in agreement: a leader another node committed directly has f+1 votes, so
// every later leader with a quorum of parents reaches it.
std::vector<CertificatePtr> LeadersToCommit(const DagState& dag, const Committee& committee,
                                            const CertificatePtr& leader,
                                            Round last_committed_round);

// `leader`'s causal history that is not committed yet and above the GC round,
// sorted by (round, author); the leader comes last. A DFS from the leader that
// stops at committed certificates, the GC round and parents missing from the
// DAG; the sort makes the order independent of the parents' listing.
std::vector<CertificatePtr> OrderSubDag(const DagState& dag, const CommitState& committed,
                                        const CertificatePtr& leader);

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_ORDERING_H_
