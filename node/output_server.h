// The committed-output stream of a primary (docs/client_protocol.md,
// "Reading the committed output"): a ROUTER socket at
// AuthorityInfo.output_address. A client subscribes from a consensus index;
// it gets every executed sub-DAG from there, in index order, with the
// transactions of its batches: the rows the core's executor
// (core/execution/executor.h) made durable in the primary's store, read back
// (Store::ExecutedFrom), then live as the executor appends them. This server
// only moves bytes: no fetch, no retry, nothing a restart can lose.
//
// Flow control: ZMQ_ROUTER_MANDATORY with a small send high-water mark, so a
// slow subscriber is paused (and retried) rather than silently losing
// messages; a disconnected one is dropped when a send finds it gone.
// Bounds: subscribers_max, rows_cached_bytes_max.
#ifndef NARWHAL_NODE_OUTPUT_SERVER_H_
#define NARWHAL_NODE_OUTPUT_SERVER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/consensus/consensus.h"
#include "core/store/store.h"
#include "node/client_limits.h"
#include "node/client.pb.h"
#include "node/zmq_socket.h"
#include "transport_zmq/event_loop.h"

namespace narwhal::node {

struct OutputServerOptions {
  std::string address;
  size_t max_transaction_size_bytes = 64 * 1024;
  int send_hwm_messages = 64;
  // Messages sent to one subscriber per turn before the others get theirs.
  int messages_per_turn_max = 16;
  TimeUs heartbeat_interval_us = 1 * kSecondUs;
  TimeUs blocked_retry_us = 5 * kMillisecondUs;
  size_t subscribers_max = limits::kOutputSubscribersMax;
  // Executed rows (with their batches) kept in memory for live readers.
  size_t rows_cached_bytes_max = 16 << 20;
  size_t rows_per_read = 16;
  // Answers OutputRequest.status (the primary's health); unset: an error.
  std::function<client::StatusReply()> status;
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
  // Reads the store's next executed index now, so create it before the
  // primary (whose recovery may already execute).
  static absl::StatusOr<std::unique_ptr<OutputServer>> Create(void* context, EventLoop& loop,
                                                              Store* store, OutputServerOptions options);
  ~OutputServer();

  // Primary hooks.
  void OnCommit(const CommittedSubDag& sub);
  void OnExecuted(const ExecutedRow& row);
  void OnOwnBatch(const Digest& digest, TimeUs created_at_us);

  const OutputServerStats& stats() const { return stats_; }
  // One past the last executed sub-DAG: what a subscriber can get now.
  uint64_t next_index() const { return next_index_; }
  size_t subscribers() const { return subscribers_.size(); }

 private:
  struct Subscriber {
    client::Subscribe request;
    uint64_t next_index = 0;
    TimeUs last_sent_us = 0;
    bool blocked = false;
  };

  OutputServer(EventLoop& loop, Store* store, OutputServerOptions options, ZmqSocket socket,
               uint64_t next_index);
  void OnReadable();
  void Handle(const std::string& identity, const std::string& payload);
  // Coalesces: one pump per loop pass however many events ask for it.
  void SchedulePump();
  void PumpAll();
  // False if the subscriber was dropped.
  bool Pump(const std::string& identity, Subscriber& sub);
  // The executed row at `index`: from the cache or the store; an error
  // names the oldest index kept if `index` is below it.
  absl::StatusOr<std::shared_ptr<const std::string>> GetRow(uint64_t index);
  void CacheRow(uint64_t index, std::shared_ptr<const std::string> row);
  absl::StatusOr<std::string> Build(const std::string& row, const client::Subscribe& request);
  // Ok(true) sent, Ok(false) would block, error: the subscriber is gone.
  absl::StatusOr<bool> SendTo(const std::string& identity, const client::OutputMessage& message);
  void SendError(const std::string& identity, const std::string& error);
  void Heartbeat();
  int64_t ToUnixUs(TimeUs steady_us) const { return steady_us + unix_offset_us_; }

  EventLoop& loop_;
  Store* store_;
  const OutputServerOptions options_;
  ZmqSocket socket_;
  EventLoop::WatchId watch_id_ = 0;
  uint64_t next_index_ = 0;
  int64_t unix_offset_us_ = 0;
  absl::btree_map<std::string, Subscriber> subscribers_;
  absl::btree_map<uint64_t, std::shared_ptr<const std::string>> rows_;
  size_t rows_bytes_ = 0;
  absl::btree_map<uint64_t, TimeUs> commit_times_;
  absl::flat_hash_map<Digest, TimeUs> own_batches_;  // lookup only
  std::deque<Digest> own_batches_order_;
  TimerId pump_timer_ = 0;
  bool pump_scheduled_ = false;
  // Rows executed in the current event-loop pass: published (next_index_,
  // the cache) by a timer in the next pass, after the pass's commit.
  std::vector<ExecutedRow> unpublished_;
  TimerId publish_timer_ = 0;
  bool publish_scheduled_ = false;
  TimerId heartbeat_timer_ = 0;
  absl::btree_set<TimerId> retry_timers_;
  OutputServerStats stats_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_OUTPUT_SERVER_H_
