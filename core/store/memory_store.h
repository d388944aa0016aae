// An in-memory Store with the same contract as the SQLite one, for unit tests
// and large simulations.
#ifndef NARWHAL_CORE_STORE_MEMORY_STORE_H_
#define NARWHAL_CORE_STORE_MEMORY_STORE_H_

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "core/store/store.h"

namespace narwhal {

class MemoryStore : public Store {
 public:
  absl::Status PutBatch(const Digest& digest, std::string_view batch, Round round) override;
  absl::StatusOr<std::optional<std::string>> GetBatch(const Digest& digest) override;
  absl::Status PruneBatchesBelow(Round round) override;
  absl::Status PutPayload(const Digest& digest, WorkerId worker, Round round) override;
  absl::StatusOr<bool> HasPayload(const Digest& digest, WorkerId worker) override;
  absl::Status PutOwnPayload(const OwnPayloadRow& row) override;
  absl::Status RemoveOwnPayload(const Digest& digest, WorkerId worker) override;
  absl::StatusOr<std::vector<OwnPayloadRow>> ListOwnPayload() override;
  absl::Status PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                              std::string_view certificate) override;
  absl::Status PutSharedCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                    std::shared_ptr<const std::string> certificate) override;
  absl::StatusOr<std::optional<std::string>> GetCertificate(const Digest& digest) override;
  absl::StatusOr<std::vector<std::string>> CertificatesInRounds(Round from, Round to) override;
  absl::Status PutOwnHeader(Round round, std::string_view header) override;
  absl::StatusOr<std::optional<std::string>> GetOwnHeader(Round round) override;
  absl::StatusOr<Round> LastOwnHeaderRound() override;
  absl::Status PutVote(AuthorityIndex author, Round round, const Digest& header) override;
  absl::StatusOr<std::optional<Digest>> GetVote(AuthorityIndex author, Round round) override;
  absl::Status AppendCommitted(const CommittedSubDagRow& row,
                               std::string_view consensus_state) override;
  absl::StatusOr<std::optional<std::string>> GetConsensusState() override;
  absl::StatusOr<uint64_t> NextCommitIndex() override;
  absl::StatusOr<std::vector<CommittedSubDagRow>> CommittedFrom(uint64_t from,
                                                                size_t limit) override;
  absl::Status PruneCommittedBelow(uint64_t index) override;
  absl::Status AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) override;
  absl::StatusOr<uint64_t> NextExecutedIndex() override;
  absl::StatusOr<std::vector<ExecutedRow>> ExecutedFrom(uint64_t from, size_t limit) override;
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ExecutedSizes() override;
  absl::Status PruneExecutedBelow(uint64_t index) override;
  absl::Status PruneRoundsBelow(Round round) override;
  // Copies every table before running `body` and puts the copy back if it
  // fails; each nesting level copies, which gives SqliteStore's savepoint
  // semantics. The copy costs O(store size) per call, acceptable for tests and
  // simulations, not for a store holding many large batches.
  absl::Status RunInTransaction(const std::function<absl::Status()>& body) override;
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RowCounts() override;

 private:
  struct Tables;

 public:
  // Every table as it is now, and putting such a copy back: how the
  // simulator models a power loss that drops the writes made after the last
  // sync point (sim/faulty_store.h). Costs what RunInTransaction's copy does.
  class Snapshot {
   private:
    friend class MemoryStore;
    std::shared_ptr<const Tables> tables_;
  };
  Snapshot TakeSnapshot() const;
  // `snapshot` must come from this store's TakeSnapshot.
  void RestoreSnapshot(const Snapshot& snapshot);

 private:
  struct BatchRow {
    std::string bytes;
    Round round;
  };
  struct CertRow {
    Round round;
    AuthorityIndex author;
    std::shared_ptr<const std::string> bytes;  // immutable, may be shared
  };
  // Every piece of state, in one value so RunInTransaction can copy and
  // restore it whole (a table added here cannot be forgotten by the rollback).
  struct Tables {
    // Tables keyed by digest are hash maps: they are only looked up, and
    // pruned with erase_if, whose order does not matter.
    absl::flat_hash_map<Digest, BatchRow> batches;
    absl::flat_hash_map<std::pair<Digest, WorkerId>, Round> payload;
    // Insertion sequence -> row, and the key's sequence for lookups.
    absl::btree_map<uint64_t, OwnPayloadRow> own_payload;
    absl::btree_map<std::pair<Digest, WorkerId>, uint64_t> own_payload_seq;
    uint64_t next_own_payload_seq = 0;
    absl::flat_hash_map<Digest, CertRow> certificates;
    absl::btree_map<std::pair<Round, AuthorityIndex>, Digest> certificates_by_round;
    absl::btree_map<Round, std::string> own_headers;
    absl::btree_map<std::pair<Round, AuthorityIndex>, Digest> votes;
    absl::btree_map<uint64_t, std::string> committed;
    uint64_t next_commit_index = 0;
    absl::btree_map<uint64_t, std::shared_ptr<const std::string>> executed;
    uint64_t next_executed_index = 0;
    std::optional<std::string> consensus_state;
  };
  Tables t_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_STORE_MEMORY_STORE_H_
