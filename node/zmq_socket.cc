#include "node/zmq_socket.h"

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace narwhal::node {
namespace {
absl::Status ZmqError(absl::string_view op, int err) {
  std::string msg = absl::StrCat(op, ": ", zmq_strerror(err));
  switch (err) {
    case EADDRINUSE:
      return absl::UnavailableError(msg);
    case EHOSTUNREACH:
      return absl::NotFoundError(msg);
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENOCOMPATPROTO:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}
}  // namespace

ZmqSocket& ZmqSocket::operator=(ZmqSocket&& other) noexcept {
  if (this != &other) {
    Close();
    socket_ = other.socket_;
    other.socket_ = nullptr;
  }
  return *this;
}

absl::StatusOr<ZmqSocket> ZmqSocket::Create(void* context, int type) {
  void* s = zmq_socket(context, type);
  if (s == nullptr) return ZmqError("zmq_socket", zmq_errno());
  ZmqSocket socket(s);
  if (absl::Status st = socket.SetInt(ZMQ_LINGER, 0); !st.ok()) return st;
  return socket;
}

absl::Status ZmqSocket::SetInt(int option, int value) {
  if (zmq_setsockopt(socket_, option, &value, sizeof(value)) != 0) {
    return ZmqError(absl::StrCat("zmq_setsockopt(", option, ")"), zmq_errno());
  }
  return absl::OkStatus();
}

absl::Status ZmqSocket::SetInt64(int option, int64_t value) {
  if (zmq_setsockopt(socket_, option, &value, sizeof(value)) != 0) {
    return ZmqError(absl::StrCat("zmq_setsockopt(", option, ")"), zmq_errno());
  }
  return absl::OkStatus();
}

absl::Status ZmqSocket::Bind(const std::string& address) {
  const std::string endpoint = ZmqEndpoint(address);
  if (zmq_bind(socket_, endpoint.c_str()) != 0) {
    return ZmqError(absl::StrCat("bind ", endpoint), zmq_errno());
  }
  return absl::OkStatus();
}

absl::Status ZmqSocket::Connect(const std::string& address) {
  const std::string endpoint = ZmqEndpoint(address);
  if (zmq_connect(socket_, endpoint.c_str()) != 0) {
    return ZmqError(absl::StrCat("connect ", endpoint), zmq_errno());
  }
  return absl::OkStatus();
}

void ZmqSocket::Close() {
  if (socket_ != nullptr) {
    zmq_close(socket_);
    socket_ = nullptr;
  }
}

absl::StatusOr<bool> ZmqSocket::Send(const std::vector<std::string_view>& parts, bool dont_wait) {
  for (size_t i = 0; i < parts.size(); ++i) {
    int flags = (i + 1 < parts.size() ? ZMQ_SNDMORE : 0) | (dont_wait ? ZMQ_DONTWAIT : 0);
    while (zmq_send(socket_, parts[i].data(), parts[i].size(), flags) < 0) {
      int err = zmq_errno();
      if (err == EINTR) continue;
      // libzmq sends a multipart message atomically: if the first part
      // goes, the rest does too, so EAGAIN can only come on the first.
      if (err == EAGAIN && i == 0) return false;
      return ZmqError("zmq_send", err);
    }
  }
  return true;
}

absl::StatusOr<std::optional<std::vector<std::string>>> ZmqSocket::Receive(int timeout_ms) {
  if (timeout_ms > 0) {
    zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, timeout_ms);
    if (rc < 0) {
      if (zmq_errno() == EINTR) return std::nullopt;
      return ZmqError("zmq_poll", zmq_errno());
    }
    if (rc == 0) return std::nullopt;
  }
  std::vector<std::string> parts;
  while (true) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int rc = zmq_msg_recv(&msg, socket_, parts.empty() ? ZMQ_DONTWAIT : 0);
    if (rc < 0) {
      int err = zmq_errno();
      zmq_msg_close(&msg);
      if (parts.empty() && (err == EAGAIN || err == EINTR)) return std::nullopt;
      if (err == EINTR) continue;
      return ZmqError("zmq_msg_recv", err);
    }
    parts.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    const bool more = zmq_msg_more(&msg);
    zmq_msg_close(&msg);
    if (!more) break;
  }
  return parts;
}

absl::StatusOr<bool> ZmqSocket::ReceiveParts(std::vector<ZmqMessage>* parts) {
  parts->clear();
  while (true) {
    ZmqMessage part;
    if (zmq_msg_recv(part.handle(), socket_, parts->empty() ? ZMQ_DONTWAIT : 0) < 0) {
      const int err = zmq_errno();
      if (parts->empty() && (err == EAGAIN || err == EINTR)) return false;
      if (err == EINTR) continue;
      return ZmqError("zmq_msg_recv", err);
    }
    const bool more = zmq_msg_more(part.handle());
    parts->push_back(std::move(part));
    if (!more) return true;
  }
}

std::string ZmqEndpoint(std::string_view address) {
  if (absl::StrContains(absl::string_view(address.data(), address.size()), "://")) {
    return std::string(address);
  }
  return absl::StrCat("tcp://", absl::string_view(address.data(), address.size()));
}

}  // namespace narwhal::node
