#include "sim/faulty_store.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal::sim {

const char* SynchronousModeName(SynchronousMode mode) {
  return mode == SynchronousMode::kFull ? "FULL" : "NORMAL";
}

std::optional<SynchronousMode> ParseSynchronousMode(std::string_view name) {
  if (name == "FULL") return SynchronousMode::kFull;
  if (name == "NORMAL") return SynchronousMode::kNormal;
  return std::nullopt;
}

FaultyStore::FaultyStore(std::unique_ptr<Store> inner, const Clock* clock, uint64_t seed,
                         FaultyStoreOptions options)
    : FaultyStore(std::move(inner), nullptr, clock, seed, options) {}

FaultyStore::FaultyStore(std::unique_ptr<Store> inner, MemoryStore* memory, const Clock* clock, uint64_t seed,
                         FaultyStoreOptions options)
    : inner_(std::move(inner)), memory_(memory), clock_(clock), random_(seed), options_(options) {
  CHECK(inner_ != nullptr);
  CHECK(clock_ != nullptr);
  if (options_.synchronous == SynchronousMode::kNormal) {
    CHECK(memory_ != nullptr) << "synchronous NORMAL is modelled over a MemoryStore only";
    CHECK_GT(options_.sync_interval_us, 0);
    Sync();  // the empty store is durable
  }
}

std::unique_ptr<FaultyStore> FaultyStore::OverMemory(const Clock* clock, uint64_t seed, FaultyStoreOptions options) {
  auto memory = std::make_unique<MemoryStore>();
  MemoryStore* view = memory.get();
  return std::unique_ptr<FaultyStore>(new FaultyStore(std::move(memory), view, clock, seed, options));
}

void FaultyStore::Sync() {
  durable_ = memory_->TakeSnapshot();
  ++stats_.sync_points;
  writes_since_sync_ = 0;
  const TimeUs half = options_.sync_interval_us / 2;
  next_sync_us_ = clock_->NowUs() + half + random_.UniformRange(0, options_.sync_interval_us - half);
}

void FaultyStore::MaybeSync() {
  if (options_.synchronous != SynchronousMode::kNormal || depth_ > 0) return;
  if (clock_->NowUs() >= next_sync_us_ && writes_since_sync_ > 0) Sync();
}

void FaultyStore::PowerLoss() {
  CHECK_EQ(depth_, 0) << "a power loss inside a transaction";
  ++stats_.power_losses;
  if (options_.synchronous != SynchronousMode::kNormal) return;
  stats_.writes_lost += writes_since_sync_;
  memory_->RestoreSnapshot(*durable_);
  writes_since_sync_ = 0;
}

absl::Status FaultyStore::BeforeWrite(const char* op) {
  MaybeSync();
  if (armed_ && random_.Bernoulli(options_.write_failure_probability)) {
    ++stats_.writes_failed;
    return absl::UnavailableError(absl::StrCat("injected write failure: ", op));
  }
  if (depth_ == 0) ++writes_since_sync_;
  return absl::OkStatus();
}

absl::Status FaultyStore::BeforeRead(const char* op) {
  if (armed_ && random_.Bernoulli(options_.read_failure_probability)) {
    ++stats_.reads_failed;
    return absl::UnavailableError(absl::StrCat("injected read failure: ", op));
  }
  return absl::OkStatus();
}

void FaultyStore::MaybeDamage(std::string* bytes) {
  if (!armed_ || bytes->empty()) return;
  if (random_.Bernoulli(options_.corrupt_read_probability)) {
    ++stats_.reads_corrupted;
    const size_t at = random_.Uniform(bytes->size());
    (*bytes)[at] = static_cast<char>((*bytes)[at] ^ static_cast<char>(1 + random_.Uniform(255)));
    return;
  }
  if (random_.Bernoulli(options_.torn_read_probability)) {
    ++stats_.reads_torn;
    bytes->resize(random_.Uniform(bytes->size()));
  }
}

// ---- writes: a failed one writes nothing ----

absl::Status FaultyStore::PutBatch(const Digest& digest, std::string_view batch, Round round) {
  if (absl::Status s = BeforeWrite("PutBatch"); !s.ok()) return s;
  return inner_->PutBatch(digest, batch, round);
}

