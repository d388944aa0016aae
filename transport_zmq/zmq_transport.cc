#include "transport_zmq/zmq_transport.h"

#include <zmq.h>

#include <array>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "transport_zmq/sender_header.h"
#include "transport_zmq/zmq_status.h"

namespace narwhal {
namespace {

// Drops are logged in full up to this count, then one in a thousand: a
// Byzantine or broken peer must not be able to flood the log.
constexpr uint64_t kDropsLoggedInFull = 100;

std::string_view View(const zmq::message_t& part) {
  return std::string_view(static_cast<const char*>(part.data()), part.size());
}

// Frees the payload of a zero-copy message once ZeroMQ has sent it (or the
// message is discarded because the send was refused).
void DeleteString(void* /*data*/, void* hint) { delete static_cast<std::string*>(hint); }

}  // namespace

std::string ZmqAddress(std::string_view address) {
  if (address.find("://") != std::string_view::npos) return std::string(address);
  return "tcp://" + std::string(address);
}

absl::Status ZmqTransport::ValidateOptions(const Endpoint& self,
                                           const absl::btree_map<Endpoint, std::string>& addresses,
                                           const ZmqTransportOptions& options) {
  if (!addresses.contains(self)) {
    return absl::InvalidArgumentError(
        absl::StrCat("address map has no address for self ", self.ToString()));
  }
  if (options.send_hwm_frames <= 0 || options.receive_hwm_frames <= 0) {
    // Zero means "no limit" to ZeroMQ, which is exactly what must not happen.
    return absl::InvalidArgumentError("send_hwm_frames and receive_hwm_frames must be > 0");
  }
  if (options.max_frame_bytes <= 0 || options.receive_batch_max <= 0) {
    return absl::InvalidArgumentError("max_frame_bytes and receive_batch_max must be > 0");
  }
  if (!options.curve.has_value()) return absl::OkStatus();
  const ZmqCurveOptions& curve = *options.curve;
  if (curve.authenticator == nullptr) {
    return absl::InvalidArgumentError(
        "curve options need the context's ZapAuthenticator; without it any key is accepted");
  }
  if (curve.self.public_key.size() != kCurveKeyBytes ||
      curve.self.secret_key.size() != kCurveKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("own curve keys must be ", kCurveKeyBytes, " raw bytes each"));
  }
  for (const auto& [authority, key] : curve.member_public_keys) {
    if (key.size() != kCurveKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat("curve public key of authority ", authority,
                                                     " must be ", kCurveKeyBytes, " bytes"));
    }
  }
  auto own = curve.member_public_keys.find(self.authority);
  if (own == curve.member_public_keys.end() || own->second != curve.self.public_key) {
    return absl::InvalidArgumentError(
        absl::StrCat("own curve public key is not the one the committee lists for authority ",
                     self.authority));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ZmqTransport>> ZmqTransport::Create(
    zmq::context_t& context, EventLoop& loop, Endpoint self,
    absl::btree_map<Endpoint, std::string> addresses, ZmqTransportOptions options) {
  if (absl::Status valid = ValidateOptions(self, addresses, options); !valid.ok()) return valid;
  const std::string bind_address = ZmqAddress(addresses.at(self));
  try {
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, options.linger_ms);
    router.set(zmq::sockopt::rcvhwm, options.receive_hwm_frames);
    router.set(zmq::sockopt::maxmsgsize, options.max_frame_bytes);
    if (options.heartbeat_interval_ms > 0) {
      router.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_interval_ms);
      router.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_timeout_ms);
    }
    if (options.curve.has_value()) {
      router.set(zmq::sockopt::curve_server, 1);
      router.set(zmq::sockopt::curve_secretkey, options.curve->self.secret_key);
      router.set(zmq::sockopt::zap_domain, ZapAuthenticator::kDomain);
    }
    router.bind(bind_address);
    return std::unique_ptr<ZmqTransport>(new ZmqTransport(
        context, loop, self, std::move(addresses), std::move(options), std::move(router)));
  } catch (const zmq::error_t& e) {
    return ZmqErrnoToStatus(e.num(),
                            absl::StrCat("bind ", self.ToString(), " at ", bind_address));
  }
}

