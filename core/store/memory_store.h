// An in-memory Store with the same contract as the SQLite one, for unit tests
// and large simulations. Transactions need no undo log: in the simulator a
// crash happens between events, never inside one.
#ifndef NARWHAL_CORE_STORE_MEMORY_STORE_H_
#define NARWHAL_CORE_STORE_MEMORY_STORE_H_

#include <map>
#include <tuple>

#include "absl/container/btree_map.h"
#include "core/store/store.h"

namespace narwhal {

class MemoryStore final : public Store {
 public:
  absl::Status PutBatch(const Digest& digest, std::string_view batch, Round round) override;
  absl::StatusOr<std::optional<std::string>> GetBatch(const Digest& digest) override;
  absl::Status PruneBatchesBelow(Round round) override;
  absl::Status PutPayload(const Digest& digest, WorkerId worker, Round round) override;
  absl::StatusOr<bool> HasPayload(const Digest& digest, WorkerId worker) override;
  absl::Status PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                              std::string_view certificate) override;
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
  absl::Status PruneRoundsBelow(Round round) override;
  absl::Status RunInTransaction(const std::function<absl::Status()>& body) override;
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RowCounts() override;

 private:
  struct BatchRow {
    std::string bytes;
    Round round;
  };
  absl::btree_map<Digest, BatchRow> batches_;
  absl::btree_map<std::pair<Digest, WorkerId>, Round> payload_;
  struct CertRow {
    Round round;
    AuthorityIndex author;
    std::string bytes;
  };
  absl::btree_map<Digest, CertRow> certificates_;
  absl::btree_map<std::pair<Round, AuthorityIndex>, Digest> certificates_by_round_;
  absl::btree_map<Round, std::string> own_headers_;
  absl::btree_map<std::pair<Round, AuthorityIndex>, Digest> votes_;
  absl::btree_map<uint64_t, std::string> committed_;
  uint64_t next_commit_index_ = 0;
  std::optional<std::string> consensus_state_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_STORE_MEMORY_STORE_H_