absl::Status FaultyStore::PruneBatchesBelow(Round round) {
  if (absl::Status s = BeforeWrite("PruneBatchesBelow"); !s.ok()) return s;
  return inner_->PruneBatchesBelow(round);
}

absl::Status FaultyStore::PutPayload(const Digest& digest, WorkerId worker, Round round) {
  if (absl::Status s = BeforeWrite("PutPayload"); !s.ok()) return s;
  return inner_->PutPayload(digest, worker, round);
}

absl::Status FaultyStore::PutOwnPayload(const OwnPayloadRow& row) {
  if (absl::Status s = BeforeWrite("PutOwnPayload"); !s.ok()) return s;
  return inner_->PutOwnPayload(row);
}

absl::Status FaultyStore::RemoveOwnPayload(const Digest& digest, WorkerId worker) {
  if (absl::Status s = BeforeWrite("RemoveOwnPayload"); !s.ok()) return s;
  return inner_->RemoveOwnPayload(digest, worker);
}

absl::Status FaultyStore::PutCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                         std::string_view certificate) {
  if (absl::Status s = BeforeWrite("PutCertificate"); !s.ok()) return s;
  return inner_->PutCertificate(digest, round, author, certificate);
}

absl::Status FaultyStore::PutSharedCertificate(const Digest& digest, Round round, AuthorityIndex author,
                                               std::shared_ptr<const std::string> certificate) {
  if (absl::Status s = BeforeWrite("PutCertificate"); !s.ok()) return s;
  return inner_->PutSharedCertificate(digest, round, author, std::move(certificate));
}

absl::Status FaultyStore::PutOwnHeader(Round round, std::string_view header) {
  if (absl::Status s = BeforeWrite("PutOwnHeader"); !s.ok()) return s;
  return inner_->PutOwnHeader(round, header);
}

absl::Status FaultyStore::PutVote(AuthorityIndex author, Round round, const Digest& header) {
  if (absl::Status s = BeforeWrite("PutVote"); !s.ok()) return s;
  return inner_->PutVote(author, round, header);
}

absl::Status FaultyStore::AppendCommitted(const CommittedSubDagRow& row, std::string_view consensus_state) {
  if (absl::Status s = BeforeWrite("AppendCommitted"); !s.ok()) return s;
  return inner_->AppendCommitted(row, consensus_state);
}

absl::Status FaultyStore::PruneCommittedBelow(uint64_t index) {
  if (absl::Status s = BeforeWrite("PruneCommittedBelow"); !s.ok()) return s;
  return inner_->PruneCommittedBelow(index);
}

absl::Status FaultyStore::AppendExecuted(uint64_t index, std::shared_ptr<const std::string> row) {
  if (absl::Status s = BeforeWrite("AppendExecuted"); !s.ok()) return s;
  return inner_->AppendExecuted(index, std::move(row));
}

absl::Status FaultyStore::PruneExecutedBelow(uint64_t index) {
  if (absl::Status s = BeforeWrite("PruneExecutedBelow"); !s.ok()) return s;
  return inner_->PruneExecutedBelow(index);
}

absl::Status FaultyStore::PruneRoundsBelow(Round round) {
  if (absl::Status s = BeforeWrite("PruneRoundsBelow"); !s.ok()) return s;
  return inner_->PruneRoundsBelow(round);
}

absl::Status FaultyStore::RunInTransaction(const std::function<absl::Status()>& body) {
  MaybeSync();
  if (depth_ == 0) ++writes_since_sync_;
  ++depth_;
  // The commit may fail too: then the body's writes are rolled back by
  // returning non-OK from inside the inner transaction.
  absl::Status status = inner_->RunInTransaction([&]() -> absl::Status {
    if (absl::Status s = body(); !s.ok()) return s;
    if (armed_ && random_.Bernoulli(options_.write_failure_probability)) {
      ++stats_.writes_failed;
      return absl::UnavailableError("injected write failure: RunInTransaction (commit)");
    }
    return absl::OkStatus();
  });
  --depth_;
  return status;
}

// ---- reads ----

absl::StatusOr<std::optional<std::string>> FaultyStore::GetBatch(const Digest& digest) {
  if (absl::Status s = BeforeRead("GetBatch"); !s.ok()) return s;
  auto got = inner_->GetBatch(digest);
  if (got.ok() && got->has_value()) MaybeDamage(&**got);
  return got;
}

