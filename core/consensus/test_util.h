// Helpers for the consensus tests, after the Narwhal reference's consensus
// tests: build DAGs of unsigned certificates with chosen parents (consensus
// never checks signatures), feed them, and check the committed sequence.
#ifndef NARWHAL_CORE_CONSENSUS_TEST_UTIL_H_
#define NARWHAL_CORE_CONSENSUS_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "core/committee.h"
#include "core/consensus/consensus.h"
#include "core/dag.h"

namespace narwhal::consensus_test {

Committee MakeCommittee(const std::vector<uint64_t>& stakes);
Committee EqualCommittee(size_t n);

// A certificate with no payload and no votes; `parents` in any order.
CertificatePtr MakeCertificate(AuthorityIndex author, Round round, std::vector<Digest> parents);

// A DAG under construction, addressed by (round, author). Round 0 is the
// genesis set. all() lists certificates in creation order, which is causal.
class DagBuilder {
 public:
  explicit DagBuilder(const Committee& committee);

  // The certificate of `author` at `round` with the round-1 certificates of
  // `parent_authors` as parents (each must exist).
  CertificatePtr Add(AuthorityIndex author, Round round,
                     const std::vector<AuthorityIndex>& parent_authors);
  // For each round in [first, last], a certificate per author of `authors`
  // citing every certificate of the previous round.
  void AddRounds(Round first, Round last, const std::vector<AuthorityIndex>& authors);

  CertificatePtr Get(Round round, AuthorityIndex author) const;
  std::vector<AuthorityIndex> AuthorsAt(Round round) const;
  const std::vector<CertificatePtr>& all() const { return all_; }
  // all() restricted to rounds in [first, last].
  std::vector<CertificatePtr> Rounds(Round first, Round last) const;
  const Committee& committee() const { return committee_; }

 private:
  Committee committee_;
  absl::btree_map<std::pair<Round, AuthorityIndex>, CertificatePtr> by_slot_;
  std::vector<CertificatePtr> all_;
};

std::vector<CommittedSubDag> Feed(Consensus& consensus,
                                  const std::vector<CertificatePtr>& certificates);

std::vector<Digest> Digests(const std::vector<CertificatePtr>& certificates);
// One line per sub-DAG ("index leader(round,author): (r,a) (r,a) ..."), for
// comparisons whose failure message a human can read.
std::vector<std::string> Describe(const std::vector<CommittedSubDag>& sequence);

// The properties every committed sequence must have, whatever the DAG:
// indices 0,1,2,... from `first_index`; leader last and at the highest round;
// certificates sorted by (round, author); no certificate twice; leader rounds
// increasing; every parent above the GC round at commit time that `universe`
// knows is committed no later than its child. `gc_depth` as configured.
void ExpectValidSequence(const std::vector<CommittedSubDag>& sequence,
                         const std::vector<CertificatePtr>& universe, Round gc_depth,
                         uint64_t first_index = 0);

}  // namespace narwhal::consensus_test

#endif  // NARWHAL_CORE_CONSENSUS_TEST_UTIL_H_
