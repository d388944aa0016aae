// Transport (core/env.h) over ZeroMQ for one role of one authority: one
// ROUTER bound at this endpoint's address receives from every peer; one
// DEALER per peer, created on the first Send to it, sends.
//
// Wire format: each frame is two message parts, the sender header (see
// sender_header.h) and the payload; the receiving ROUTER prepends the
// connection's routing identity, which is ignored. Anything else (wrong
// part count, bad header, sender not in the address map, empty payload, or
// under CurveZMQ a header whose authority is not the connection's key) is
// dropped with a LOG(WARNING) and counted in stats().frames_dropped.
//
// Authentication: without `curve` options nothing is authenticated; `from`
// is whatever the peer claims (tests, loopback trials). With them, the
// ROUTER is a CURVE server, so traffic is encrypted and every client proves
// it holds the secret key for the public key it presents; the
// ZapAuthenticator admits only committee members' keys and names the
// connection's authority; each frame's claimed authority must equal it.
// The role inside an authority is not bound by the key (all roles of an
// authority share one keypair): a member can claim to be any of its own
// roles, never another authority's.
//
// Delivery is best effort: Send() only queues, a dead peer's frames queue up
// to `send_hwm_frames` and then Send() returns ResourceExhausted; ZeroMQ
// reconnects by itself. See ZmqTransportOptions::immediate for frames sent
// before a peer is reachable.
//
// Threading: every method on the loop's thread (or before the loop runs);
// the receiver runs on the loop thread. Destroy before the EventLoop and the
// context; the receiver must not destroy the transport.
#ifndef NARWHAL_TRANSPORT_ZMQ_ZMQ_TRANSPORT_H_
#define NARWHAL_TRANSPORT_ZMQ_ZMQ_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/limits.h"
#include "core/env.h"
#include "core/types.h"
#include "transport_zmq/curve_keys.h"
#include "transport_zmq/event_loop.h"
#include "transport_zmq/zap_authenticator.h"

namespace narwhal {

struct ZmqCurveOptions {
  // This authority's raw 32-byte keypair (shared by all its roles).
  CurveKeyPair self;
  // authority -> raw 32-byte public key, for every authority we send to.
  absl::btree_map<AuthorityIndex, std::string> member_public_keys;
  // The context's ZAP handler. Required: without one libzmq would accept any
  // client key. Not owned; must outlive the transport.
  const ZapAuthenticator* authenticator = nullptr;
};

struct ZmqTransportOptions {
  // Frames queued per peer before Send() returns ResourceExhausted.
  int send_hwm_frames = 1000;
  // Frames queued inbound before ZeroMQ stops reading from the sockets.
  int receive_hwm_frames = 10000;
  // Larger inbound message parts make ZeroMQ drop the connection; larger
  // outbound frames are refused by Send().
  int64_t max_frame_bytes = static_cast<int64_t>(limits::kFrameBytesMax);
  // How long close waits to flush: short so shutdown and restart are quick;
  // unsent frames are the core's retry layer's business.
  int linger_ms = 0;
  int reconnect_interval_ms = 100;
  // At most this between reconnect attempts to a peer that is unreachable:
  // after a partition heals, the link is back within about this long.
  int reconnect_interval_max_ms = 2000;
  // ZMTP heartbeats on every connection: a connection whose peer sends
  // nothing back for heartbeat_timeout_ms is closed and dialled again. A cut
  // that silently drops packets otherwise leaves TCP retransmitting into the
  // void with a growing backoff (seen on 4 hosts: an authority cut off for
  // 30 s certified again only 15-16 s after the heal); 0 turns them off.
  int heartbeat_interval_ms = 1000;
  int heartbeat_timeout_ms = 3000;
  // ZMQ_IMMEDIATE on the DEALERs. False (the default): frames sent before a
  // peer is reachable are queued (up to send_hwm_frames) and delivered when
  // it connects, so the first frames to a peer that is still starting are
  // not lost. True: Send() returns ResourceExhausted until the connection is
  // up, so nothing stale is delivered after a long outage, but the first
  // Send to every peer fails. The core retries either way; false loses less.
  bool immediate = false;
  // When every Send to a peer has been refused for this long, its DEALER is
  // closed and a fresh one connected (dropping what was queued). Needed
  // because libzmq does not reconnect a DEALER whose handshake the peer
  // refused (a CURVE/ZAP refusal is a protocol error, which ends the
  // session for good): without a reset, a peer that once refused us, say
  // while it still had an old committee, would stay unreachable.
  int refused_reset_ms = 10000;
  // Frames read per wakeup before yielding to other sockets and timers.
  int receive_batch_max = 256;
  // Plain TCP when unset.
  std::optional<ZmqCurveOptions> curve;
};

class ZmqTransport final : public Transport {
 public:
  struct Stats {
    uint64_t frames_sent = 0;
    uint64_t frames_received = 0;
    uint64_t frames_dropped = 0;
    uint64_t sends_refused = 0;
  };

  // `addresses` maps every endpoint we talk to (and `self`) to "host:port";
  // "tcp://" is prepended unless the address already names a transport
  // ("ipc://..."). Binds the ROUTER at self's address. Fails with
  // Unavailable if the address is in use, InvalidArgument for a bad address
  // or inconsistent options.
  static absl::StatusOr<std::unique_ptr<ZmqTransport>> Create(
      zmq::context_t& context, EventLoop& loop, Endpoint self,
      absl::btree_map<Endpoint, std::string> addresses, ZmqTransportOptions options = {});
  ~ZmqTransport() override;
  ZmqTransport(const ZmqTransport&) = delete;
  ZmqTransport& operator=(const ZmqTransport&) = delete;

  Endpoint self() const override { return self_; }
  // NotFound for an endpoint not in the address map, InvalidArgument for an
  // empty or oversized frame, ResourceExhausted when the peer's queue is full.
  absl::Status Send(const Endpoint& to, std::string frame) override;
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }

  const Stats& stats() const { return stats_; }

 private:
  ZmqTransport(zmq::context_t& context, EventLoop& loop, Endpoint self,
               absl::btree_map<Endpoint, std::string> addresses, ZmqTransportOptions options,
               zmq::socket_t router);
  static absl::Status ValidateOptions(const Endpoint& self,
                                      const absl::btree_map<Endpoint, std::string>& addresses,
                                      const ZmqTransportOptions& options);
  struct Peer {
    zmq::socket_t dealer;
    // When Send() to this peer started being refused; -1 while it is not.
    TimeUs refused_since_us = -1;
  };

  absl::StatusOr<Peer*> PeerFor(const Endpoint& to);
  void OnReadable();
  // Reads and delivers (or drops) one frame; false when none was waiting.
  bool ReceiveOne();
  void Drop(std::string_view why);

  zmq::context_t& context_;
  EventLoop& loop_;
  const Endpoint self_;
  const absl::btree_map<Endpoint, std::string> addresses_;
  const ZmqTransportOptions options_;
  zmq::socket_t router_;
  absl::btree_map<Endpoint, Peer> peers_;
  EventLoop::WatchId watch_id_ = 0;
  Receiver receiver_;
  Stats stats_;
};

// "tcp://" + address unless it already has a scheme.
std::string ZmqAddress(std::string_view address);

}  // namespace narwhal

#endif  // NARWHAL_TRANSPORT_ZMQ_ZMQ_TRANSPORT_H_
