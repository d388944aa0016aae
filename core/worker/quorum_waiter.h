// QuorumWaiter (seed 000): tracks each broadcast batch until the stake of its
// author plus the workers that ACKed it reaches the quorum threshold. At that
// point the batch is handed on exactly once, the outstanding retries are
// cancelled (their handles dropped) and the batch is forgotten; ACKs that
// arrive later find nothing and are ignored.
#ifndef NARWHAL_CORE_WORKER_QUORUM_WAITER_H_
#define NARWHAL_CORE_WORKER_QUORUM_WAITER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/committee.h"
#include "core/net/messenger.h"

namespace narwhal {

struct PendingBatch {
  std::string batch;
  Digest digest;
  TimeUs created_at_us = 0;
  uint64_t first_tx_seq = 0;
  uint32_t tx_count = 0;
};

class QuorumWaiter {
 public:
  using OnQuorum = std::function<void(PendingBatch batch)>;
  QuorumWaiter(const Committee* committee, AuthorityIndex self, OnQuorum on_quorum)
      : committee_(committee), self_(self), on_quorum_(std::move(on_quorum)) {}

  // Starts tracking; `handles` are the reliable sends to the other workers.
  // Reaches quorum at once if own stake suffices (a committee of one).
  void Track(uint64_t batch_id, PendingBatch batch, std::vector<RequestHandle> handles);
  // An ACK (success response) from `from`'s worker for `batch_id`.
  void OnAck(uint64_t batch_id, AuthorityIndex from);

  size_t pending() const { return pending_.size(); }
  size_t pending_bytes() const { return pending_bytes_; }
  uint64_t late_acks() const { return late_acks_; }

 private:
  struct Entry {
    PendingBatch batch;
    std::vector<RequestHandle> handles;
    absl::btree_set<AuthorityIndex> acked;
    uint64_t stake = 0;
  };
  void MaybeComplete(uint64_t batch_id);

  const Committee* committee_;
  AuthorityIndex self_;
  OnQuorum on_quorum_;
  absl::btree_map<uint64_t, Entry> pending_;
  size_t pending_bytes_ = 0;
  uint64_t late_acks_ = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_WORKER_QUORUM_WAITER_H_
