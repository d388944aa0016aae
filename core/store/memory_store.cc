#include "core/store/memory_store.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

absl::Status MemoryStore::PutBatch(const Digest& digest, std::string_view batch, Round round) {
  t_.batches.insert_or_assign(digest, BatchRow{std::string(batch), round});
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryStore::GetBatch(const Digest& digest) {
  auto it = t_.batches.find(digest);
  if (it == t_.batches.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second.bytes);
}

absl::Status MemoryStore::PruneBatchesBelow(Round round) {
  absl::erase_if(t_.batches, [&](const auto& kv) { return kv.second.round < round; });
  return absl::OkStatus();
}

absl::Status MemoryStore::PutPayload(const Digest& digest, WorkerId worker, Round round) {
  t_.payload.insert_or_assign({digest, worker}, round);
  return absl::OkStatus();
}

absl::StatusOr<bool> MemoryStore::HasPayload(const Digest& digest, WorkerId worker) {
  return t_.payload.contains({digest, worker});
}

absl::Status MemoryStore::PutOwnPayload(const OwnPayloadRow& row) {
  const bool inserted =
      t_.own_payload_seq.try_emplace({row.digest, row.worker}, t_.next_own_payload_seq).second;
  if (!inserted) return absl::OkStatus();  // keeps the original position
  t_.own_payload.emplace(t_.next_own_payload_seq++, row);
  return absl::OkStatus();
}

absl::Status MemoryStore::RemoveOwnPayload(const Digest& digest, WorkerId worker) {
  auto it = t_.own_payload_seq.find({digest, worker});
  if (it == t_.own_payload_seq.end()) return absl::OkStatus();
  t_.own_payload.erase(it->second);
  t_.own_payload_seq.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OwnPayloadRow>> MemoryStore::ListOwnPayload() {
  std::vector<OwnPayloadRow> out;
  out.reserve(t_.own_payload.size());
  for (const auto& [seq, row] : t_.own_payload) out.push_back(row);
  return out;
}

absl::Status MemoryStore::PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                         std::string_view certificate) {
  return PutSharedCertificate(digest, round, author, std::make_shared<const std::string>(certificate));
}

absl::Status MemoryStore::PutSharedCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                               std::shared_ptr<const std::string> certificate) {
  auto slot = t_.certificates_by_round.find({round, author});
  if (slot != t_.certificates_by_round.end() && slot->second != digest) {
    return absl::AlreadyExistsError(absl::StrCat(
        "certificate ", digest.Short(), ": round ", round, " author ", author,
        " already has certificate ", slot->second.Short()));
  }
  // A re-put of the digest replaces its row; drop the old index entry in case
  // the row moves (SQLite's INSERT OR REPLACE does the same).
  if (auto old = t_.certificates.find(digest); old != t_.certificates.end()) {
    t_.certificates_by_round.erase({old->second.round, old->second.author});
  }
  t_.certificates.insert_or_assign(digest, CertRow{round, author, std::move(certificate)});
  t_.certificates_by_round.insert_or_assign({round, author}, digest);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryStore::GetCertificate(const Digest& digest) {
  auto it = t_.certificates.find(digest);
  if (it == t_.certificates.end()) return std::optional<std::string>();
  return std::optional<std::string>(*it->second.bytes);
}

absl::StatusOr<std::vector<std::string>> MemoryStore::CertificatesInRounds(Round from, Round to) {
  std::vector<std::string> out;
  for (auto it = t_.certificates_by_round.lower_bound({from, 0});
       it != t_.certificates_by_round.end() && it->first.first <= to; ++it) {
    out.push_back(*t_.certificates.at(it->second).bytes);
  }
  return out;
}

absl::Status MemoryStore::PutOwnHeader(Round round, std::string_view header) {
  t_.own_headers.insert_or_assign(round, std::string(header));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryStore::GetOwnHeader(Round round) {
  auto it = t_.own_headers.find(round);
  if (it == t_.own_headers.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::StatusOr<Round> MemoryStore::LastOwnHeaderRound() {
  return t_.own_headers.empty() ? Round{0} : t_.own_headers.rbegin()->first;
}

absl::Status MemoryStore::PutVote(AuthorityIndex author, Round round, const Digest& header) {
  t_.votes.insert_or_assign({round, author}, header);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Digest>> MemoryStore::GetVote(AuthorityIndex author, Round round) {
  auto it = t_.votes.find({round, author});
  if (it == t_.votes.end()) return std::optional<Digest>();
  return std::optional<Digest>(it->second);
}

absl::Status MemoryStore::AppendCommitted(const CommittedSubDagRow& row,
                                          std::string_view consensus_state) {
  if (row.index != t_.next_commit_index) {
    return absl::FailedPreconditionError(absl::StrCat(
        "committed output: appending index ", row.index, " but the next index is ",
        t_.next_commit_index));
  }
  t_.committed.emplace(row.index, row.sub_dag);
  t_.consensus_state = std::string(consensus_state);
  ++t_.next_commit_index;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryStore::GetConsensusState() {
  return t_.consensus_state;
}

absl::StatusOr<uint64_t> MemoryStore::NextCommitIndex() { return t_.next_commit_index; }

absl::StatusOr<std::vector<CommittedSubDagRow>> MemoryStore::CommittedFrom(uint64_t from,
                                                                           size_t limit) {
  std::vector<CommittedSubDagRow> out;
  for (auto it = t_.committed.lower_bound(from); it != t_.committed.end() && out.size() < limit;
       ++it) {
    out.push_back({it->first, it->second});
  }
  return out;
}

absl::Status MemoryStore::PruneCommittedBelow(uint64_t index) {
  t_.committed.erase(t_.committed.begin(), t_.committed.lower_bound(index));
  return absl::OkStatus();
}

absl::Status MemoryStore::AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) {
  if (row == nullptr) return absl::InvalidArgumentError("executed output: no row");
  if (!t_.executed.empty() || t_.next_executed_index != 0) {
    if (index != t_.next_executed_index) {
      return absl::FailedPreconditionError(absl::StrCat(
          "executed output: appending index ", index, " but the next index is ", t_.next_executed_index));
    }
  }
  t_.executed.emplace(index, std::move(row));
  t_.next_executed_index = index + 1;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MemoryStore::NextExecutedIndex() { return t_.next_executed_index; }

absl::StatusOr<std::vector<ExecutedRow>> MemoryStore::ExecutedFrom(uint64_t from, size_t limit) {
  std::vector<ExecutedRow> out;
  for (auto it = t_.executed.lower_bound(from); it != t_.executed.end() && out.size() < limit; ++it) {
    out.push_back({it->first, it->second});
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> MemoryStore::ExecutedSizes() {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  out.reserve(t_.executed.size());
  for (const auto& [index, row] : t_.executed) out.emplace_back(index, row->size());
  return out;
}

absl::Status MemoryStore::PruneExecutedBelow(uint64_t index) {
  t_.executed.erase(t_.executed.begin(), t_.executed.lower_bound(index));
  return absl::OkStatus();
}

absl::Status MemoryStore::PruneRoundsBelow(Round round) {
  for (auto it = t_.certificates_by_round.begin();
       it != t_.certificates_by_round.end() && it->first.first < round;) {
    t_.certificates.erase(it->second);
    it = t_.certificates_by_round.erase(it);
  }
  t_.own_headers.erase(t_.own_headers.begin(), t_.own_headers.lower_bound(round));
  t_.votes.erase(t_.votes.begin(), t_.votes.lower_bound({round, 0}));
  absl::erase_if(t_.payload, [&](const auto& kv) { return kv.second < round; });
  return absl::OkStatus();
}

absl::Status MemoryStore::RunInTransaction(const std::function<absl::Status()>& body) {
  Tables snapshot = t_;
  absl::Status status = body();
  if (!status.ok()) t_ = std::move(snapshot);
  return status;
}

MemoryStore::Snapshot MemoryStore::TakeSnapshot() const {
  Snapshot s;
  s.tables_ = std::make_shared<const Tables>(t_);
  return s;
}

void MemoryStore::RestoreSnapshot(const Snapshot& snapshot) {
  CHECK(snapshot.tables_ != nullptr) << "restoring a snapshot that was never taken";
  t_ = *snapshot.tables_;
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> MemoryStore::RowCounts() {
  return std::vector<std::pair<std::string, int64_t>>{
      {"batches", static_cast<int64_t>(t_.batches.size())},
      {"payload", static_cast<int64_t>(t_.payload.size())},
      {"own_payload", static_cast<int64_t>(t_.own_payload.size())},
      {"certificates", static_cast<int64_t>(t_.certificates.size())},
      {"own_headers", static_cast<int64_t>(t_.own_headers.size())},
      {"votes", static_cast<int64_t>(t_.votes.size())},
      {"committed", static_cast<int64_t>(t_.committed.size())},
      {"executed", static_cast<int64_t>(t_.executed.size())},
  };
}

}  // namespace narwhal
