#include "core/net/messenger.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "core/wire_format.h"
#include "glog/logging.h"

namespace narwhal {

RequestHandle& RequestHandle::operator=(RequestHandle&& other) noexcept {
  if (this != &other) {
    Cancel();
    messenger_ = std::move(other.messenger_);
    peer_ = other.peer_;
    request_id_ = other.request_id_;
    other.messenger_.reset();
  }
  return *this;
}

void RequestHandle::Cancel() {
  if (auto m = messenger_.lock()) (*m)->Cancel(peer_, request_id_);
  messenger_.reset();
}

namespace {

// The envelope RequestPrefix writes: Frame.request (length-delimited, the
// rest of the frame) holding request_id first. Returns the bytes it takes
// (the request's other fields follow), or 0 if `head` does not start so.
size_t ReadRequestEnvelope(std::string_view head, size_t frame_size, uint64_t* id) {
  size_t at = 0;
  uint64_t request_size = 0;
  if (head.empty() || head[0] != 0x0a) return 0;
  ++at;
  if (!ReadVarint(head, &at, &request_size) || request_size != frame_size - at) return 0;
  if (at >= head.size() || head[at] != 0x08) return 0;
  ++at;
  if (!ReadVarint(head, &at, id)) return 0;
  return at;
}

// Frame{request: Request{request_id: id, <body>}} in protobuf wire format:
// field 1 of Frame (length-delimited) holding field 1 of Request (varint),
// then the other fields of the Request (the body, already serialized). This
// is what precedes the body: at most 1 + 10 + 1 + 10 bytes.
std::string RequestPrefix(uint64_t id, size_t body_size) {
  const size_t request_size = 1 + VarintSize(id) + body_size;
  std::string prefix;
  prefix.push_back(0x0a);  // Frame.request, length-delimited
  AppendVarint(prefix, request_size);
  prefix.push_back(0x08);  // Request.request_id, varint
  AppendVarint(prefix, id);
  return prefix;
}

}  // namespace

PreparedRequest::PreparedRequest(const wire::Request& request) {
  if (request.request_id() == 0) {
    body_ = std::make_shared<const std::string>(request.SerializeAsString());
  } else {
    wire::Request copy = request;
    copy.clear_request_id();
    body_ = std::make_shared<const std::string>(copy.SerializeAsString());
  }
}

Messenger::Messenger(const Env& env, MessengerOptions options)
    : env_(env),
      options_(options),
      // A fresh random start: after a restart, late responses to the previous
      // incarnation's requests cannot match new ones.
      next_request_id_(env.random->NextU64() >> 1),
      self_ref_(std::make_shared<Messenger*>(this)) {
  env_.transport->SetReceiver(
      [this](const Endpoint& from, std::string_view frame) { OnFrame(from, frame); });
  env_.transport->SetPartsReceiver(
      [this](const Endpoint& from, std::string_view prefix, std::string_view body) {
        OnFrameParts(from, prefix, body);
      });
}

Messenger::~Messenger() {
  for (auto& [key, p] : pending_) env_.timers->Cancel(p.timer);
  env_.timers->Cancel(due_timer_);
  // The transport may outlive us; stop deliveries to a dead object.
  env_.transport->SetReceiver([](const Endpoint&, std::string_view) {});
  env_.transport->SetPartsReceiver(nullptr);
}

size_t Messenger::PendingTo(const Endpoint& peer) const {
  auto it = pending_per_peer_.find(peer);
  return it == pending_per_peer_.end() ? 0 : it->second;
}

absl::StatusOr<RequestHandle> Messenger::SendReliable(const Endpoint& to,
                                                      const PreparedRequest& request,
                                                      ResponseCallback on_response) {
  size_t& count = pending_per_peer_[to];
  if (count >= options_.max_pending_per_peer) {
    ++stats_.refused_queue_full;
    ++stats_.peers[to].refused_queue_full;
    return absl::ResourceExhaustedError(absl::StrCat(
        "reliable queue to ", to.ToString(), " is full (", count, " unanswered requests)"));
  }
  const uint64_t id = next_request_id_++;
  Pending p{to, request.body_, std::move(on_response), Backoff(options_.retry),
            env_.clock->NowUs(), 0, true};
  // A transport refusal (e.g. a full ZeroMQ queue) is treated like a lost
  // frame: the retry timer sends it again.
  absl::Status sent = env_.transport->SendParts(to, RequestPrefix(id, p.body->size()), p.body);
  if (!sent.ok()) WarnSendFailed(to, "send", sent);
  ++stats_.requests_sent;
  Sent(to);
  ++count;
  p.peer_count = &count;
  const Key key{to, id};
  // Request ids are never reused: a late response cannot complete another request.
  CHECK(pending_.emplace(key, std::move(p)).second) << "request id " << id << " reused";
  ArmRetry(key);
  return RequestHandle(self_ref_, to, id);
}

absl::Status Messenger::SendUnreliable(const Endpoint& to, const PreparedRequest& request,
                                       ResponseCallback on_response, TimeUs timeout_us) {
  const uint64_t id = next_request_id_++;
  absl::Status sent =
      env_.transport->SendParts(to, RequestPrefix(id, request.body_->size()), request.body_);
  if (!sent.ok()) return sent;
  ++stats_.requests_sent;
  if (!on_response) return absl::OkStatus();
  Sent(to);
  const Key key{to, id};
  Pending p{to, nullptr, std::move(on_response), Backoff(options_.retry),
            env_.clock->NowUs(), 0, false};
  p.timer = env_.timers->Schedule(timeout_us, [this, key] {
    Finish(key, absl::DeadlineExceededError("no response before the timeout"));
  });
  p.peer_count = &pending_per_peer_[to];
  ++*p.peer_count;
  CHECK(pending_.emplace(key, std::move(p)).second) << "request id " << id << " reused";
  return absl::OkStatus();
}

void Messenger::ArmRetry(const Key& key) {
  Pending& p = pending_.at(key);
  CHECK(p.reliable) << "only reliable requests are retried";
  const TimeUs wait = p.backoff.Next(*env_.random);
  CHECK_GE(wait, 0);
  const TimeUs now = env_.clock->NowUs();
  p.due_us = now + wait;
  p.give_up = false;
  if (options_.retry.max_elapsed_us.has_value()) {
    const TimeUs deadline = p.first_sent_us + *options_.retry.max_elapsed_us;
    if (now + wait > deadline) {
      p.due_us = std::max(now, deadline);
      p.give_up = true;
    }
  }
  due_.push_back(Due{p.due_us, key.first, key.second});
  std::push_heap(due_.begin(), due_.end(), std::greater<Due>());
  ArmDueTimer(p.due_us);
}

void Messenger::ArmDueTimer(TimeUs at_us) {
  if (due_timer_ != 0 && due_timer_at_us_ <= at_us) return;
  env_.timers->Cancel(due_timer_);
  due_timer_at_us_ = at_us;
  due_timer_ = env_.timers->Schedule(std::max<TimeUs>(0, at_us - env_.clock->NowUs()),
                                     [this] { OnDueTimer(); });
}

void Messenger::OnDueTimer() {
  due_timer_ = 0;
  const TimeUs now = env_.clock->NowUs();
  // Fresh from the top each time: a retry or a callback may change due_.
  // Entries of answered requests (or re-armed for another time) are dropped
  // as they surface, so the timer is armed for one still waiting.
  while (!due_.empty()) {
    const auto [due_us, peer, id] = due_.front();
    const Key key{peer, id};
    auto it = pending_.find(key);
    const bool waiting = it != pending_.end() && it->second.reliable && it->second.due_us == due_us;
    if (waiting && due_us > now) break;
    std::pop_heap(due_.begin(), due_.end(), std::greater<Due>());
    due_.pop_back();
    if (!waiting) continue;
    if (it->second.give_up) {
      ++stats_.gave_up;
      ++stats_.peers[key.first].gave_up;
      Finish(key, absl::DeadlineExceededError(absl::StrCat(
                      "no response from ", key.first.ToString(), " within max_elapsed (",
                      *options_.retry.max_elapsed_us / 1000, " ms)")));
    } else {
      Retry(key);
    }
  }
  if (!due_.empty()) ArmDueTimer(std::get<0>(due_.front()));
}

void Messenger::Retry(const Key& key) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  ++stats_.retransmissions;
  ++stats_.peers[key.first].retransmissions;
  Sent(key.first);
  const auto& body = it->second.body;
  absl::Status sent = env_.transport->SendParts(key.first, RequestPrefix(key.second, body->size()), body);
  if (!sent.ok()) WarnSendFailed(key.first, "retransmission", sent);
  ArmRetry(key);
}

