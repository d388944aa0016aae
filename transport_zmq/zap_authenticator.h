// The ZAP handler (ZeroMQ RFC 27) that decides which CurveZMQ clients may
// connect to this process's ROUTER sockets: only committee members' keys.
// It also names each accepted connection's authority: the ZAP reply's user
// id is the authority index in decimal, and libzmq attaches it to every
// message from that connection as the "User-Id" property, which
// ZmqTransport compares with the sender header's claimed authority.
//
// One per zmq::context_t (libzmq looks the handler up at the fixed address
// inproc://zeromq.zap.01 inside the context), shared by every transport on
// that context, served on the event loop. Create it before any CURVE
// transport on the context and destroy it after them. libzmq closes sockets
// asynchronously, so the address may not be free again right after one is
// destroyed: keep one for the context's lifetime.
//
// Example:
//   auto zap = ZapAuthenticator::Create(context, loop, {{0, key0}, {1, key1}});
//   options.curve->authenticator = zap->get();
#ifndef NARWHAL_TRANSPORT_ZMQ_ZAP_AUTHENTICATOR_H_
#define NARWHAL_TRANSPORT_ZMQ_ZAP_AUTHENTICATOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "core/types.h"
#include "transport_zmq/event_loop.h"

namespace narwhal {

class ZapAuthenticator {
 public:
  // The ZAP domain ZmqTransport's ROUTER sockets declare; requests for other
  // domains are refused.
  static constexpr char kDomain[] = "narwhal";

  // `member_public_keys`: authority -> raw 32-byte curve public key. Fails on
  // a key of the wrong length, a key shared by two authorities (the key must
  // name one authority), or if the ZAP address is already bound on `context`.
  static absl::StatusOr<std::unique_ptr<ZapAuthenticator>> Create(
      zmq::context_t& context, EventLoop& loop,
      absl::btree_map<AuthorityIndex, std::string> member_public_keys);
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  // Handshakes decided so far; for metrics and tests.
  uint64_t accepted() const { return accepted_; }
  uint64_t refused() const { return refused_; }

 private:
  ZapAuthenticator(EventLoop& loop, zmq::socket_t socket,
                   absl::btree_map<std::string, AuthorityIndex> authority_by_key);
  void OnReadable();
  // Reads one request and answers it. False when nothing was waiting.
  bool ServeOne();

  EventLoop& loop_;
  zmq::socket_t socket_;
  const absl::btree_map<std::string, AuthorityIndex> authority_by_key_;
  EventLoop::WatchId watch_id_ = 0;
  uint64_t accepted_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_TRANSPORT_ZMQ_ZAP_AUTHENTICATOR_H_
