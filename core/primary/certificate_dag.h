// The primary's DAG of certificates above the garbage-collection round: one
// certificate per (round, author), found by digest or by position, with the
// parent check every header and certificate goes through.
//
// Invariants (CHECKed where they are established):
//   - at most one certificate per (round, author), and one per digest;
//   - nothing below the pruning bound is inserted, and the bound only rises;
//   - a header marked "parents valid" named only round-1 certificates of
//     distinct authors carrying quorum stake.
// Iteration is by (round, author) and deterministic; the hash maps are for
// lookup only.
#ifndef NARWHAL_CORE_PRIMARY_CERTIFICATE_DAG_H_
#define NARWHAL_CORE_PRIMARY_CERTIFICATE_DAG_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "core/committee.h"
#include "core/dag.h"

namespace narwhal {

class CertificateDag {
 public:
  using Authors = absl::btree_map<AuthorityIndex, CertificatePtr>;
  using Rounds = absl::btree_map<Round, Authors>;

  explicit CertificateDag(const Committee* committee) : committee_(committee) {}

  // Adds `c`. The caller checked that (round, author) is free and that the
  // round is not pruned.
  void Insert(const CertificatePtr& c);
  bool Contains(const Digest& d) const { return by_digest_.contains(d); }
  // Null if not held.
  const Certificate* Find(const Digest& d) const {
    auto it = by_digest_.find(d);
    return it == by_digest_.end() ? nullptr : it->second.get();
  }
  bool HasAuthorAt(Round round, AuthorityIndex author) const {
    auto it = rounds_.find(round);
    return it != rounds_.end() && it->second.contains(author);
  }
  // Stake of the authors holding a certificate of `round`.
  uint64_t StakeAt(Round round) const;
  size_t size() const { return by_digest_.size(); }

  // Read-only view by round, for walks over the DAG (the map's own find,
  // at, begin and rbegin).
  const Rounds& rounds() const { return rounds_; }
  Rounds::const_iterator find(Round r) const { return rounds_.find(r); }
  const Authors& at(Round r) const { return rounds_.at(r); }
  Rounds::const_iterator begin() const { return rounds_.begin(); }
  Rounds::const_iterator end() const { return rounds_.end(); }
  Rounds::const_reverse_iterator rbegin() const { return rounds_.rbegin(); }
  Rounds::const_reverse_iterator rend() const { return rounds_.rend(); }
  bool empty() const { return rounds_.empty(); }

  // Looks every parent of `header` up once. Missing ones go to `missing`
  // (if given) and the result is NotFound. With none missing: the parents
  // must be of round - 1, of distinct authors, with quorum stake; on
  // success the header is remembered as valid (the DAG loses nothing above
  // the GC round, so the answer cannot change). Headers whose parents are
  // at or below `gc_round` pass unchecked.
  absl::Status CheckParents(const Header& header, Round gc_round, absl::btree_set<Digest>* missing);

  // Drops rounds <= gc_round (and validity marks up to gc_round + 1).
  // `gc_round` never decreases.
  void Prune(Round gc_round);

 private:
  void MarkParentsValid(const Header& header);

  const Committee* const committee_;
  Rounds rounds_;
  absl::flat_hash_map<Digest, CertificatePtr> by_digest_;  // lookup only
  // Per round, the digests held with their authors, sorted by digest: a
  // header's parents (sorted too) are found by one merge instead of n hash
  // lookups (those lookups led the profile of 100-node simulations).
  absl::btree_map<Round, std::vector<std::pair<Digest, AuthorityIndex>>> round_digests_;
  absl::flat_hash_set<Digest> parents_valid_;  // lookup only
  absl::btree_map<Round, std::vector<Digest>> parents_valid_by_round_;
  // Rounds below this were pruned; nothing may be inserted there.
  Round pruned_below_ = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_PRIMARY_CERTIFICATE_DAG_H_
