// A thin owner of a raw libzmq socket for the node's client-facing sockets
// (ingress, output) and the client library. It uses libzmq's C API so that
// no error becomes a C++ exception (cppzmq throws): every failure is an
// absl::Status naming the operation and zmq_strerror.
#ifndef NARWHAL_NODE_ZMQ_SOCKET_H_
#define NARWHAL_NODE_ZMQ_SOCKET_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace narwhal::node {

// One received message part, owned (zmq_msg_t); its bytes are viewed, not
// copied.
class ZmqMessage {
 public:
  ZmqMessage() { zmq_msg_init(&msg_); }
  ~ZmqMessage() { zmq_msg_close(&msg_); }
  ZmqMessage(ZmqMessage&& other) noexcept {
    zmq_msg_init(&msg_);
    zmq_msg_move(&msg_, &other.msg_);
  }
  ZmqMessage& operator=(ZmqMessage&& other) noexcept {
    if (this != &other) zmq_msg_move(&msg_, &other.msg_);
    return *this;
  }
  ZmqMessage(const ZmqMessage&) = delete;
  ZmqMessage& operator=(const ZmqMessage&) = delete;

  std::string_view view() const {
    return std::string_view(static_cast<const char*>(zmq_msg_data(const_cast<zmq_msg_t*>(&msg_))),
                            zmq_msg_size(const_cast<zmq_msg_t*>(&msg_)));
  }
  zmq_msg_t* handle() { return &msg_; }

 private:
  zmq_msg_t msg_;
};

class ZmqSocket {
 public:
  ZmqSocket() = default;
  ~ZmqSocket() { Close(); }
  ZmqSocket(ZmqSocket&& other) noexcept : socket_(other.socket_) { other.socket_ = nullptr; }
  ZmqSocket& operator=(ZmqSocket&& other) noexcept;
  ZmqSocket(const ZmqSocket&) = delete;
  ZmqSocket& operator=(const ZmqSocket&) = delete;

  static absl::StatusOr<ZmqSocket> Create(void* context, int type);
  absl::Status SetInt(int option, int value);
  absl::Status SetInt64(int option, int64_t value);
  absl::Status Bind(const std::string& address);
  absl::Status Connect(const std::string& address);
  void Close();

  // Sends one message of `parts` parts. Ok(true): queued. Ok(false): would
  // block (a full queue), nothing sent. Error: anything else (for a ROUTER
  // with ZMQ_ROUTER_MANDATORY, EHOSTUNREACH is HostUnreachable -> NotFound).
  absl::StatusOr<bool> Send(const std::vector<std::string_view>& parts, bool dont_wait = true);
  // Receives one whole message if one is waiting (never blocks unless
  // timeout_ms > 0, then waits at most that long).
  absl::StatusOr<std::optional<std::vector<std::string>>> Receive(int timeout_ms = 0);
  // Same without copying the parts: Ok(false) when no message was waiting,
  // Ok(true) with the message's parts in *parts.
  absl::StatusOr<bool> ReceiveParts(std::vector<ZmqMessage>* parts);

  void* handle() const { return socket_; }

 private:
  explicit ZmqSocket(void* socket) : socket_(socket) {}
  void* socket_ = nullptr;
};

// "tcp://" + address unless it already names a transport.
std::string ZmqEndpoint(std::string_view address);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_ZMQ_SOCKET_H_
