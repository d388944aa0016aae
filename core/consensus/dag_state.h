// The consensus view of the DAG: for every live round (above the GC round)
// the certificate of each author, a digest index to walk parent links, and
// the stake of the next round that references each round's leader. It only
// stores; deciding and ordering live in ordering.h and dag_consensus.h.
//
//   DagState dag(committee);
//   if (dag.Insert(cert) == DagState::InsertResult::kInserted) { ... }
//   uint64_t votes = dag.LeaderSupport(leader_round);
#ifndef NARWHAL_CORE_CONSENSUS_DAG_STATE_H_
#define NARWHAL_CORE_CONSENSUS_DAG_STATE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "core/committee.h"
#include "core/dag.h"

namespace narwhal {

class DagState {
 public:
  enum class InsertResult {
    kInserted,
    kDuplicate,         // this very certificate is already stored
    kEquivocation,      // another certificate holds (author, round): kept the first
    kUnknownAuthor,     // author outside the committee
    kGarbageCollected,  // round at or below the GC round
  };

  // `committee` must outlive this object.
  explicit DagState(const Committee& committee);

  DagState(const DagState&) = delete;
  DagState& operator=(const DagState&) = delete;

  // Stores `certificate` unless the result says why not. O(log rounds +
  // log parents): this runs for every certificate, so it never walks the DAG.
  InsertResult Insert(CertificatePtr certificate);

  // The certificate of `author` at `round`, or a null pointer. The reference
  // is valid until the next Insert, GarbageCollect or Clear.
  const CertificatePtr& Get(Round round, AuthorityIndex author) const;
  // The stored certificate with this digest, or a null pointer (never fed,
  // or garbage-collected). Same validity as Get.
  const CertificatePtr& Find(const Digest& digest) const;

  // Stake of the round `leader_round + 1` certificates that have the leader
  // certificate of `leader_round` (committee.Leader) as a parent: the
  // leader's votes. Counted on insertion, so a child fed before its leader
  // (a caller bug) does not count.
  uint64_t LeaderSupport(Round leader_round) const;

  // Drops every round at or below `gc_round` and refuses them from now on.
  // `gc_round` never goes down.
  void GarbageCollect(Round gc_round);
  // Forgets everything and refuses rounds at or below `gc_round`.
  void Clear(Round gc_round);

  Round gc_round() const { return gc_round_; }
  size_t committee_size() const { return committee_.size(); }
  size_t size() const { return index_.size(); }

 private:
  struct RoundSlots {
    std::vector<CertificatePtr> by_author;  // committee.size() slots
    uint64_t leader_support = 0;
  };

  void CountLeaderSupport(const Certificate& certificate);

  const Committee& committee_;
  Round gc_round_ = 0;
  // Ordered by round so GC pops from the front; slots indexed by author.
  absl::btree_map<Round, RoundSlots> rounds_;
  // Lookup only, never iterated: a hash map's order is seeded per process.
  absl::flat_hash_map<Digest, std::pair<Round, AuthorityIndex>> index_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_CONSENSUS_DAG_STATE_H_
