// Requests on a primary's output socket (node/output_server.cc), sent by a
// real client (a DEALER) to a real OutputServer over ZeroMQ (inproc), with
// a store holding executed rows 1..3 (0 is past retention).
//
// Input: byte 0 = 0xff: the request is the rest repeated past the 1 MiB
// request limit (rare on purpose: each costs a 1 MiB message); otherwise the
// rest is the request (one frame).
//
// docs/client_protocol.md is the reference. After the request the client
// sends a two-frame message (a probe whose error can only be the probe's):
// everything the request caused arrives before that error. Checks:
//  - a request over 1 MiB, bytes that are not an OutputRequest, one with
//    fields this version does not know (top level or in Subscribe), an
//    unknown detail, unsubscribe = false, and one with neither subscribe nor
//    unsubscribe each get exactly one error, and nothing else;
//  - a valid subscribe from index 0 gets the retention error naming index
//    1; from 1..3 exactly the rows from there to 3, in order, each as the
//    stored row says, filtered by its detail (NO_TRANSACTIONS: counts only;
//    PREFIXED_TRANSACTIONS: the transactions starting with the prefix);
//    from 4 on nothing (it waits);
//  - unsubscribe = true gets nothing;
//  - the server never stops answering (every probe is answered in time).
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/batch.h"
#include "core/execution/executor.h"
#include "core/store/memory_store.h"
#include "fuzz/harness.h"
#include "glog/logging.h"
#include "node/client.pb.h"
#include "node/ingress_wire.h"
#include "node/output_server.h"
#include "node/zmq_socket.h"
#include "transport_zmq/event_loop.h"

