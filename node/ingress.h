// Client ingress of one worker (docs/client_protocol.md, "Submitting"): a
// ROUTER socket at WorkerInfo.transactions_address. Each SubmitRequest is
// fed to Worker::SubmitTransaction in order and answered at once with a
// SubmitReply (ranges of sequenced or refused transactions); when the
// worker reports a batch accepted (quorum reached, our primary has it),
// every client whose transactions are in it gets an Accepted notice.
//
// Bounds: the worker's max_pending_bytes bounds the sequenced-but-not-yet-
// accepted transactions, and so the ranges remembered here; a request holds
// at most limits::kSubmitTransactionsPerRequestMax transactions; at most
// messages_per_wakeup_max requests are read per wakeup so the loop keeps
// serving the protocol.
#ifndef NARWHAL_NODE_INGRESS_H_
#define NARWHAL_NODE_INGRESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "core/worker/worker.h"
#include "node/client_limits.h"
#include "node/client.pb.h"
#include "node/zmq_socket.h"
#include "transport_zmq/event_loop.h"

namespace narwhal::node {

struct IngressOptions {
  std::string address;
  int messages_per_wakeup_max = 64;
  int receive_hwm_messages = 1000;
  int send_hwm_messages = 10000;
  // Larger client messages are refused by ZeroMQ (the connection is dropped).
  int64_t max_message_bytes = limits::kIngressMessageBytesMax;
  // Answers IngressRequest.status (the worker's health); unset: an error.
  std::function<client::StatusReply()> status;
};

struct IngressStats {
  uint64_t requests = 0;
  uint64_t transactions_sequenced = 0;
  uint64_t transactions_refused = 0;
  // transactions_refused by client::Refusal (BACKPRESSURE, OVERSIZED, INVALID).
  uint64_t refused_backpressure = 0;
  uint64_t refused_oversized = 0;
  uint64_t refused_invalid = 0;
  uint64_t transactions_accepted = 0;
  uint64_t malformed = 0;
  uint64_t replies_dropped = 0;  // the client was gone or its queue full
  uint64_t notices_forgotten = 0;  // beyond limits::kIngressPendingRangesMax
};

class Ingress {
 public:

  // Binds the socket; takes over the worker's OnBatchAccepted callback.
  static absl::StatusOr<std::unique_ptr<Ingress>> Create(void* context, EventLoop& loop,
                                                         Worker& worker, IngressOptions options);
  ~Ingress();

  const IngressStats& stats() const { return stats_; }

 private:
  // Sequenced transactions of one request, waiting for acceptance.
  struct Pending {
    std::string identity;  // the client's ROUTER identity
    uint64_t request_id = 0;
    uint32_t first = 0;    // position in the request of the first seq
    uint32_t count = 0;
  };

  Ingress(EventLoop& loop, Worker& worker, ZmqSocket socket);
  void OnReadable();
  void Handle(std::string_view identity, std::string_view payload);
  void HandleSubmit(std::string_view identity, uint64_t request_id,
                    const std::vector<std::string_view>& transactions);
  void OnBatchAccepted(const SealedBatch& accepted);
  void SendTo(std::string_view identity, const client::IngressMessage& message);

  EventLoop& loop_;
  Worker& worker_;
  ZmqSocket socket_;
  EventLoop::WatchId watch_id_ = 0;
  int messages_per_wakeup_max_ = 64;
  std::function<client::StatusReply()> status_;
  std::vector<ZmqMessage> parts_;  // reused by OnReadable
  // first seq -> the range starting there. Ranges never overlap.
  absl::btree_map<uint64_t, Pending> pending_;
  IngressStats stats_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_INGRESS_H_
