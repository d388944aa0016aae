#include "sim/output_checker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/batch.h"
#include "core/messages.pb.h"

namespace narwhal::sim {

void OutputChecker::Violate(TimeUs at_us, std::string evidence) {
  failed_ = true;
  checkers_->AddViolation("output", at_us, std::move(evidence));
}

void OutputChecker::OnCommit(AuthorityIndex a, const CommittedSubDag& sub, TimeUs now_us) {
  if (!Honest(a)) return;
  // The agreement checker compares commits; the first honest one is enough here.
  committed_batches_.try_emplace(sub.index, sub.batches);
  first_commit_us_.try_emplace(sub.index, now_us);
}

void OutputChecker::OnExecuted(AuthorityIndex a, const ExecutedRow& row, TimeUs now_us) {
  if (!Honest(a) || failed_) return;
  (void)CheckRow(a, row.index, row.row, now_us);
}

bool OutputChecker::CheckRow(AuthorityIndex a, uint64_t index, const std::shared_ptr<const std::string>& row,
                             TimeUs now_us) {
  ++rows_checked_;
  auto it = references_.find(index);
  if (it == references_.end()) return MakeReference(a, index, row, now_us);
  if (it->second.row == row || *it->second.row == *row) return true;
  Violate(now_us, absl::StrCat("authority ", a, " output at index ", index, " differs from another honest",
                               " authority's (", row->size(), " vs ", it->second.row->size(), " bytes)"));
  return false;
}

bool OutputChecker::MakeReference(AuthorityIndex a, uint64_t index, const std::shared_ptr<const std::string>& row,
                                  TimeUs now_us) {
  wire::ExecutedSubDag parsed;
  if (!parsed.ParseFromString(*row) || parsed.index() != index) {
    Violate(now_us, absl::StrCat("authority ", a, " output row ", index, " does not parse or names another index"));
    return false;
  }
  auto committed = committed_batches_.find(index);
  if (committed == committed_batches_.end()) {
    Violate(now_us, absl::StrCat("authority ", a, " executed index ", index, " that no honest authority committed"));
    return false;
  }
  Reference ref;
  ref.row = row;
  size_t k = 0;
  for (const wire::ExecutedCertificate& c : parsed.certificates()) {
    for (const wire::ExecutedBatch& b : c.batches()) {
      const std::vector<BatchRef>& want = committed->second;
      if (k >= want.size() || b.digest() != want[k].digest.ToBytes() || b.worker_id() != want[k].worker_id) {
        Violate(now_us, absl::StrCat("authority ", a, " output at index ", index, ": batch ", k,
                                     " is not the one consensus committed there"));
        return false;
      }
      ++k;
      if (BatchDigest(b.batch()).ToBytes() != b.digest()) {
        Violate(now_us, absl::StrCat("authority ", a, " output at index ", index, ": batch ",
                                     want[k - 1].digest.Short(), " holds bytes of another digest (",
                                     b.batch().size(), " bytes)"));
        return false;
      }
      auto txs = DecodeBatch(b.batch(), b.batch().size(), b.batch().size());
      if (!txs.ok()) {
        Violate(now_us, absl::StrCat("authority ", a, " output at index ", index, ": a batch does not decode"));
        return false;
      }
      for (std::string_view tx : *txs) {
        // The load writes each transaction's id little-endian in its first 8 bytes.
        uint64_t id = 0;
        for (size_t i = 0; i < 8 && i < tx.size(); ++i) id |= uint64_t{static_cast<uint8_t>(tx[i])} << (8 * i);
        if (!seen_tx_.insert(id).second) {
          Violate(now_us, absl::StrCat("authority ", a, " output at index ", index, ": transaction ", id,
                                       " is output a second time"));
          return false;
        }
        ref.tx_ids.push_back(id);
      }
    }
  }
  if (k != committed->second.size()) {
    Violate(now_us, absl::StrCat("authority ", a, " output at index ", index, " executes ", k, " batches, consensus ",
                                 committed->second.size()));
    return false;
  }
  references_.emplace(index, std::move(ref));
  return true;
}

void OutputChecker::FinishAuthority(AuthorityIndex a, Store* store, bool up,
                                    const absl::flat_hash_set<uint64_t>& accepted, TimeUs end_us) {
  if (!Honest(a) || failed_) return;
  auto next = store->NextExecutedIndex();
  if (!next.ok()) {
    Violate(end_us, absl::StrCat("authority ", a, ": cannot read its output: ", next.status().message()));
    return;
  }
  ++streams_checked_;
  // What a client reading from index 0 gets: the rows from the first kept.
  absl::flat_hash_set<uint64_t> read_tx;
  uint64_t expect = 0;
  bool first = true;
  for (uint64_t from = 0;;) {
    auto rows = store->ExecutedFrom(from, 256);
    if (!rows.ok()) {
      Violate(end_us, absl::StrCat("authority ", a, ": reading its output from ", from, ": ",
                                   rows.status().message()));
      return;
    }
    if (rows->empty()) break;
    for (const ExecutedRow& row : *rows) {
      if (first) {
        first = false;
        // Only retention may drop the head of the stream.
        const uint64_t kept = *next > retention_sub_dags_ ? *next - retention_sub_dags_ : 0;
        if (row.index > kept) {
          Violate(end_us, absl::StrCat("authority ", a, " serves its output from index ", row.index,
                                       " but its retention keeps from ", kept));
          return;
        }
        expect = row.index;
      }
      if (row.index != expect) {
        Violate(end_us, absl::StrCat("authority ", a, " output has a gap: index ", row.index, " after ", expect - 1));
        return;
      }
      ++expect;
      if (!CheckRow(a, row.index, row.row, end_us)) return;
      for (uint64_t id : references_[row.index].tx_ids) read_tx.insert(id);
    }
    from = rows->back().index + 1;
  }
  if (expect != *next && !first) {
    Violate(end_us, absl::StrCat("authority ", a, " output ends at ", expect, " but its next index is ", *next));
    return;
  }
  if (!up) return;  // a stopped node serves what it has
  // Consensus committed [0, required) at least the grace before the end.
  uint64_t required = 0;
  for (const auto& [index, t] : first_commit_us_) {
    if (t + kExecutionGraceUs > end_us) break;
    required = index + 1;
  }
  if (expect < required) {
    Violate(end_us, absl::StrCat("authority ", a, " serves its output up to index ", expect, " but consensus committed ",
                                 required, " sub-DAGs at least ", kExecutionGraceUs / kMillisecondUs,
                                 " ms before the end: its executor is stuck"));
    return;
  }
  std::vector<uint64_t> missing;
  for (auto it = references_.begin(); it != references_.end() && it->first < required; ++it) {
    for (uint64_t tx : it->second.tx_ids) {
      if (accepted.contains(tx) && !read_tx.contains(tx)) missing.push_back(tx);
    }
  }
  if (!missing.empty() && retention_sub_dags_ >= *next) {
    std::sort(missing.begin(), missing.end());
    Violate(end_us, absl::StrCat("authority ", a, ": ", missing.size(), " accepted transactions are not in the",
                                 " output a client reads from index 0 (", *next, " sub-DAGs), e.g. ",
                                 missing.front()));
  }
}

}  // namespace narwhal::sim
