#include "core/store/memory_store.h"

#include "absl/strings/str_cat.h"

namespace narwhal {

absl::Status MemoryStore::PutBatch(const Digest& digest, std::string_view batch, Round round) {
  batches_.insert_or_assign(digest, BatchRow{std::string(batch), round});
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryStore::GetBatch(const Digest& digest) {
  auto it = batches_.find(digest);
  if (it == batches_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second.bytes);
}

absl::Status MemoryStore::PruneBatchesBelow(Round round) {
  absl::erase_if(batches_, [&](const auto& kv) { return kv.second.round < round; });
  return absl::OkStatus();
}

absl::Status MemoryStore::PutPayload(const Digest& digest, WorkerId worker, Round round) {
  payload_.insert_or_assign({digest, worker}, round);
  return absl::OkStatus();
}

absl::StatusOr<bool> MemoryStore::HasPayload(const Digest& digest, WorkerId worker) {
  return payload_.contains({digest, worker});
}

absl::Status MemoryStore::PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                         std::string_view certificate) {
  certificates_.insert_or_assign(digest, CertRow{round, author, std::string(certificate)});
  certificates_by_round_.insert_or_assign({round, author}, digest);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryStore::GetCertificate(const Digest& digest) {
  auto it = certificates_.find(digest);
  if (it == certificates_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second.bytes);
}

absl::StatusOr<std::vector<std::string>> MemoryStore::CertificatesInRounds(Round from, Round to) {
  std::vector<std::string> out;
  for (auto it = certificates_by_round_.lower_bound({from, 0});
       it != certificates_by_round_.end() && it->first.first <= to; ++it) {
    out.push_back(certificates_.at(it->second).bytes);
  }
  return out;
}

absl::Status MemoryStore::PutOwnHeader(Round round, std::string_view header) {
  own_headers_.insert_or_assign(round, std::string(header));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryStore::GetOwnHeader(Round round) {
  auto it = own_headers_.find(round);
  if (it == own_headers_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::StatusOr<Round> MemoryStore::LastOwnHeaderRound() {
  return own_headers_.empty() ? Round{0} : own_headers_.rbegin()->first;
}

absl::Status MemoryStore::PutVote(AuthorityIndex author, Round round, const Digest& header) {
  votes_.insert_or_assign({round, author}, header);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Digest>> MemoryStore::GetVote(AuthorityIndex author, Round round) {
  auto it = votes_.find({round, author});
  if (it == votes_.end()) return std::optional<Digest>();
  return std::optional<Digest>(it->second);
}

absl::Status MemoryStore::AppendCommitted(const CommittedSubDagRow& row,
                                          std::string_view consensus_state) {
  if (row.index != next_commit_index_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "committed output: appending index ", row.index, " but the next index is ",
        next_commit_index_));
  }
  committed_.emplace(row.index, row.sub_dag);
  consensus_state_ = std::string(consensus_state);
  ++next_commit_index_;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> MemoryStore::GetConsensusState() {
  return consensus_state_;
}

absl::StatusOr<uint64_t> MemoryStore::NextCommitIndex() { return next_commit_index_; }

absl::StatusOr<std::vector<CommittedSubDagRow>> MemoryStore::CommittedFrom(uint64_t from,
                                                                           size_t limit) {
  std::vector<CommittedSubDagRow> out;
  for (auto it = committed_.lower_bound(from); it != committed_.end() && out.size() < limit; ++it) {
    out.push_back({it->first, it->second});
  }
  return out;
}

absl::Status MemoryStore::PruneCommittedBelow(uint64_t index) {
  committed_.erase(committed_.begin(), committed_.lower_bound(index));
  return absl::OkStatus();
}

absl::Status MemoryStore::PruneRoundsBelow(Round round) {
  for (auto it = certificates_by_round_.begin();
       it != certificates_by_round_.end() && it->first.first < round;) {
    certificates_.erase(it->second);
    it = certificates_by_round_.erase(it);
  }
  own_headers_.erase(own_headers_.begin(), own_headers_.lower_bound(round));
  votes_.erase(votes_.begin(), votes_.lower_bound({round, 0}));
  absl::erase_if(payload_, [&](const auto& kv) { return kv.second < round; });
  return absl::OkStatus();
}

absl::Status MemoryStore::RunInTransaction(const std::function<absl::Status()>& body) {
  return body();
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> MemoryStore::RowCounts() {
  return std::vector<std::pair<std::string, int64_t>>{
      {"batches", static_cast<int64_t>(batches_.size())},
      {"payload", static_cast<int64_t>(payload_.size())},
      {"certificates", static_cast<int64_t>(certificates_.size())},
      {"own_headers", static_cast<int64_t>(own_headers_.size())},
      {"votes", static_cast<int64_t>(votes_.size())},
      {"committed", static_cast<int64_t>(committed_.size())},
  };
}

}  // namespace narwhal
