// How a frame from a peer becomes a request or a response
// (core/net/messenger.cc): the hand-read envelope, the raw path for header
// and certificate bodies, the general protobuf path, and the split delivery
// of frames sent in two parts.
//
// Input: byte 0 = mode (bit 0: deliver in two parts, split at byte 1;
// bit 1: put the rest inside a Response envelope for the one request this
// messenger has pending, so that matching is reached), then the frame.
//
// The reference is protobuf's reading of the whole frame as wire::Frame.
// Checks:
//  - a frame protobuf refuses, or one over max_frame_bytes, or one with
//    neither kind, is dropped and counted; nothing is delivered;
//  - a request is delivered exactly once, to the raw handler of its body
//    field (the exact bytes of that field) or to the request handler (equal
//    to the reference); its request id is the reference's, except that when
//    the frame repeats request_id the envelope's (first) one may win;
//  - the responder answers with a frame that decodes to that id and answer;
//  - a response for the pending request reaches its callback, equal to the
//    reference; any other response is ignored;
//  - a delivered request sent again by a messenger (encode) is received
//    (decode), whole or in parts, as the same request.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net/messenger.h"
#include "core/wire_format.h"
#include "fuzz/fake_env.h"
#include "fuzz/harness.h"
#include "glog/logging.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/message_differencer.h"

