#include "transport_zmq/zap_authenticator.h"

#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "transport_zmq/curve_keys.h"
#include "transport_zmq/zmq_status.h"

namespace narwhal {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
constexpr char kZapVersion[] = "1.0";
// A request is version, request id, domain, address, identity, mechanism
// and the mechanism's credentials (one part, the client key, for CURVE).
constexpr size_t kZapRequestParts = 7;
// More parts than any legitimate request has; beyond this they are drained
// without being kept.
constexpr size_t kZapRequestPartsMax = 16;
// Requests answered per wakeup, so a reconnect storm cannot starve the loop.
constexpr int kZapRequestsPerPassMax = 64;
// Refusals are logged in full up to this count, then one in a thousand: a
// refused client keeps reconnecting and must not flood the log.
constexpr uint64_t kRefusalsLoggedInFull = 32;

std::string_view View(const zmq::message_t& part) {
  return std::string_view(static_cast<const char*>(part.data()), part.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZapAuthenticator>> ZapAuthenticator::Create(
    zmq::context_t& context, EventLoop& loop,
    absl::btree_map<AuthorityIndex, std::string> member_public_keys) {
  absl::btree_map<std::string, AuthorityIndex> authority_by_key;
  for (const auto& [authority, key] : member_public_keys) {
    if (key.size() != kCurveKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat("curve public key of authority ", authority,
                                                     " must be ", kCurveKeyBytes, " bytes, got ",
                                                     key.size()));
    }
    auto [it, inserted] = authority_by_key.emplace(key, authority);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("authorities ", it->second, " and ",
                                                     authority, " share one curve public key"));
    }
  }
  try {
    zmq::socket_t socket(context, zmq::socket_type::rep);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind(kZapEndpoint);
    return std::unique_ptr<ZapAuthenticator>(
        new ZapAuthenticator(loop, std::move(socket), std::move(authority_by_key)));
  } catch (const zmq::error_t& e) {
    return ZmqErrnoToStatus(e.num(), absl::StrCat("bind ZAP handler at ", kZapEndpoint));
  }
}

ZapAuthenticator::ZapAuthenticator(EventLoop& loop, zmq::socket_t socket,
                                   absl::btree_map<std::string, AuthorityIndex> authority_by_key)
    : loop_(loop), socket_(std::move(socket)), authority_by_key_(std::move(authority_by_key)) {
  watch_id_ = loop_.Watch(socket_, [this] { OnReadable(); });
}

ZapAuthenticator::~ZapAuthenticator() { loop_.Unwatch(watch_id_); }

void ZapAuthenticator::OnReadable() {
  for (int i = 0; i < kZapRequestsPerPassMax; ++i) {
    if (!ServeOne()) return;
  }
}

bool ZapAuthenticator::ServeOne() {
  try {
    std::vector<zmq::message_t> parts;
    zmq::message_t part;
    if (!socket_.recv(part, zmq::recv_flags::dontwait)) return false;
    bool more = part.more();
    parts.push_back(std::move(part));
    while (more) {
      zmq::message_t next;
      // The rest of a multipart message is already here: parts arrive
      // atomically.
      if (!socket_.recv(next, zmq::recv_flags::dontwait)) break;
      more = next.more();
      if (parts.size() < kZapRequestPartsMax) parts.push_back(std::move(next));
    }

    // A REP socket must answer every request, even one it cannot parse, or
    // it stops receiving.
    std::string request_id = parts.size() > 1 ? std::string(View(parts[1])) : "";
    std::string status_code = "400";
    std::string status_text = "not a committee member";
    std::string user_id;
    std::string client_key;
    if (parts.size() != kZapRequestParts || View(parts[0]) != kZapVersion) {
      status_code = "500";
      status_text = "malformed ZAP request";
    } else if (View(parts[2]) != kDomain) {
      status_text = "unknown ZAP domain";
    } else if (View(parts[5]) != "CURVE") {
      status_text = "only CURVE clients are accepted";
    } else {
      client_key = std::string(View(parts[6]));
      auto it = authority_by_key_.find(client_key);
      if (it != authority_by_key_.end()) {
        status_code = "200";
        status_text = "OK";
        user_id = absl::StrCat(it->second);
      }
    }

    if (status_code == "200") {
      ++accepted_;
      VLOG(1) << "ZAP: accepted authority " << user_id;
    } else {
      ++refused_;
      if (refused_ <= kRefusalsLoggedInFull || refused_ % 1000 == 0) {
        std::string address = parts.size() > 3 ? std::string(View(parts[3])) : "?";
        std::string key_text = "?";
        if (client_key.size() == kCurveKeyBytes) key_text = Z85Encode(client_key).value_or("?");
        LOG(WARNING) << "ZAP: refused connection from " << address << " key " << key_text << ": "
                     << status_text << " (" << refused_ << " refusals so far)";
      }
    }

    socket_.send(zmq::buffer(std::string_view(kZapVersion)), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(status_code), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(status_text), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
    socket_.send(zmq::message_t(), zmq::send_flags::none);  // no metadata
    return true;
  } catch (const zmq::error_t& e) {
    LOG(ERROR) << "ZAP handler: " << e.what();
    return false;
  }
}

}  // namespace narwhal