absl::StatusOr<bool> FaultyStore::HasPayload(const Digest& digest, WorkerId worker) {
  if (absl::Status s = BeforeRead("HasPayload"); !s.ok()) return s;
  return inner_->HasPayload(digest, worker);
}

absl::StatusOr<std::vector<OwnPayloadRow>> FaultyStore::ListOwnPayload() {
  if (absl::Status s = BeforeRead("ListOwnPayload"); !s.ok()) return s;
  return inner_->ListOwnPayload();
}

absl::StatusOr<std::optional<std::string>> FaultyStore::GetCertificate(const Digest& digest) {
  if (absl::Status s = BeforeRead("GetCertificate"); !s.ok()) return s;
  auto got = inner_->GetCertificate(digest);
  if (got.ok() && got->has_value()) MaybeDamage(&**got);
  return got;
}

absl::StatusOr<std::vector<std::string>> FaultyStore::CertificatesInRounds(Round from, Round to) {
  if (absl::Status s = BeforeRead("CertificatesInRounds"); !s.ok()) return s;
  auto got = inner_->CertificatesInRounds(from, to);
  if (armed_ && got.ok() && !got->empty()) MaybeDamage(&(*got)[random_.Uniform(got->size())]);
  return got;
}

absl::StatusOr<std::optional<std::string>> FaultyStore::GetOwnHeader(Round round) {
  if (absl::Status s = BeforeRead("GetOwnHeader"); !s.ok()) return s;
  auto got = inner_->GetOwnHeader(round);
  if (got.ok() && got->has_value()) MaybeDamage(&**got);
  return got;
}

absl::StatusOr<Round> FaultyStore::LastOwnHeaderRound() {
  if (absl::Status s = BeforeRead("LastOwnHeaderRound"); !s.ok()) return s;
  return inner_->LastOwnHeaderRound();
}

absl::StatusOr<std::optional<Digest>> FaultyStore::GetVote(AuthorityIndex author, Round round) {
  if (absl::Status s = BeforeRead("GetVote"); !s.ok()) return s;
  return inner_->GetVote(author, round);
}

absl::StatusOr<std::optional<std::string>> FaultyStore::GetConsensusState() {
  if (absl::Status s = BeforeRead("GetConsensusState"); !s.ok()) return s;
  auto got = inner_->GetConsensusState();
  if (got.ok() && got->has_value()) MaybeDamage(&**got);
  return got;
}

absl::StatusOr<uint64_t> FaultyStore::NextCommitIndex() {
  if (absl::Status s = BeforeRead("NextCommitIndex"); !s.ok()) return s;
  return inner_->NextCommitIndex();
}

absl::StatusOr<std::vector<CommittedSubDagRow>> FaultyStore::CommittedFrom(uint64_t from, size_t limit) {
  if (absl::Status s = BeforeRead("CommittedFrom"); !s.ok()) return s;
  auto got = inner_->CommittedFrom(from, limit);
  if (armed_ && got.ok() && !got->empty()) MaybeDamage(&(*got)[random_.Uniform(got->size())].sub_dag);
  return got;
}

absl::StatusOr<uint64_t> FaultyStore::NextExecutedIndex() {
  if (absl::Status s = BeforeRead("NextExecutedIndex"); !s.ok()) return s;
  return inner_->NextExecutedIndex();
}

absl::StatusOr<std::vector<ExecutedRow>> FaultyStore::ExecutedFrom(uint64_t from, size_t limit) {
  if (absl::Status s = BeforeRead("ExecutedFrom"); !s.ok()) return s;
  auto got = inner_->ExecutedFrom(from, limit);
  if (!armed_ || !got.ok() || got->empty()) return got;
  // The rows are shared with the store: damage a copy.
  ExecutedRow& row = (*got)[random_.Uniform(got->size())];
  std::string bytes = *row.row;
  MaybeDamage(&bytes);
  if (bytes != *row.row) row.row = std::make_shared<const std::string>(std::move(bytes));
  return got;
}

absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> FaultyStore::ExecutedSizes() {
  if (absl::Status s = BeforeRead("ExecutedSizes"); !s.ok()) return s;
  return inner_->ExecutedSizes();
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> FaultyStore::RowCounts() {
  return inner_->RowCounts();
}

}  // namespace narwhal::sim
