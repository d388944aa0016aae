// The committed-output stream of a primary (docs/client_protocol.md,
// "Reading the committed output"): a ROUTER socket at
// AuthorityInfo.output_address. A client subscribes from a consensus index;
// it gets every committed sub-DAG from there, in index order, with the
// transactions of its batches, first caught up from the primary's store
// (Store::CommittedFrom), then live as the primary commits. Sub-DAG rows
// name batches by digest; their contents come from the BatchFetcher (our
// own workers). This is the node's "executor": the first consumer of the
// ordered output.
//
// Flow control: ZMQ_ROUTER_MANDATORY with a small send high-water mark, so a
// slow subscriber is paused (and retried) rather than silently losing
// messages; a disconnected one is dropped when a send finds it gone.
// Bounds: subscribers_max, rows_cached_max, and the fetcher's cache.
#ifndef NARWHAL_NODE_OUTPUT_SERVER_H_
#define NARWHAL_NODE_OUTPUT_SERVER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/consensus/consensus.h"
#include "core/store/store.h"
#include "node/batch_fetcher.h"
#include "node/client.pb.h"
#include "node/zmq_socket.h"
#include "transport_zmq/event_loop.h"

namespace narwhal::node {

struct OutputServerOptions {
  std::string address;
  size_t max_transaction_size_bytes = 64 * 1024;
  // Sub-DAGs past a subscriber's position whose batches are fetched ahead.
  int prefetch_sub_dags = 8;
  // Fetch every batch as soon as it commits (see OnCommit for why).
  bool prefetch_on_commit = true;
  int send_hwm_messages = 64;
  // Messages sent to one subscriber per turn before the others get theirs.
  int messages_per_turn_max = 16;
  TimeUs heartbeat_interval_us = 1 * kSecondUs;
  TimeUs blocked_retry_us = 5 * kMillisecondUs;
  size_t subscribers_max = 256;
  size_t rows_cached_max = 4096;
  size_t rows_per_read = 64;
};

struct OutputServerStats {
  uint64_t subscriptions = 0;
  uint64_t sub_dags_sent = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t subscribers_dropped = 0;
  uint64_t sends_blocked = 0;
  uint64_t malformed = 0;
};

class OutputServer {
 public:
  // Reads the store's next commit index now, so create it before the
  // primary (whose recovery may already commit).
  static absl::StatusOr<std::unique_ptr<OutputServer>> Create(void* context, EventLoop& loop,
                                                              Store* store, BatchFetcher* fetcher,
                                                              OutputServerOptions options);
  ~OutputServer();

  // Primary hooks.
  void OnCommit(const CommittedSubDag& sub);
  void OnOwnBatch(const Digest& digest, TimeUs created_at_us);

  const OutputServerStats& stats() const { return stats_; }
  uint64_t next_commit_index() const { return next_commit_index_; }

 private:
  struct CertInfo {
    Digest digest;
    AuthorityIndex author = 0;
    Round round = 0;
    // The batches of its payload this sub-DAG executes: the primary leaves
    // out a batch an earlier sub-DAG (or certificate) already carried
    // (CommittedSubDag::batches), so every batch is output once.
    std::vector<BatchRef> payload;
  };
  // Splits the sub-DAG's executed batches (in certificate order) over the
  // certificates that carry them.
  static void AssignBatches(const std::vector<BatchRef>& executed, std::vector<CertInfo>& certs,
                            const std::vector<std::vector<BatchRef>>& payloads);
  struct Row {
    uint64_t index = 0;
    Digest leader;
    Round leader_round = 0;
    std::vector<CertInfo> certificates;
  };
  using RowPtr = std::shared_ptr<const Row>;
  struct Subscriber {
    client::Subscribe request;
    uint64_t next_index = 0;
    TimeUs last_sent_us = 0;
    bool blocked = false;
  };

  OutputServer(EventLoop& loop, Store* store, BatchFetcher* fetcher, OutputServerOptions options,
               ZmqSocket socket, uint64_t next_commit_index);
  void OnReadable();
  void Handle(const std::string& identity, const std::string& payload);
  // Coalesces: one pump per loop pass however many events ask for it.
  void SchedulePump();
  void PumpAll();
  // False if the subscriber was dropped.
  bool Pump(const std::string& identity, Subscriber& sub);
  absl::StatusOr<RowPtr> GetRow(uint64_t index);
  // nullopt while some batch is still being fetched.
  std::optional<std::string> Build(const Row& row, const client::Subscribe& request);
  void Prefetch(const Row& row);
  // Ok(true) sent, Ok(false) would block, error: the subscriber is gone.
  absl::StatusOr<bool> SendTo(const std::string& identity, const client::OutputMessage& message);
  void SendError(const std::string& identity, const std::string& error);
  void Heartbeat();
  int64_t ToUnixUs(TimeUs steady_us) const { return steady_us + unix_offset_us_; }

  EventLoop& loop_;
  Store* store_;
  BatchFetcher* fetcher_;
  const OutputServerOptions options_;
  ZmqSocket socket_;
  EventLoop::WatchId watch_id_ = 0;
  uint64_t next_commit_index_ = 0;
  int64_t unix_offset_us_ = 0;
  absl::btree_map<std::string, Subscriber> subscribers_;
  absl::btree_map<uint64_t, RowPtr> rows_;
  absl::btree_map<uint64_t, TimeUs> commit_times_;
  absl::flat_hash_map<Digest, TimeUs> own_batches_;  // lookup only
  std::deque<Digest> own_batches_order_;
  TimerId pump_timer_ = 0;
  bool pump_scheduled_ = false;
  TimerId heartbeat_timer_ = 0;
  absl::btree_set<TimerId> retry_timers_;
  OutputServerStats stats_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_OUTPUT_SERVER_H_