void Messenger::Cancel(const Endpoint& peer, uint64_t id) {
  auto it = pending_.find({peer, id});
  if (it == pending_.end()) return;
  env_.timers->Cancel(it->second.timer);
  CHECK_GT(*it->second.peer_count, 0u) << "unanswered-request count to " << peer.ToString() << " went negative";
  --*it->second.peer_count;
  pending_.erase(it);
}

void Messenger::Finish(const Key& key, const absl::StatusOr<wire::Response>& result) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  env_.timers->Cancel(it->second.timer);
  ResponseCallback cb = std::move(it->second.callback);
  CHECK_GT(*it->second.peer_count, 0u) << "unanswered-request count to " << key.first.ToString() << " went negative";
  --*it->second.peer_count;
  pending_.erase(it);
  if (cb) cb(key.first, result);
}

void Messenger::WarnSendFailed(const Endpoint& to, const char* what, const absl::Status& status) {
  // One line per peer per 10 s: a peer down for a minute under load made
  // thousands of these lines (seen on real hosts, docs/deploy.md walk).
  const uint64_t key = (static_cast<uint64_t>(to.authority) << 16) | (to.is_primary() ? 0xffff : to.worker_id());
  if (uint64_t held = 0; send_warnings_.Allow(key, env_.clock->NowUs(), &held)) {
    LOG(WARNING) << what << " to " << to.ToString() << " failed, will retry: " << status << " (" << held
                 << " similar failures to it held back)";
  }
}

