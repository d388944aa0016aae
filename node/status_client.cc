#include "node/status_client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/zmq_socket.h"
#include "zmq.h"

namespace narwhal::node {
namespace {

// The request is the same bytes on both sockets (field 15 of IngressRequest
// and of OutputRequest); the replies differ in type.
absl::StatusOr<client::StatusReply> AskOne(void* context, const std::string& address, bool worker,
                                           int timeout_ms) {
  auto socket = ZmqSocket::Create(context, ZMQ_DEALER);
  if (!socket.ok()) return socket.status();
  if (absl::Status s = socket->SetInt(ZMQ_LINGER, 0); !s.ok()) return s;
  if (absl::Status s = socket->Connect(ZmqEndpoint(address)); !s.ok()) return s;
  std::string request;
  if (worker) {
    client::IngressRequest r;
    r.mutable_status();
    request = r.SerializeAsString();
  } else {
    client::OutputRequest r;
    r.mutable_status();
    request = r.SerializeAsString();
  }
  // Blocking send: queued until the connection is up (or dropped at close).
  auto sent = socket->Send({request}, /*dont_wait=*/false);
  if (!sent.ok()) return sent.status();
  // A worker may send Accepted notices of nothing (we submitted nothing) and
  // a primary nothing else: the first reply of the right kind is the one.
  for (;;) {
    auto got = socket->Receive(timeout_ms);
    if (!got.ok()) return got.status();
    if (!got->has_value()) {
      return absl::DeadlineExceededError(absl::StrCat("no answer within ", timeout_ms, " ms (not running, or not reachable)"));
    }
    const std::vector<std::string>& parts = **got;
    if (parts.size() != 1) return absl::DataLossError("unexpected multi-part reply");
    if (worker) {
      client::IngressMessage m;
      if (!m.ParseFromString(parts[0])) return absl::DataLossError("unreadable reply");
      if (m.has_status()) return m.status();
      if (m.has_error()) return absl::FailedPreconditionError(m.error());
    } else {
      client::OutputMessage m;
      if (!m.ParseFromString(parts[0])) return absl::DataLossError("unreadable reply");
      if (m.has_status()) return m.status();
      if (m.has_error()) return absl::FailedPreconditionError(m.error());
    }
  }
}

}  // namespace

std::vector<RoleStatus> AskStatus(const LoadedConfig& config, AuthorityIndex authority, const RoleSpec& roles,
                                  int timeout_ms) {
  std::vector<RoleStatus> out;
  void* context = zmq_ctx_new();
  const AuthorityEntry& entry = config.committee.authority(authority);
  if (roles.primary) {
    out.push_back({"primary", entry.output_address, AskOne(context, entry.output_address, false, timeout_ms)});
  }
  for (WorkerId w : roles.workers) {
    const std::string address = entry.workers[w].transactions_address();
    out.push_back({absl::StrCat("worker:", w), address, AskOne(context, address, true, timeout_ms)});
  }
  zmq_ctx_term(context);
  return out;
}

std::string FormatStatus(AuthorityIndex authority, const std::vector<RoleStatus>& statuses) {
  std::string text;
  for (const RoleStatus& s : statuses) {
    absl::StrAppend(&text, "authority ", authority, " ", s.role, " (", s.address, "): ");
    if (!s.reply.ok()) {
      absl::StrAppend(&text, "no answer: ", s.reply.status().message(), "\n");
      continue;
    }
    const client::StatusReply& r = *s.reply;
    absl::StrAppend(&text, r.healthy() ? "healthy" : "degraded: ", absl::StrJoin(r.problems(), "; "));
    if (r.role() == "primary") {
      absl::StrAppend(&text, " [round ", r.round(), ", others at ", r.highest_peer_round(), ", last committed round ",
                      r.last_committed_round(), ", own committed in round ", r.last_own_committed_round(),
                      ", output index ", r.next_output_index());
    } else {
      absl::StrAppend(&text, " [pending ", r.pending_bytes(), " of ", r.max_pending_bytes(), " bytes");
    }
    absl::StrAppend(&text, ", store ", r.store_bytes() >> 20, " MiB, disk free ", r.disk_free_bytes() >> 30,
                    " GiB]\n");
  }
  return text;
}

bool AllHealthy(const std::vector<RoleStatus>& statuses) {
  for (const RoleStatus& s : statuses) {
    if (!s.reply.ok() || !s.reply->healthy()) return false;
  }
  return !statuses.empty();
}

}  // namespace narwhal::node
