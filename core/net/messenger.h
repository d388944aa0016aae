// Request/response messaging over the Transport seam (DESIGN.md section 4,
// seed 004): every message is a Request {request_id, body}; the receiver
// answers Response {request_id, success, message, items}. The Messenger is
// the "P2P event router" of seed 000: a received response goes to exactly
// the callback waiting for it (matched by peer and request id; unknown and
// late responses are counted and ignored), a received request goes to the
// one request handler of this role.
//
// Two ways to send:
//   - SendReliable: retried with backoff until a response arrives, the
//     returned handle is cancelled or destroyed (CancelOnDrop), or
//     max_elapsed passes (the callback then gets DeadlineExceeded). At most
//     max_pending_per_peer unanswered requests per peer: beyond that the send
//     fails fast with ResourceExhausted and nothing already queued is lost.
//   - SendUnreliable: one attempt; an optional callback gets the response if
//     one arrives before `timeout_us`, else DeadlineExceeded.
//
// Single-threaded like everything in the core.
#ifndef NARWHAL_CORE_NET_MESSENGER_H_
#define NARWHAL_CORE_NET_MESSENGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "core/limits.h"
#include "core/env.h"
#include "core/log_limiter.h"
#include "core/messages.pb.h"
#include "core/net/retry.h"

namespace narwhal {

struct MessengerOptions {
  RetryConfig retry;
  size_t max_pending_per_peer = 10'000;
  // Frames larger than this are dropped on receipt (the transport may cap
  // them earlier).
  size_t max_frame_bytes = limits::kFrameBytesMax;
};

// What one peer did, for metrics and health (node/metrics.h, node/health.h).
struct PeerStats {
  uint64_t retransmissions = 0;
  uint64_t refused_queue_full = 0;  // sends refused: max_pending_per_peer unanswered
  uint64_t gave_up = 0;
  TimeUs last_heard_us = -1;        // any frame from it; -1: never
  // The first send expecting an answer since we last heard from it; -1 when
  // nothing is waiting. A peer we have waited on for long is unreachable (a
  // peer we send nothing to may be silent and well).
  TimeUs waiting_since_us = -1;
};

struct MessengerStats {
  uint64_t requests_sent = 0;       // first attempts
  uint64_t retransmissions = 0;
  uint64_t responses_matched = 0;
  uint64_t responses_ignored = 0;   // unknown, late or duplicate
  uint64_t requests_received = 0;
  uint64_t malformed_frames = 0;
  uint64_t gave_up = 0;
  uint64_t refused_queue_full = 0;
  absl::btree_map<Endpoint, PeerStats> peers;  // those we sent to or heard from
};

class Messenger;

// Stops the retries of one reliable request when cancelled or destroyed.
class RequestHandle {
 public:
  RequestHandle() = default;
  RequestHandle(RequestHandle&& other) noexcept { *this = std::move(other); }
  RequestHandle& operator=(RequestHandle&& other) noexcept;
  RequestHandle(const RequestHandle&) = delete;
  RequestHandle& operator=(const RequestHandle&) = delete;
  ~RequestHandle() { Cancel(); }

  void Cancel();
  // Lets the request run to completion without a handle.
  void Detach() { messenger_.reset(); }
  uint64_t request_id() const { return request_id_; }
  const Endpoint& peer() const { return peer_; }

 private:
  friend class Messenger;
  RequestHandle(std::weak_ptr<Messenger*> messenger, Endpoint peer, uint64_t id)
      : messenger_(std::move(messenger)), peer_(peer), request_id_(id) {}
  std::weak_ptr<Messenger*> messenger_;
  Endpoint peer_;
  uint64_t request_id_ = 0;
};

// A request serialized once, to be sent to many peers (a broadcast): each
// send only prepends its own request id.
class PreparedRequest {
 public:
  explicit PreparedRequest(const wire::Request& request);
  const std::string& body() const { return *body_; }

 private:
  friend class Messenger;
  // The Request without its request_id; shared by every pending send made
  // from it (retransmissions rebuild their frame from it).
  std::shared_ptr<const std::string> body_;
};

class Messenger {
 public:
  // Gets the peer's response, or an error status (gave up, timed out).
  using ResponseCallback =
      std::function<void(const Endpoint& peer, const absl::StatusOr<wire::Response>& response)>;
  // Answers a request; may be called later (once) or never.
  using Responder = std::function<void(bool success, std::string message,
                                       std::vector<std::string> items)>;
  using RequestHandler =
      std::function<void(const Endpoint& from, const wire::Request& request, Responder respond)>;
  // For a Request whose body is one `bytes` field holding a whole message
  // (Request.header, Request.certificate): gets a view of those bytes
  // straight from the frame, with no protobuf parse or copy of them.
  using RawHandler =
      std::function<void(const Endpoint& from, std::string_view bytes, Responder respond)>;