namespace narwhal::fuzz {
namespace {

using node::OutputServer;
using node::ZmqSocket;

constexpr uint64_t kFirstRow = 1;
constexpr uint64_t kLastRow = 3;

std::string Batch(const std::vector<std::string>& txs) {
  BatchBuilder b;
  for (const std::string& tx : txs) b.Add(tx);
  return b.Seal();
}

// The stored rows, and the server and client around them: made once.
struct World {
  World() {
    const std::vector<std::vector<std::string>> batches = {
        {"Sfirst", "Tsecond", "", "S"}, {"plain"}, {}, {"Sx", "Sy"}};
    for (uint64_t index = kFirstRow; index <= kLastRow; ++index) {
      std::vector<ExecutedCertificateView> certs;
      for (uint64_t c = 0; c < index; ++c) {
        ExecutedCertificateView v{BatchDigest(absl::StrCat("cert", index, c)), static_cast<AuthorityIndex>(c),
                                  2 * index, {}};
        const auto bytes = std::make_shared<const std::string>(Batch(batches[(index + c) % batches.size()]));
        v.batches.push_back({BatchRef{BatchDigest(*bytes), static_cast<WorkerId>(c)}, bytes});
        certs.push_back(std::move(v));
      }
      auto row = std::make_shared<const std::string>(
          EncodeExecutedRow(index, BatchDigest(absl::StrCat("leader", index)), 2 * index, certs));
      CHECK(store.AppendExecuted(index, row).ok());
      rows.push_back(*row);
    }
    context = zmq_ctx_new();
    loop = *EventLoop::Create();
    node::OutputServerOptions o;
    o.address = "inproc://narwhal-fuzz-output";
    auto s = OutputServer::Create(context, *loop, &store, o);
    CHECK(s.ok()) << s.status();
    server = *std::move(s);
    client = std::make_unique<ZmqSocket>(*ZmqSocket::Create(context, ZMQ_DEALER));
    CHECK(client->Connect(o.address).ok());
    // The loop wakes for the client's replies too (else it would sleep
    // until its next timer).
    loop->Watch(zmq::socket_ref(zmq::from_handle, client->handle()), [this] {
      for (;;) {
        auto m = client->Receive(0);
        CHECK(m.ok()) << m.status();
        if (!m->has_value()) return;
        CHECK_EQ((*m)->size(), 1u) << "the server sends one frame per message";
        client::OutputMessage out;
        CHECK(out.ParseFromString((*m)->front())) << "the server sent something that is not an OutputMessage";
        if (!out.has_heartbeat()) inbox.push_back(std::move(out));
      }
    });
  }
  // Never destroyed: the server's loop and the context live as long as the
  // process (libFuzzer never returns from its loop anyway).
  MemoryStore store;
  std::vector<std::string> rows;  // serialized ExecutedSubDag, index kFirstRow..
  void* context = nullptr;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<OutputServer> server;
  std::unique_ptr<ZmqSocket> client;
  std::deque<client::OutputMessage> inbox;  // what the client received, heartbeats left out
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

// Sends `parts` as one message.
void Send(const std::vector<std::string_view>& parts) {
  auto sent = TheWorld().client->Send(parts, /*dont_wait=*/false);
  CHECK(sent.ok() && *sent) << "client send failed";
}

// Runs the server until the probe's error arrives; returns what came before
// it (heartbeats left out).
std::vector<client::OutputMessage> SendProbeAndCollect() {
  World& w = TheWorld();
  Send({"probe", "probe"});
  std::vector<client::OutputMessage> got;
  bool probe_answered = false;
  const bool done = w.loop->RunUntil(
      [&] {
        while (!probe_answered && !w.inbox.empty()) {
          client::OutputMessage out = std::move(w.inbox.front());
          w.inbox.pop_front();
          if (out.has_error() && absl::StrContains(out.error(), "one frame; this message had 2")) {
            probe_answered = true;
          } else {
            got.push_back(std::move(out));
          }
        }
        return probe_answered;
      },
      5 * kSecondUs);
  CHECK(done) << "the output server did not answer the probe within 5 s";
  return got;
}

// What the server should send for row `index` under `request`.
client::SubDag ExpectedSubDag(uint64_t index, const client::Subscribe& request) {
  wire::ExecutedSubDag row;
  CHECK(row.ParseFromString(TheWorld().rows[index - kFirstRow]));
  client::SubDag out;
  out.set_index(row.index());
  out.set_leader(row.leader());
  out.set_leader_round(row.leader_round());
  for (const auto& c : row.certificates()) {
    auto* cert = out.add_certificates();
    cert->set_digest(c.digest());
    cert->set_author(c.author());
    cert->set_round(c.round());
    for (const auto& b : c.batches()) {
      auto* batch = cert->add_batches();
      batch->set_digest(b.digest());
      batch->set_worker_id(b.worker_id());
      auto txs = DecodeBatch(b.batch(), b.batch().size(), b.batch().size());
      CHECK(txs.ok());
      batch->set_transaction_count(static_cast<uint32_t>(txs->size()));
      if (request.detail() == client::NO_TRANSACTIONS) continue;
      for (std::string_view tx : *txs) {
        if (request.detail() == client::PREFIXED_TRANSACTIONS && !tx.starts_with(request.transaction_prefix())) {
          continue;
        }
        batch->add_transactions(std::string(tx));
      }
    }
  }
  return out;
}

// The documented refusals; nullopt if the request is valid.
std::optional<std::string> ExpectedError(std::string_view payload, const client::OutputRequest& r, bool parsed) {
  if (payload.size() > node::limits::kOutputRequestBytesMax) return "at most";
  if (!parsed) return "cannot parse";
  if (!r.GetReflection()->GetUnknownFields(r).empty() ||
      (r.has_subscribe() && !r.subscribe().GetReflection()->GetUnknownFields(r.subscribe()).empty())) {
    return "unknown fields";
  }
  if (r.has_subscribe()) {
    if (!client::TransactionDetail_IsValid(r.subscribe().detail())) return "unknown detail";
    return std::nullopt;  // from_index below retention: an error, but from the pump (see Run)
  }
  if (r.has_unsubscribe()) {
    if (!r.unsubscribe()) return "unsubscribe must be true";
    return std::nullopt;
  }
  // The harness's server has no status provider: a status request gets
  // this error (a node answers it with its health).
  if (r.has_status()) return "does not report its status";
  return "needs subscribe, unsubscribe or status";
}

void Run(std::string_view data) {
  Input in(data);
  const uint8_t mode = in.U8();
  std::string payload(in.Rest());
  if (mode == 0xff && !payload.empty()) {
    while (payload.size() <= node::limits::kOutputRequestBytesMax) payload += payload;
  }
  client::OutputRequest ref;
  const bool parsed = payload.size() <= node::limits::kOutputRequestBytesMax && ref.ParseFromString(payload);
  const std::optional<std::string> error = ExpectedError(payload, ref, parsed);

  Send({payload});
  std::vector<client::OutputMessage> got = SendProbeAndCollect();
  if (error.has_value()) {
    CHECK_EQ(got.size(), 1u) << "expected one error (" << *error << "), got " << got.size() << " messages";
    CHECK(got[0].has_error()) << got[0].ShortDebugString();
    CHECK(absl::StrContains(got[0].error(), *error)) << "error \"" << got[0].error() << "\", expected \"" << *error << "\"";
    return;
  }
  if (ref.has_unsubscribe()) {
    CHECK(got.empty()) << "unsubscribe got an answer: " << got[0].ShortDebugString();
    return;
  }
  // A valid subscription: the rows from from_index to the last, then
  // nothing; below what retention keeps, one error naming the oldest kept.
  // They come from the server's next turn, before or after the probe's error.
  const client::Subscribe& request = ref.subscribe();
  const uint64_t from = request.from_index();
  const size_t want = from < kFirstRow ? 1 : from > kLastRow ? 0 : kLastRow - from + 1;
  World& w = TheWorld();
  const bool all = w.loop->RunUntil(
      [&] {
        while (got.size() < want && !w.inbox.empty()) {
          got.push_back(std::move(w.inbox.front()));
          w.inbox.pop_front();
        }
        return got.size() >= want;
      },
      5 * kSecondUs);
  CHECK(all) << "a subscription from " << from << " got " << got.size() << " of " << want << " rows within 5 s";
  if (from < kFirstRow) {
    CHECK(got[0].has_error() && absl::StrContains(got[0].error(), "no longer kept") &&
          absl::StrContains(got[0].error(), "the oldest available index is 1"))
        << got[0].ShortDebugString();
    std::vector<client::OutputMessage> after = SendProbeAndCollect();
    CHECK(after.empty()) << "after the retention error: " << after[0].ShortDebugString();
    return;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].has_sub_dag()) << "subscription got " << got[i].ShortDebugString();
    const client::SubDag expected = ExpectedSubDag(from + i, request);
    CHECK(got[i].sub_dag().SerializeAsString() == expected.SerializeAsString())
        << "row " << from + i << " served as\n" << got[i].sub_dag().DebugString() << "expected\n" << expected.DebugString();
  }
  // End it; nothing more may come.
  client::OutputRequest unsubscribe;
  unsubscribe.set_unsubscribe(true);
  Send({unsubscribe.SerializeAsString()});
  std::vector<client::OutputMessage> after = SendProbeAndCollect();
  CHECK(after.empty()) << "after the last row and unsubscribe: " << after[0].ShortDebugString();
}

// ---- seeds: requests as clients write them ----

std::string Request(const client::OutputRequest& r) { return std::string(1, '\0') + r.SerializeAsString(); }

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  client::OutputRequest r;
  r.mutable_subscribe()->set_from_index(1);
  out.push_back({"subscribe_1", Request(r)});
  r.mutable_subscribe()->set_from_index(2);
  r.mutable_subscribe()->set_detail(client::NO_TRANSACTIONS);
  out.push_back({"subscribe_2_counts", Request(r)});
  r.mutable_subscribe()->set_from_index(1);
  r.mutable_subscribe()->set_detail(client::PREFIXED_TRANSACTIONS);
  r.mutable_subscribe()->set_transaction_prefix("S");
  out.push_back({"subscribe_prefixed", Request(r)});
  r.mutable_subscribe()->set_from_index(0);
  out.push_back({"subscribe_0_retention", Request(r)});
  r.mutable_subscribe()->set_from_index(9);
  out.push_back({"subscribe_future", Request(r)});
  client::OutputRequest u;
  u.set_unsubscribe(true);
  out.push_back({"unsubscribe", Request(u)});
  u.set_unsubscribe(false);
  out.push_back({"unsubscribe_false", Request(u)});
  client::IngressRequest wrong;
  wrong.mutable_submit()->set_request_id(3);
  wrong.mutable_submit()->add_transactions("tx");
  out.push_back({"submit_to_output", std::string(1, '\0') + wrong.SerializeAsString()});
  out.push_back({"oversized", std::string("\xff") + Request(r)});
  return out;
}

}  // namespace

extern const Harness kOutputRequestHarness = {"output_request", &Run, &Seeds};

}  // namespace narwhal::fuzz
