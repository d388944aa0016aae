// ChecksummedStore: a Store that appends a CRC-32C to every opaque value it
// writes and checks it on every read, so that bytes the disk (or the
// filesystem, or a torn page) changed are an error, never a value.
//
// Why: the core parses what it reads back and trusts it, as it wrote it
// itself. A flipped byte in a certificate's header gives a certificate of
// another digest (a "second certificate" of that author and round, which
// stalls the DAG); a flipped digit in the consensus state's text still
// parses. SQLite does not checksum its pages. With this layer such a read
// is DataLoss, which the core's store-failure policy turns into a clean
// stop (core/fail_stop.h); a restart reads the value again.
//
// Covered: batches, certificates, own headers, the consensus state,
// committed sub-DAG rows and executed rows. Batches are keyed by their
// BLAKE2b digest, but checking that on every read costs a BLAKE2b pass over
// up to 1 MB where CRC-32C costs a tenth of it (the executor reads every
// committed batch: checking digests there doubled the simulator's time in
// libsodium). Not covered: rows that are keys and small integers (votes,
// payload marks: the store's own encoding checks their types).
//
// Row format: the value, then 4 bytes: the CRC of the value, masked
// (rotated and offset, so that a value that holds a CRC of its own bytes
// does not checksum to a fixed pattern), little-endian.
//
//   auto store = std::make_unique<ChecksummedStore>(std::make_unique<MemoryStore>());
#ifndef NARWHAL_CORE_STORE_CHECKSUMMED_STORE_H_
#define NARWHAL_CORE_STORE_CHECKSUMMED_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/store/store.h"

namespace narwhal {

class ChecksummedStore final : public Store {
 public:
  static constexpr size_t kTrailerBytes = 4;

  explicit ChecksummedStore(std::unique_ptr<Store> inner);
  // The store underneath (its rows carry the trailers).
  Store* inner() { return inner_.get(); }

  // `value` with its trailer appended.
  static std::string Seal(std::string_view value);
  // `row` without its trailer, or DataLoss naming `what` if the trailer is
  // missing or does not match.
  static absl::StatusOr<std::string> Open(std::string row, std::string_view what);

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
  absl::Status AppendCommitted(const CommittedSubDagRow& row, std::string_view consensus_state) override;
  absl::StatusOr<std::optional<std::string>> GetConsensusState() override;
  absl::StatusOr<uint64_t> NextCommitIndex() override;
  absl::StatusOr<std::vector<CommittedSubDagRow>> CommittedFrom(uint64_t from, size_t limit) override;
  absl::Status PruneCommittedBelow(uint64_t index) override;
  absl::Status AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) override;
  absl::StatusOr<uint64_t> NextExecutedIndex() override;
  absl::StatusOr<std::vector<ExecutedRow>> ExecutedFrom(uint64_t from, size_t limit) override;
  // Sizes of the values, without their trailers.
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ExecutedSizes() override;
  absl::Status PruneExecutedBelow(uint64_t index) override;
  absl::Status PruneRoundsBelow(Round round) override;
  absl::Status RunInTransaction(const std::function<absl::Status()>& body) override;
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RowCounts() override;

 private:
  // Opens an optional row in place.
  static absl::StatusOr<std::optional<std::string>> OpenOptional(absl::StatusOr<std::optional<std::string>> got,
                                                                 std::string_view what);

  std::unique_ptr<Store> inner_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_STORE_CHECKSUMMED_STORE_H_