namespace narwhal::fuzz {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;
using google::protobuf::util::MessageDifferencer;

constexpr size_t kMaxFrameBytes = 2048;
const Endpoint kSelf = Endpoint::Primary(0);
const Endpoint kPeer = Endpoint::Primary(1);
constexpr int kRawFields[] = {wire::Request::kHeader, wire::Request::kCertificate};

// What one messenger did with what it was given.
struct Outcome {
  std::vector<wire::Request> requests;                // request handler
  std::vector<std::pair<int, std::string>> raws;      // raw handlers (field, bytes)
  std::vector<absl::StatusOr<wire::Response>> responses;  // the pending request's callback
};

std::unique_ptr<Messenger> MakeMessenger(FakeEnv& fe, Outcome* out) {
  MessengerOptions options;
  options.max_frame_bytes = kMaxFrameBytes;
  auto m = std::make_unique<Messenger>(fe.env(), options);
  m->SetRequestHandler([out](const Endpoint&, const wire::Request& r, Messenger::Responder respond) {
    out->requests.push_back(r);
    respond(true, "ok", {"item"});
  });
  for (int field : kRawFields) {
    m->SetRawHandler(field, [out, field](const Endpoint&, std::string_view bytes, Messenger::Responder respond) {
      out->raws.push_back({field, std::string(bytes)});
      respond(true, "ok", {"item"});
    });
  }
  return m;
}

wire::Request WithoutId(wire::Request r) {
  r.clear_request_id();
  return r;
}

// The request_id values written in the frame's (single) Frame.request field.
std::vector<uint64_t> WrittenRequestIds(std::string_view frame) {
  std::vector<uint64_t> ids;
  UnknownFieldSet outer;
  if (!outer.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) return ids;
  for (int i = 0; i < outer.field_count(); ++i) {
    const UnknownField& f = outer.field(i);
    if (f.number() != 1 || f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    UnknownFieldSet inner;
    if (!inner.ParseFromString(f.length_delimited())) continue;
    for (int j = 0; j < inner.field_count(); ++j) {
      if (inner.field(j).number() == 1 && inner.field(j).type() == UnknownField::TYPE_VARINT) {
        ids.push_back(inner.field(j).varint());
      }
    }
  }
  return ids;
}

// The responder's answer to request `id`: the one frame sent, to the peer.
void CheckAnswer(const FakeTransport& t, uint64_t id) {
  CHECK_EQ(t.sent.size(), 1u) << "one answer per request";
  CHECK(t.sent[0].to == kPeer);
  wire::Frame answer;
  CHECK(answer.ParseFromString(t.sent[0].prefix + t.sent[0].body));
  CHECK(answer.has_response());
  CHECK_EQ(answer.response().request_id(), id);
  CHECK(answer.response().success());
  CHECK_EQ(answer.response().message(), "ok");
  CHECK(answer.response().items_size() == 1 && answer.response().items(0) == "item");
}

// Sends `request` from a fresh messenger and gives the frame to another,
// whole and in its two parts: both must receive `request` (with the
// sender's id).
void CheckResend(const wire::Request& request) {
  FakeEnv sender_env(kPeer, 99);
  Outcome ignored;
  auto sender = MakeMessenger(sender_env, &ignored);
  CHECK(sender->SendUnreliable(kSelf, WithoutId(request), nullptr, 0).ok());
  CHECK_EQ(sender_env.transport.sent.size(), 1u);
  const FakeTransport::Sent sent = sender_env.transport.sent[0];
  wire::Frame frame;
  CHECK(frame.ParseFromString(sent.prefix + sent.body));
  const uint64_t id = frame.request().request_id();
  for (bool parts : {false, true}) {
    FakeEnv receiver_env(kSelf, 5);
    Outcome got;
    auto receiver = MakeMessenger(receiver_env, &got);
    if (parts) {
      receiver_env.transport.DeliverParts(kPeer, sent.prefix, sent.body);
    } else {
      receiver_env.transport.Deliver(kPeer, sent.prefix + sent.body);
    }
    const std::string encoded = sent.prefix + sent.body;
    if (encoded.size() > kMaxFrameBytes) {
      CHECK(got.requests.empty() && got.raws.empty());
      continue;
    }
    CHECK_EQ(got.requests.size() + got.raws.size(), 1u) << "a sent request was not received once";
    if (!got.raws.empty()) {
      const auto& [field, bytes] = got.raws[0];
      CHECK_EQ(static_cast<int>(request.body_case()), field);
      CHECK(bytes == (field == wire::Request::kHeader ? request.header() : request.certificate()));
    } else {
      CHECK_EQ(got.requests[0].request_id(), id);
      CHECK(MessageDifferencer::Equals(WithoutId(got.requests[0]), WithoutId(request)))
          << "resent request differs:\n" << got.requests[0].DebugString() << "vs\n" << request.DebugString();
    }
    CheckAnswer(receiver_env.transport, id);
  }
}

void Run(std::string_view data) {
  Input in(data);
  const uint8_t mode = in.U8();
  const uint8_t split = in.U8();
  std::string frame(in.Rest());

  FakeEnv fe(kSelf, 7);
  Outcome got;
  auto m = MakeMessenger(fe, &got);
  // One pending reliable request to the peer, so that a response can match.
  wire::Request pending;
  pending.mutable_cleanup()->set_round(3);
  auto handle = m->SendReliable(kPeer, pending, [&got](const Endpoint& peer, const absl::StatusOr<wire::Response>& r) {
    CHECK(peer == kPeer);
    got.responses.push_back(r);
  });
  CHECK(handle.ok());
  CHECK_EQ(fe.transport.sent.size(), 1u);
  uint64_t pending_id = 0;
  {
    wire::Frame sent;
    CHECK(sent.ParseFromString(fe.transport.sent[0].prefix + fe.transport.sent[0].body));
    CHECK(sent.has_request() && MessageDifferencer::Equals(WithoutId(sent.request()), pending));
    pending_id = sent.request().request_id();
  }
  fe.transport.sent.clear();

  if (mode & 2) {
    std::string inner;
    inner.push_back(0x08);  // Response.request_id
    AppendVarint(inner, pending_id);
    inner += frame;
    frame.clear();
    frame.push_back(0x12);  // Frame.response
    AppendVarint(frame, inner.size());
    frame += inner;
  }

  const MessengerStats before = m->stats();
  if (mode & 1) {
    const size_t at = std::min<size_t>(split, frame.size());
    fe.transport.DeliverParts(kPeer, std::string_view(frame).substr(0, at), std::string_view(frame).substr(at));
  } else {
    fe.transport.Deliver(kPeer, frame);
  }
  const MessengerStats& after = m->stats();

  wire::Frame ref;
  const bool ref_ok = frame.size() <= kMaxFrameBytes && ref.ParseFromString(frame) &&
                      ref.kind_case() != wire::Frame::KIND_NOT_SET;
  if (!ref_ok) {
    CHECK(got.requests.empty() && got.raws.empty() && got.responses.empty())
        << "delivered a frame protobuf refuses (or over max_frame_bytes)";
    CHECK_EQ(after.malformed_frames, before.malformed_frames + 1);
    CHECK(fe.transport.sent.empty());
    return;
  }
  CHECK_EQ(after.malformed_frames, before.malformed_frames) << "dropped a frame protobuf reads";
  if (ref.has_response()) {
    CHECK(got.requests.empty() && got.raws.empty());
    CHECK(fe.transport.sent.empty());
    if (ref.response().request_id() == pending_id) {
      CHECK_EQ(got.responses.size(), 1u);
      CHECK(got.responses[0].ok());
      CHECK(MessageDifferencer::Equals(*got.responses[0], ref.response()));
      CHECK_EQ(after.responses_matched, before.responses_matched + 1);
      CHECK_EQ(m->PendingTo(kPeer), 0u);
    } else {
      CHECK(got.responses.empty());
      CHECK_EQ(after.responses_ignored, before.responses_ignored + 1);
      CHECK_EQ(m->PendingTo(kPeer), 1u);
    }
    return;
  }
  // A request.
  const wire::Request& want = ref.request();
  CHECK(got.responses.empty());
  CHECK_EQ(got.requests.size() + got.raws.size(), 1u) << "a request must be delivered exactly once";
  CHECK_EQ(after.requests_received, before.requests_received + 1);
  uint64_t delivered_id = 0;
  if (!got.raws.empty()) {
    const auto& [field, bytes] = got.raws[0];
    CHECK_EQ(static_cast<int>(want.body_case()), field)
        << "the raw path took a frame protobuf reads as " << want.DebugString();
    CHECK(bytes == (field == wire::Request::kHeader ? want.header() : want.certificate()));
    wire::Frame answer;
    CHECK_EQ(fe.transport.sent.size(), 1u);
    CHECK(answer.ParseFromString(fe.transport.sent[0].body));
    delivered_id = answer.response().request_id();
  } else {
    CHECK(MessageDifferencer::Equals(WithoutId(got.requests[0]), WithoutId(want)))
        << "delivered:\n" << got.requests[0].DebugString() << "protobuf reads:\n" << want.DebugString();
    delivered_id = got.requests[0].request_id();
  }
  if (delivered_id != want.request_id()) {
    const std::vector<uint64_t> written = WrittenRequestIds(frame);
    CHECK(written.size() >= 2 && written.front() == delivered_id)
        << "request id " << delivered_id << " is not the frame's (" << want.request_id() << ")";
  }
  CheckAnswer(fe.transport, delivered_id);
  wire::Request delivered = want;
  delivered.set_request_id(delivered_id);
  CheckResend(delivered);
}

// ---- seeds: frames as messengers write them ----

std::string Mode(uint8_t mode, uint8_t split, const std::string& frame) {
  return std::string{static_cast<char>(mode), static_cast<char>(split)} + frame;
}

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  std::vector<wire::Request> requests(6);
  requests[0].mutable_worker_batch()->set_batch(std::string("\1\0\0\0\2\0\0\0hi", 10));
  requests[1].mutable_our_batch()->set_digest(std::string(32, 'd'));
  requests[1].mutable_our_batch()->set_stored_round(9);
  requests[2].set_header(std::string("\x08\x01\x10\x02", 4));
  requests[3].set_certificate(std::string("\x0a\x02\x08\x01", 4));
  requests[4].mutable_certificates_request()->add_digests(std::string(32, 'c'));
  requests[5].mutable_committed_request()->set_from_index(12);
  const char* names[] = {"worker_batch", "our_batch", "header", "certificate", "certificates_request", "committed_request"};
  for (size_t i = 0; i < requests.size(); ++i) {
    FakeEnv fe(kPeer, 3);
    Outcome ignored;
    auto m = MakeMessenger(fe, &ignored);
    CHECK(m->SendUnreliable(kSelf, requests[i], nullptr, 0).ok());
    const auto& sent = fe.transport.sent[0];
    out.push_back({std::string("request_") + names[i], Mode(0, 0, sent.prefix + sent.body)});
    out.push_back({std::string("request_parts_") + names[i], Mode(1, static_cast<uint8_t>(sent.prefix.size()), sent.prefix + sent.body)});
  }
  wire::Frame response;
  response.mutable_response()->set_request_id(77);
  response.mutable_response()->set_success(true);
  response.mutable_response()->set_message("ACK");
  out.push_back({"response_unknown", Mode(0, 0, response.SerializeAsString())});
  wire::Response fields;
  fields.set_success(true);
  fields.set_message("ACK");
  fields.add_items("batch bytes");
  out.push_back({"response_pending", Mode(2, 0, fields.SerializeAsString())});
  out.push_back({"empty_frame", Mode(0, 0, "")});
  return out;
}

}  // namespace

extern const Harness kMessengerHarness = {"messenger", &Run, &Seeds};

}  // namespace narwhal::fuzz
