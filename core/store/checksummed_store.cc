#include "core/store/checksummed_store.h"

#include "absl/strings/str_cat.h"
#include "core/store/crc32c.h"
#include "glog/logging.h"

namespace narwhal {
namespace {

constexpr uint32_t kMaskDelta = 0xa282ead8;

uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

void AppendLittleEndian(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// This Abseil's StrCat takes absl::string_view, which may not be std's.
absl::string_view Sv(std::string_view v) { return absl::string_view(v.data(), v.size()); }

uint32_t ReadLittleEndian(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

}  // namespace

ChecksummedStore::ChecksummedStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {
  CHECK(inner_ != nullptr);
}

std::string ChecksummedStore::Seal(std::string_view value) {
  std::string row;
  row.reserve(value.size() + kTrailerBytes);
  row.append(value);
  AppendLittleEndian(Mask(Crc32c(value)), &row);
  return row;
}

absl::StatusOr<std::string> ChecksummedStore::Open(std::string row, std::string_view what) {
  if (row.size() < kTrailerBytes) {
    return absl::DataLossError(absl::StrCat(Sv(what), ": ", row.size(), " bytes, shorter than its checksum"));
  }
  const size_t size = row.size() - kTrailerBytes;
  const uint32_t stored = ReadLittleEndian(row.data() + size);
  const uint32_t actual = Mask(Crc32c(std::string_view(row.data(), size)));
  if (stored != actual) {
    return absl::DataLossError(absl::StrCat(Sv(what), ": checksum mismatch (", size, " bytes read)"));
  }
  row.resize(size);
  return row;
}

absl::StatusOr<std::optional<std::string>> ChecksummedStore::OpenOptional(
    absl::StatusOr<std::optional<std::string>> got, std::string_view what) {
  if (!got.ok() || !got->has_value()) return got;
  auto opened = Open(std::move(**got), what);
  if (!opened.ok()) return opened.status();
  return std::optional<std::string>(std::move(*opened));
}

// ---- not covered: passed through ----

absl::Status ChecksummedStore::PutBatch(const Digest& digest, std::string_view batch, Round round) {
  return inner_->PutBatch(digest, Seal(batch), round);
}
absl::StatusOr<std::optional<std::string>> ChecksummedStore::GetBatch(const Digest& digest) {
  return OpenOptional(inner_->GetBatch(digest), "batch");
}
absl::Status ChecksummedStore::PruneBatchesBelow(Round round) { return inner_->PruneBatchesBelow(round); }
absl::Status ChecksummedStore::PutPayload(const Digest& digest, WorkerId worker, Round round) {
  return inner_->PutPayload(digest, worker, round);
}
absl::StatusOr<bool> ChecksummedStore::HasPayload(const Digest& digest, WorkerId worker) {
  return inner_->HasPayload(digest, worker);
}
absl::Status ChecksummedStore::PutOwnPayload(const OwnPayloadRow& row) { return inner_->PutOwnPayload(row); }
absl::Status ChecksummedStore::RemoveOwnPayload(const Digest& digest, WorkerId worker) {
  return inner_->RemoveOwnPayload(digest, worker);
}
absl::StatusOr<std::vector<OwnPayloadRow>> ChecksummedStore::ListOwnPayload() { return inner_->ListOwnPayload(); }
absl::StatusOr<Round> ChecksummedStore::LastOwnHeaderRound() { return inner_->LastOwnHeaderRound(); }
absl::Status ChecksummedStore::PutVote(AuthorityIndex author, Round round, const Digest& header) {
  return inner_->PutVote(author, round, header);
}
absl::StatusOr<std::optional<Digest>> ChecksummedStore::GetVote(AuthorityIndex author, Round round) {
  return inner_->GetVote(author, round);
}
absl::StatusOr<uint64_t> ChecksummedStore::NextCommitIndex() { return inner_->NextCommitIndex(); }
absl::Status ChecksummedStore::PruneCommittedBelow(uint64_t index) { return inner_->PruneCommittedBelow(index); }
absl::StatusOr<uint64_t> ChecksummedStore::NextExecutedIndex() { return inner_->NextExecutedIndex(); }
absl::Status ChecksummedStore::PruneExecutedBelow(uint64_t index) { return inner_->PruneExecutedBelow(index); }
absl::Status ChecksummedStore::PruneRoundsBelow(Round round) { return inner_->PruneRoundsBelow(round); }
absl::Status ChecksummedStore::RunInTransaction(const std::function<absl::Status()>& body) {
  return inner_->RunInTransaction(body);
}
absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> ChecksummedStore::RowCounts() {
  return inner_->RowCounts();
}

// ---- covered: sealed on the way in, opened on the way out ----

absl::Status ChecksummedStore::PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                              std::string_view certificate) {
  return inner_->PutCertificate(digest, round, author, Seal(certificate));
}

absl::Status ChecksummedStore::PutSharedCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                                    std::shared_ptr<const std::string> certificate) {
  if (certificate == nullptr) return inner_->PutSharedCertificate(digest, round, author, nullptr);
  return inner_->PutSharedCertificate(digest, round, author, std::make_shared<const std::string>(Seal(*certificate)));
}

absl::StatusOr<std::optional<std::string>> ChecksummedStore::GetCertificate(const Digest& digest) {
  return OpenOptional(inner_->GetCertificate(digest), absl::StrCat("certificate ", digest.Short()));
}

absl::StatusOr<std::vector<std::string>> ChecksummedStore::CertificatesInRounds(Round from, Round to) {
  auto rows = inner_->CertificatesInRounds(from, to);
  if (!rows.ok()) return rows.status();
  for (std::string& row : *rows) {
    auto opened = Open(std::move(row), absl::StrCat("a certificate of rounds ", from, "..", to));
    if (!opened.ok()) return opened.status();
    row = std::move(*opened);
  }
  return rows;
}

absl::Status ChecksummedStore::PutOwnHeader(Round round, std::string_view header) {
  return inner_->PutOwnHeader(round, Seal(header));
}

absl::StatusOr<std::optional<std::string>> ChecksummedStore::GetOwnHeader(Round round) {
  return OpenOptional(inner_->GetOwnHeader(round), absl::StrCat("own header of round ", round));
}

absl::Status ChecksummedStore::AppendCommitted(const CommittedSubDagRow& row, std::string_view consensus_state) {
  return inner_->AppendCommitted({row.index, Seal(row.sub_dag)}, Seal(consensus_state));
}

absl::StatusOr<std::optional<std::string>> ChecksummedStore::GetConsensusState() {
  return OpenOptional(inner_->GetConsensusState(), "consensus state");
}

absl::StatusOr<std::vector<CommittedSubDagRow>> ChecksummedStore::CommittedFrom(uint64_t from, size_t limit) {
  auto rows = inner_->CommittedFrom(from, limit);
  if (!rows.ok()) return rows.status();
  for (CommittedSubDagRow& row : *rows) {
    auto opened = Open(std::move(row.sub_dag), absl::StrCat("committed sub-DAG ", row.index));
    if (!opened.ok()) return opened.status();
    row.sub_dag = std::move(*opened);
  }
  return rows;
}

absl::Status ChecksummedStore::AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) {
  if (row == nullptr) return inner_->AppendExecuted(index, nullptr);  // refused there, as without this layer
  return inner_->AppendExecuted(index, std::make_shared<const std::string>(Seal(*row)));
}

absl::StatusOr<std::vector<ExecutedRow>> ChecksummedStore::ExecutedFrom(uint64_t from, size_t limit) {
  auto rows = inner_->ExecutedFrom(from, limit);
  if (!rows.ok()) return rows.status();
  for (ExecutedRow& row : *rows) {
    auto opened = Open(*row.row, absl::StrCat("executed row ", row.index));
    if (!opened.ok()) return opened.status();
    row.row = std::make_shared<const std::string>(std::move(*opened));
  }
  return rows;
}

absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ChecksummedStore::ExecutedSizes() {
  auto sizes = inner_->ExecutedSizes();
  if (!sizes.ok()) return sizes.status();
  for (auto& [index, size] : *sizes) {
    if (size < kTrailerBytes) {
      return absl::DataLossError(absl::StrCat("executed row ", index, ": ", size, " bytes, shorter than its checksum"));
    }
    size -= kTrailerBytes;
  }
  return sizes;
}

}  // namespace narwhal
