// The simulator's output checker (DESIGN.md section 8): what a client reads
// from each authority, checked where the client reads it. Every authority's
// executor appends rows (wire::ExecutedSubDag) to its primary's store; a
// client's stream from index 0 is a read of those rows. This checker holds
//   live    each executed row is byte-identical to every other honest
//           authority's row at that index (in any incarnation), executes
//           exactly the batches consensus committed there, and every batch's
//           bytes match its digest and decode into submitted transactions,
//           none of them twice in the stream;
//   at end  each honest authority's store, read from index 0 as a client
//           would (after every crash and restart the run had), is gap-free
//           from 0 (or from its retention's first kept index), equal to the
//           reference rows, and, if the authority is up, reaches every
//           sub-DAG consensus committed at least kExecutionGraceUs before
//           the end, with every accepted transaction in them.
// Violations go to the Checkers' list under the name "output".
#ifndef NARWHAL_SIM_OUTPUT_CHECKER_H_
#define NARWHAL_SIM_OUTPUT_CHECKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_set.h"
#include "core/consensus/consensus.h"
#include "core/store/store.h"
#include "sim/checkers.h"

namespace narwhal::sim {

class OutputChecker {
 public:
  OutputChecker(Checkers* checkers, absl::btree_set<AuthorityIndex> byzantine, uint64_t retention_sub_dags)
      : checkers_(checkers), byzantine_(std::move(byzantine)), retention_sub_dags_(retention_sub_dags) {}

  // Consensus committed `sub` at an honest authority (the batches to execute).
  void OnCommit(AuthorityIndex a, const CommittedSubDag& sub, TimeUs now_us);
  // How far an up authority's executor may lag behind consensus at the end
  // (it fetches batches its workers lack, with retries).
  static constexpr TimeUs kExecutionGraceUs = 5 * kSecondUs;
  // Authority `a`'s executor made `row` durable.
  void OnExecuted(AuthorityIndex a, const ExecutedRow& row, TimeUs now_us);
  // `store` is authority `a`'s primary store; `up`: whether it runs at the end.
  void FinishAuthority(AuthorityIndex a, Store* store, bool up, const absl::flat_hash_set<uint64_t>& accepted,
                       TimeUs end_us);

  uint64_t rows_checked() const { return rows_checked_; }
  uint64_t streams_checked() const { return streams_checked_; }

 private:
  struct Reference {
    std::shared_ptr<const std::string> row;
    std::vector<uint64_t> tx_ids;
  };
  bool Honest(AuthorityIndex a) const { return !byzantine_.contains(a); }
  // Checks `row` against the reference at its index (made from it if none);
  // false after a violation.
  bool CheckRow(AuthorityIndex a, uint64_t index, const std::shared_ptr<const std::string>& row, TimeUs now_us);
  bool MakeReference(AuthorityIndex a, uint64_t index, const std::shared_ptr<const std::string>& row,
                     TimeUs now_us);
  void Violate(TimeUs at_us, std::string evidence);

  Checkers* checkers_;
  absl::btree_set<AuthorityIndex> byzantine_;
  const uint64_t retention_sub_dags_;
  // index -> the batches consensus executes there (from honest commits).
  absl::btree_map<uint64_t, std::vector<BatchRef>> committed_batches_;
  absl::btree_map<uint64_t, TimeUs> first_commit_us_;
  absl::btree_map<uint64_t, Reference> references_;
  // Transactions seen in the reference stream, for "none twice".
  absl::flat_hash_set<uint64_t> seen_tx_;  // lookup only
  uint64_t rows_checked_ = 0;
  uint64_t streams_checked_ = 0;
  bool failed_ = false;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_OUTPUT_CHECKER_H_