void Messenger::Sent(const Endpoint& to) {
  PeerStats& peer = stats_.peers[to];
  if (peer.waiting_since_us < 0) peer.waiting_since_us = env_.clock->NowUs();
}

void Messenger::Heard(const Endpoint& from) {
  PeerStats& peer = stats_.peers[from];
  peer.last_heard_us = env_.clock->NowUs();
  peer.waiting_since_us = -1;
}

void Messenger::OnFrameParts(const Endpoint& from, std::string_view prefix,
                             std::string_view body) {
  Heard(from);
  uint64_t id = 0;
  // The prefix must be exactly a request envelope; an empty one is not (0
  // means "no envelope", and the whole frame would be read as a body).
  if (prefix.size() + body.size() <= options_.max_frame_bytes && !prefix.empty() &&
      ReadRequestEnvelope(prefix, prefix.size() + body.size(), &id) == prefix.size()) {
    return OnRequestBody(from, id, body);
  }
  std::string joined(prefix);
  joined.append(body);
  OnFrame(from, joined);
}

void Messenger::OnRequestBody(const Endpoint& from, uint64_t id, std::string_view body) {
  // The raw path: the body is exactly one registered bytes field.
  size_t at = 0;
  uint64_t tag = 0, size = 0;
  if (!raw_handlers_.empty() && ReadVarint(body, &at, &tag) && (tag & 7) == 2) {
    auto raw = raw_handlers_.find(static_cast<int>(tag >> 3));
    if (raw != raw_handlers_.end() && ReadVarint(body, &at, &size) && size == body.size() - at) {
      ++stats_.requests_received;
      return raw->second(from, body.substr(at), MakeResponder(from, id));
    }
  }
  wire::Request request;
  if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    ++stats_.malformed_frames;
    LOG(WARNING) << "dropped a malformed request from " << from.ToString() << " ("
                 << body.size() << " bytes): not a Request message";
    return;
  }
  request.set_request_id(id);
  OnRequest(from, request);
}

void Messenger::OnFrame(const Endpoint& from, std::string_view frame) {
  Heard(from);
  if (frame.size() > options_.max_frame_bytes) {
    ++stats_.malformed_frames;
    LOG(WARNING) << "dropped a " << frame.size() << "-byte frame from " << from.ToString()
                 << ": over max_frame_bytes";
    return;
  }
  uint64_t id = 0;
  if (const size_t envelope = ReadRequestEnvelope(frame, frame.size(), &id); envelope > 0) {
    return OnRequestBody(from, id, frame.substr(envelope));
  }
  wire::Frame parsed;
  if (!parsed.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    ++stats_.malformed_frames;
    LOG(WARNING) << "dropped a malformed frame from " << from.ToString() << " ("
                 << frame.size() << " bytes): not a Frame message";
    return;
  }
  switch (parsed.kind_case()) {
    case wire::Frame::kResponse:
      OnResponse(from, parsed.response());
      break;
    case wire::Frame::kRequest:
      OnRequest(from, parsed.request());
      break;
    default:
      ++stats_.malformed_frames;
      LOG(WARNING) << "dropped an empty frame from " << from.ToString();
  }
}

void Messenger::OnResponse(const Endpoint& from, const wire::Response& response) {
  const Key key{from, response.request_id()};
  if (!pending_.contains(key)) {
    ++stats_.responses_ignored;  // late (after quorum or cancel), duplicate or unknown
    return;
  }
  ++stats_.responses_matched;
  Finish(key, response);
}

void Messenger::OnRequest(const Endpoint& from, const wire::Request& request) {
  ++stats_.requests_received;
  if (!handler_) return;
  handler_(from, request, MakeResponder(from, request.request_id()));
}

Messenger::Responder Messenger::MakeResponder(const Endpoint& from, uint64_t id) {
  std::weak_ptr<Messenger*> weak = self_ref_;
  return [weak, from, id](bool success, std::string message, std::vector<std::string> items) {
    auto self = weak.lock();
    if (!self) return;
    wire::Frame frame;
    wire::Response* r = frame.mutable_response();
    r->set_request_id(id);
    r->set_success(success);
    r->set_message(std::move(message));
    for (auto& item : items) r->add_items(std::move(item));
    // A lost response is recovered by the requester's retry.
    (void)(*self)->env_.transport->Send(from, frame.SerializeAsString());
  };
}

}  // namespace narwhal