ZmqTransport::ZmqTransport(zmq::context_t& context, EventLoop& loop, Endpoint self,
                           absl::btree_map<Endpoint, std::string> addresses,
                           ZmqTransportOptions options, zmq::socket_t router)
    : context_(context),
      loop_(loop),
      self_(self),
      addresses_(std::move(addresses)),
      options_(std::move(options)),
      router_(std::move(router)) {
  watch_id_ = loop_.Watch(router_, [this] { OnReadable(); });
}

ZmqTransport::~ZmqTransport() { loop_.Unwatch(watch_id_); }

absl::StatusOr<ZmqTransport::Peer*> ZmqTransport::PeerFor(const Endpoint& to) {
  if (auto it = peers_.find(to); it != peers_.end()) return &it->second;
  auto address = addresses_.find(to);
  if (address == addresses_.end()) {
    return absl::NotFoundError(absl::StrCat("no address for endpoint ", to.ToString()));
  }
  const std::string peer_address = ZmqAddress(address->second);
  try {
    zmq::socket_t dealer(context_, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, options_.linger_ms);
    dealer.set(zmq::sockopt::sndhwm, options_.send_hwm_frames);
    // Nothing is ever sent back on this connection.
    dealer.set(zmq::sockopt::rcvhwm, 1);
    dealer.set(zmq::sockopt::immediate, options_.immediate ? 1 : 0);
    dealer.set(zmq::sockopt::reconnect_ivl, options_.reconnect_interval_ms);
    dealer.set(zmq::sockopt::reconnect_ivl_max, options_.reconnect_interval_max_ms);
    if (options_.heartbeat_interval_ms > 0) {
      dealer.set(zmq::sockopt::heartbeat_ivl, options_.heartbeat_interval_ms);
      dealer.set(zmq::sockopt::heartbeat_timeout, options_.heartbeat_timeout_ms);
    }
    if (options_.curve.has_value()) {
      const ZmqCurveOptions& curve = *options_.curve;
      auto server_key = curve.member_public_keys.find(to.authority);
      if (server_key == curve.member_public_keys.end()) {
        return absl::FailedPreconditionError(
            absl::StrCat("no curve public key for authority ", to.authority));
      }
      dealer.set(zmq::sockopt::curve_serverkey, server_key->second);
      dealer.set(zmq::sockopt::curve_publickey, curve.self.public_key);
      dealer.set(zmq::sockopt::curve_secretkey, curve.self.secret_key);
    }
    dealer.connect(peer_address);
    auto [it, inserted] = peers_.emplace(to, Peer{std::move(dealer)});
    return &it->second;
  } catch (const zmq::error_t& e) {
    return ZmqErrnoToStatus(e.num(), absl::StrCat("connect to ", to.ToString(), " at ",
                                                  peer_address));
  }
}

