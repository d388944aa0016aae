// The worker's copy-free reader of client submissions
// (node/ingress_wire.h: ParseSubmitFast), which node/ingress.cc tries before
// protobuf, and the bundled client's hand-written requests
// (node/client_lib.h: BenchRequestWriter) it is meant to read.
//
// Input: byte 0 picks transactions_max (255: the node's 100,000), the rest
// is the payload. The reference is protobuf's IngressRequest. Checks:
//  - when the fast reader answers, protobuf reads the same request (a submit,
//    no unknown fields, same id, same transactions) within the limit, and
//    the views lie inside the payload;
//  - when protobuf's own serialization of what it read is the payload and
//    the limit holds, the fast reader answers (it exists for exactly that
//    layout: refusing it would send every request down the slow path);
//  - encode: a request built from the input by protobuf and by the bundled
//    client's writer is read back to the same id and transactions.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/harness.h"
#include "glog/logging.h"
#include "node/client.pb.h"
#include "node/client_lib.h"
#include "node/ingress_wire.h"
#include "node/output_server.h"
#include "node/zmq_socket.h"

namespace narwhal::fuzz {
namespace {

using node::ParseSubmitFast;
using node::SubmitView;

constexpr size_t kNodeTransactionsMax = 100'000;  // node/ingress.h

bool NoUnknownFields(const client::IngressRequest& r) {
  return r.GetReflection()->GetUnknownFields(r).empty() &&
         r.submit().GetReflection()->GetUnknownFields(r.submit()).empty();
}

void CheckAgainstProtobuf(std::string_view payload, size_t max) {
  std::optional<SubmitView> fast = ParseSubmitFast(payload, max);
  client::IngressRequest ref;
  const bool ref_ok = ref.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
  if (fast.has_value()) {
    CHECK(ref_ok) << "fast reader accepted what protobuf refuses";
    CHECK(ref.has_submit());
    CHECK(NoUnknownFields(ref)) << "fast reader accepted unknown fields";
    CHECK_EQ(fast->request_id, ref.submit().request_id());
    CHECK_EQ(fast->transactions.size(), static_cast<size_t>(ref.submit().transactions_size()));
    CHECK_LE(fast->transactions.size(), max);
    for (size_t i = 0; i < fast->transactions.size(); ++i) {
      const std::string_view tx = fast->transactions[i];
      CHECK(tx == ref.submit().transactions(static_cast<int>(i)));
      CHECK(tx.empty() || (tx.data() >= payload.data() && tx.data() + tx.size() <= payload.data() + payload.size()));
    }
    return;
  }
  if (ref_ok && ref.has_submit() && NoUnknownFields(ref) &&
      static_cast<size_t>(ref.submit().transactions_size()) <= max && ref.SerializeAsString() == payload) {
    LOG(FATAL) << "fast reader refused protobuf's own layout of " << ref.ShortDebugString();
  }
}

void CheckRoundTrip(uint64_t request_id, const std::vector<std::string>& txs) {
  client::IngressRequest r;
  r.mutable_submit()->set_request_id(request_id);
  for (const std::string& tx : txs) r.mutable_submit()->add_transactions(tx);
  const std::string bytes = r.SerializeAsString();
  std::optional<SubmitView> fast = ParseSubmitFast(bytes, txs.size());
  CHECK(fast.has_value()) << "fast reader refused " << r.ShortDebugString();
  CHECK_EQ(fast->request_id, request_id);
  CHECK_EQ(fast->transactions.size(), txs.size());
  for (size_t i = 0; i < txs.size(); ++i) CHECK(fast->transactions[i] == txs[i]);
  if (!txs.empty()) CHECK(!ParseSubmitFast(bytes, txs.size() - 1).has_value()) << "over transactions_max";
}

void CheckBenchWriter(uint64_t request_id, uint64_t first_counter, size_t n, size_t tx_size, int64_t at_us) {
  node::BenchRequestWriter writer(tx_size, /*client_id=*/7, /*sample_every=*/3, /*transactions_max=*/8);
  const std::string_view bytes = writer.Write(request_id, first_counter, n, at_us);
  std::optional<SubmitView> fast = ParseSubmitFast(bytes, 8);
  CHECK(fast.has_value()) << "fast reader refused the bundled client's request";
  CHECK_EQ(fast->request_id, request_id);
  CHECK_EQ(fast->transactions.size(), std::min<size_t>(n, 8));
  client::IngressRequest ref;
  CHECK(ref.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) << "the bundled client writes bad protobuf";
  CHECK_EQ(ref.submit().request_id(), request_id);
  CHECK_EQ(static_cast<size_t>(ref.submit().transactions_size()), fast->transactions.size());
  for (size_t i = 0; i < fast->transactions.size(); ++i) {
    auto info = node::ParseBenchTransaction(fast->transactions[i]);
    CHECK(info.has_value());
    CHECK_EQ(info->client_id, 7u);
    CHECK_EQ(info->counter, first_counter + i);
    CHECK_EQ(info->sample, (first_counter + i) % 3 == 0);
    CHECK_EQ(info->submitted_unix_us, at_us);
  }
}

void Run(std::string_view data) {
  Input in(data);
  const uint8_t max_byte = in.U8();
  const size_t max = max_byte == 255 ? kNodeTransactionsMax : max_byte;
  const std::string_view payload = in.Rest();
  CheckAgainstProtobuf(payload, max);

  Input again(payload);
  const uint64_t request_id = again.U64();
  std::vector<std::string> txs;
  while (!again.empty() && txs.size() < 64) txs.emplace_back(again.ShortBytes());
  CheckRoundTrip(request_id, txs);
  CheckBenchWriter(request_id, request_id >> 8, max_byte % 10, node::kBenchTxHeaderBytes + max_byte % 200,
                   static_cast<int64_t>(request_id));
}

std::string WithMax(uint8_t max, const std::string& payload) { return std::string(1, static_cast<char>(max)) + payload; }

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  client::IngressRequest r;
  r.mutable_submit()->set_request_id(42);
  r.mutable_submit()->add_transactions("hello");
  r.mutable_submit()->add_transactions("");
  r.mutable_submit()->add_transactions(std::string(40, 'x'));
  out.push_back({"submit3", WithMax(255, r.SerializeAsString())});
  out.push_back({"submit3_max2", WithMax(2, r.SerializeAsString())});
  client::IngressRequest empty;
  empty.mutable_submit();
  out.push_back({"submit_empty", WithMax(255, empty.SerializeAsString())});
  node::BenchRequestWriter writer(32, 1, 2, 4);
  out.push_back({"bench_writer", WithMax(4, std::string(writer.Write(9, 100, 3, 1'700'000'000'000'000)))});
  client::OutputRequest wrong_socket;
  wrong_socket.mutable_subscribe()->set_from_index(5);
  out.push_back({"output_request", WithMax(255, wrong_socket.SerializeAsString())});
  std::string reordered;  // transactions before the id: valid protobuf, not the fast layout
  reordered += std::string("\x0a\x07\x12\x01z\x08\x05\x12\x00", 9);
  out.push_back({"id_after_transactions", WithMax(255, reordered)});
  return out;
}

}  // namespace

extern const Harness kIngressHarness = {"ingress", &Run, &Seeds};

}  // namespace narwhal::fuzz
