// FaultyStore: a Store that wraps another and misbehaves as disks and
// filesystems do, driven by its own seeded generator so that the same seed
// gives the same faults.
//
// While armed it
//   - fails writes: a non-OK status and nothing written (the Store contract),
//     also a whole transaction at its commit;
//   - fails reads: a non-OK status;
//   - returns corrupted reads (one byte of a value flipped) and torn reads
//     (a value cut short) of the values a read returns as bytes: batches,
//     certificates, own headers, the consensus state, committed and executed
//     rows. The stored bytes stay intact: what goes wrong is this read.
// Every injected status names the operation ("injected write failure:
// PutVote"), so a node halted by it says which write it could not do.
//
// Armed or not it models the synchronous mode. FULL: every OK write survives
// a power loss. NORMAL (SQLite in WAL mode): a write is durable only once a
// sync point after it has passed; sync points come every
// sync_interval_us on average (uniform in [1/2, 3/2] of it, seeded), always
// between two top-level writes or transactions, so PowerLoss() drops a suffix
// of whole transactions, never half of one. A process crash is not a power
// loss: the operating system still writes the page cache out, so nothing is
// lost in either mode (the caller simply does not call PowerLoss).
//
//   auto store = FaultyStore::OverMemory(clock, seed, options);
//   store->set_armed(true);   // injected faults from now on
//   ...
//   store->PowerLoss();       // at a power-loss crash
#ifndef NARWHAL_SIM_FAULTY_STORE_H_
#define NARWHAL_SIM_FAULTY_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/random.h"
#include "core/store/memory_store.h"
#include "core/store/store.h"

namespace narwhal::sim {

enum class SynchronousMode { kFull, kNormal };
// "FULL" / "NORMAL", as SQLite and the node's config spell them.
const char* SynchronousModeName(SynchronousMode mode);
std::optional<SynchronousMode> ParseSynchronousMode(std::string_view name);

struct FaultyStoreOptions {
  // Per call while armed. A read that returns bytes and is not failed is
  // corrupted with corrupt_read_probability, else torn with
  // torn_read_probability.
  double write_failure_probability = 0;
  double read_failure_probability = 0;
  double corrupt_read_probability = 0;
  double torn_read_probability = 0;
  SynchronousMode synchronous = SynchronousMode::kFull;
  // NORMAL only: mean virtual time between sync points.
  TimeUs sync_interval_us = kSecondUs;
};

struct FaultyStoreStats {
  uint64_t writes_failed = 0;
  uint64_t reads_failed = 0;
  uint64_t reads_corrupted = 0;
  uint64_t reads_torn = 0;
  uint64_t sync_points = 0;
  uint64_t power_losses = 0;
  // Top-level writes and transactions dropped by power losses.
  uint64_t writes_lost = 0;
};

class FaultyStore final : public Store {
 public:
  // Over any store: write, read and corruption faults; FULL only (a NORMAL
  // power loss needs to put the inner store back to a sync point).
  FaultyStore(std::unique_ptr<Store> inner, const Clock* clock, uint64_t seed, FaultyStoreOptions options);
  // Over a fresh MemoryStore: every fault and either synchronous mode.
  static std::unique_ptr<FaultyStore> OverMemory(const Clock* clock, uint64_t seed, FaultyStoreOptions options);

  // Injected faults only while armed (storage faults are periods of a run).
  void set_armed(bool armed) { armed_ = armed; }
  bool armed() const { return armed_; }
  // The machine lost power: with NORMAL, every write after the last sync
  // point is gone. With FULL, nothing is.
  void PowerLoss();
  const FaultyStoreStats& stats() const { return stats_; }
  const FaultyStoreOptions& options() const { return options_; }
  // The store underneath, for reads that must see the durable bytes
  // without faults (checkers, reports).
  Store* inner() { return inner_.get(); }

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
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> ExecutedSizes() override;
  absl::Status PruneExecutedBelow(uint64_t index) override;
  absl::Status PruneRoundsBelow(Round round) override;
  absl::Status RunInTransaction(const std::function<absl::Status()>& body) override;
  // Never faulty: reports only.
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RowCounts() override;

 private:
  FaultyStore(std::unique_ptr<Store> inner, MemoryStore* memory, const Clock* clock, uint64_t seed,
              FaultyStoreOptions options);
  // Before a write: a sync point if one is due (top level only), then
  // maybe an injected failure (non-OK: do not write).
  absl::Status BeforeWrite(const char* op);
  absl::Status BeforeRead(const char* op);
  // Maybe corrupts or tears `bytes`, a value `op` returns.
  void MaybeDamage(std::string* bytes);
  void MaybeSync();
  void Sync();

  std::unique_ptr<Store> inner_;
  MemoryStore* memory_;  // inner_ seen as a MemoryStore, or null
  const Clock* clock_;
  Random random_;
  FaultyStoreOptions options_;
  bool armed_ = false;
  int depth_ = 0;  // RunInTransaction nesting
  std::optional<MemoryStore::Snapshot> durable_;
  TimeUs next_sync_us_ = 0;
  uint64_t writes_since_sync_ = 0;
  FaultyStoreStats stats_;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_FAULTY_STORE_H_