absl::Status ZmqTransport::Send(const Endpoint& to, std::string frame) {
  if (frame.empty()) {
    // The receiver drops empty payloads; refusing here says so at the source.
    return absl::InvalidArgumentError("empty frame");
  }
  if (static_cast<int64_t>(frame.size()) > options_.max_frame_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("frame of ", frame.size(),
                                                   " bytes exceeds max_frame_bytes ",
                                                   options_.max_frame_bytes));
  }
  absl::StatusOr<Peer*> peer = PeerFor(to);
  if (!peer.ok()) return peer.status();
  const TimeUs now_us = loop_.NowUs();
  if ((*peer)->refused_since_us >= 0 &&
      now_us - (*peer)->refused_since_us >= options_.refused_reset_ms * kMillisecondUs) {
    LOG(WARNING) << self_.ToString() << ": sends to " << to.ToString() << " refused for "
                 << (now_us - (*peer)->refused_since_us) / kMillisecondUs
                 << " ms (peer down, not reading, or it refused our handshake); reconnecting";
    peers_.erase(to);
    peer = PeerFor(to);
    if (!peer.ok()) return peer.status();
  }
  zmq::socket_t& dealer = (*peer)->dealer;
  try {
    const std::array<char, kSenderHeaderBytes> header_bytes = EncodeSenderHeader(self_);
    zmq::message_t header(header_bytes.data(), header_bytes.size());
    // Zero copy: batches run to megabytes.
    auto* owned = new std::string(std::move(frame));
    zmq::message_t payload(owned->data(), owned->size(), DeleteString, owned);
    if (!dealer.send(header, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      ++stats_.sends_refused;
      if ((*peer)->refused_since_us < 0) (*peer)->refused_since_us = now_us;
      return absl::ResourceExhaustedError(
          absl::StrCat("send queue to ", to.ToString(), " is full (", options_.send_hwm_frames,
                       " frames) or the peer is unreachable"));
    }
    (*peer)->refused_since_us = -1;
    // libzmq checks the high-water mark at a message's first part only, so
    // once the header is in, the payload cannot be refused. If it ever were,
    // the socket would hold half a message; start over with a fresh one.
    if (!dealer.send(payload, zmq::send_flags::dontwait)) {
      LOG(ERROR) << "payload to " << to.ToString() << " refused after its header; "
                 << "recreating the connection";
      peers_.erase(to);
      ++stats_.sends_refused;
      return absl::InternalError("payload refused after header");
    }
    ++stats_.frames_sent;
    return absl::OkStatus();
  } catch (const zmq::error_t& e) {
    peers_.erase(to);
    return ZmqErrnoToStatus(e.num(), absl::StrCat("send to ", to.ToString()));
  }
}

void ZmqTransport::OnReadable() {
  for (int i = 0; i < options_.receive_batch_max; ++i) {
    if (!ReceiveOne()) return;
  }
}

bool ZmqTransport::ReceiveOne() {
  try {
    zmq::message_t identity;
    if (!router_.recv(identity, zmq::recv_flags::dontwait)) return false;
    zmq::message_t header;
    zmq::message_t payload;
    size_t parts = 1;
    bool more = identity.more();
    // Parts of one message arrive together, so these reads never wait. Extra
    // parts are read and discarded to leave the socket at a message boundary.
    while (more) {
      zmq::message_t part;
      if (!router_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
      ++parts;
      if (parts == 2) header = std::move(part);
      if (parts == 3) payload = std::move(part);
    }
    if (parts != 3) {
      Drop(absl::StrCat("expected 3 message parts (identity, sender header, payload), got ",
                        parts));
      return true;
    }
    const std::optional<Endpoint> sender = DecodeSenderHeader(View(header));
    if (!sender.has_value()) {
      Drop(absl::StrCat("malformed sender header of ", header.size(), " bytes"));
      return true;
    }
    if (!addresses_.contains(*sender)) {
      Drop(absl::StrCat("sender ", sender->ToString(), " is not in the address map"));
      return true;
    }
    if (payload.size() == 0) {
      Drop(absl::StrCat("empty payload from ", sender->ToString()));
      return true;
    }
    if (options_.curve.has_value()) {
      // Set by the ZapAuthenticator from the connection's curve key.
      const char* user_id = zmq_msg_gets(payload.handle(), "User-Id");
      if (user_id == nullptr || absl::StrCat(sender->authority) != user_id) {
        Drop(absl::StrCat("sender ", sender->ToString(), " claimed by the key of authority ",
                          user_id == nullptr ? "<none>" : user_id));
        return true;
      }
    }
    if (!receiver_) {
      Drop(absl::StrCat("no receiver set for a frame from ", sender->ToString()));
      return true;
    }
    ++stats_.frames_received;
    receiver_(*sender, View(payload));
    return true;
  } catch (const zmq::error_t& e) {
    LOG(ERROR) << self_.ToString() << ": receive failed: " << e.what();
    return false;
  }
}

void ZmqTransport::Drop(std::string_view why) {
  ++stats_.frames_dropped;
  if (stats_.frames_dropped <= kDropsLoggedInFull || stats_.frames_dropped % 1000 == 0) {
    LOG(WARNING) << self_.ToString() << ": dropped inbound frame: " << why << " ("
                 << stats_.frames_dropped << " dropped so far)";
  }
}

}  // namespace narwhal