  // Registers itself as the transport's receiver.
  Messenger(const Env& env, MessengerOptions options);
  ~Messenger();

  void SetRequestHandler(RequestHandler handler) { handler_ = std::move(handler); }
  // Requests of this body field go to `handler` instead of the request
  // handler (only when the frame holds nothing else; anything unusual takes
  // the general path and the request handler).
  void SetRawHandler(int field_number, RawHandler handler) {
    raw_handlers_[field_number] = std::move(handler);
  }

  // `request.request_id` is assigned here.
  absl::StatusOr<RequestHandle> SendReliable(const Endpoint& to, const PreparedRequest& request,
                                             ResponseCallback on_response);
  absl::StatusOr<RequestHandle> SendReliable(const Endpoint& to, const wire::Request& request,
                                             ResponseCallback on_response) {
    return SendReliable(to, PreparedRequest(request), std::move(on_response));
  }
  absl::Status SendUnreliable(const Endpoint& to, const PreparedRequest& request,
                              ResponseCallback on_response, TimeUs timeout_us);
  absl::Status SendUnreliable(const Endpoint& to, const wire::Request& request,
                              ResponseCallback on_response, TimeUs timeout_us) {
    return SendUnreliable(to, PreparedRequest(request), std::move(on_response), timeout_us);
  }

  size_t PendingTo(const Endpoint& peer) const;
  const MessengerStats& stats() const { return stats_; }
  Endpoint self() const { return env_.transport->self(); }

 private:
  friend class RequestHandle;
  struct Pending {
    Endpoint peer;
    std::shared_ptr<const std::string> body;  // the frame is rebuilt on retry
    ResponseCallback callback;
    Backoff backoff;
    TimeUs first_sent_us = 0;
    TimerId timer = 0;  // unreliable: the timeout
    bool reliable = true;
    // Reliable: when the next retransmission (or, if give_up, the failure)
    // is due; its entry in due_.
    TimeUs due_us = 0;
    bool give_up = false;
    size_t* peer_count = nullptr;  // in pending_per_peer_
  };
  using Key = std::pair<Endpoint, uint64_t>;
  using Due = std::tuple<TimeUs, Endpoint, uint64_t>;

  void OnFrame(const Endpoint& from, std::string_view frame);
  void OnFrameParts(const Endpoint& from, std::string_view prefix, std::string_view body);
  // A request's body (its fields but request_id), the raw path when it fits.
  void OnRequestBody(const Endpoint& from, uint64_t id, std::string_view body);
  Responder MakeResponder(const Endpoint& from, uint64_t id);
  void OnResponse(const Endpoint& from, const wire::Response& response);
  void OnRequest(const Endpoint& from, const wire::Request& request);
  void ArmRetry(const Key& key);
  void Retry(const Key& key);
  // One timer for all retransmissions, at the earliest due time (a timer per
  // request cost a schedule and a cancel for every message, nearly all of
  // them answered in time). due_ is a min-heap on (due time, peer, id);
  // answered requests stay in it until their time comes and are skipped
  // then (their Pending is gone or due elsewhen). The timer is not moved
  // for them either and, when it fires early, re-arms.
  void ArmDueTimer(TimeUs at_us);
  void OnDueTimer();
  void Cancel(const Endpoint& peer, uint64_t id);
  void Finish(const Key& key, const absl::StatusOr<wire::Response>& result);
  void Sent(const Endpoint& to);
  void WarnSendFailed(const Endpoint& to, const char* what, const absl::Status& status);
  void Heard(const Endpoint& from);

  Env env_;
  MessengerOptions options_;
  RequestHandler handler_;
  absl::btree_map<int, RawHandler> raw_handlers_;
  uint64_t next_request_id_;
  // Lookup only: the only iteration (the destructor cancelling timers) has
  // no order-dependent effect.
  absl::flat_hash_map<Key, Pending> pending_;
  std::vector<Due> due_;
  TimerId due_timer_ = 0;
  TimeUs due_timer_at_us_ = 0;
  // Lookup only. Node-based so that each Pending can keep a pointer to its
  // peer's count (no lookup when a request finishes).
  absl::node_hash_map<Endpoint, size_t> pending_per_peer_;
  MessengerStats stats_;
  LogLimiter send_warnings_{10 * kSecondUs};
  // Handles hold a weak pointer to this so that a handle outliving its
  // messenger does nothing.
  std::shared_ptr<Messenger*> self_ref_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_NET_MESSENGER_H_
