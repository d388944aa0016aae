#include "node/client_lib.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/wire_format.h"

namespace narwhal::node {
namespace {
void PutU64(std::string& s, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void FillBenchTransaction(char* tx, size_t size, uint64_t client_id, uint64_t counter) {
  uint64_t x = client_id * 0x9E3779B97F4A7C15ull ^ counter;
  for (size_t i = kBenchTxHeaderBytes; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    tx[i] = static_cast<char>(x);
  }
}
void PutU64At(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t GetU64(std::string_view s, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}
}  // namespace

int64_t NowUnixUs() { return absl::GetCurrentTimeNanos() / 1000; }

absl::StatusOr<std::unique_ptr<SubmitClient>> SubmitClient::Connect(void* context,
                                                                   const std::string& address) {
  auto socket = ZmqSocket::Create(context, ZMQ_DEALER);
  if (!socket.ok()) return socket.status();
  if (auto s = socket->SetInt(ZMQ_SNDHWM, 1000); !s.ok()) return s;
  if (auto s = socket->SetInt(ZMQ_RCVHWM, 100000); !s.ok()) return s;
  if (auto s = socket->Connect(address); !s.ok()) return s;
  return std::unique_ptr<SubmitClient>(new SubmitClient(*std::move(socket)));
}

absl::StatusOr<bool> SubmitClient::Submit(uint64_t request_id,
                                          const std::vector<std::string>& transactions) {
  client::IngressRequest request;
  client::SubmitRequest* submit = request.mutable_submit();
  submit->set_request_id(request_id);
  for (const std::string& tx : transactions) submit->add_transactions(tx);
  const std::string payload = request.SerializeAsString();
  return socket_.Send({payload});
}

absl::StatusOr<bool> SubmitClient::SubmitSerialized(std::string_view request) {
  return socket_.Send({request});
}

absl::StatusOr<std::optional<client::IngressMessage>> SubmitClient::Receive(int timeout_ms) {
  auto msg = socket_.Receive(timeout_ms);
  if (!msg.ok()) return msg.status();
  if (!msg->has_value()) return std::nullopt;
  if ((*msg)->size() != 1) return absl::DataLossError("ingress: expected a one-part message");
  client::IngressMessage out;
  if (!out.ParseFromString((**msg)[0])) return absl::DataLossError("ingress: unparsable message");
  return out;
}

absl::StatusOr<std::unique_ptr<OutputClient>> OutputClient::Connect(void* context,
                                                                   const std::string& address,
                                                                   Options options) {
  auto c = std::unique_ptr<OutputClient>(new OutputClient(context, address, std::move(options)));
  if (absl::Status s = c->Reconnect(); !s.ok()) return s;
  return c;
}

absl::Status OutputClient::Reconnect() {
  socket_.Close();
  auto socket = ZmqSocket::Create(context_, ZMQ_DEALER);
  if (!socket.ok()) return socket.status();
  if (auto s = socket->SetInt(ZMQ_RCVHWM, 1000); !s.ok()) return s;
  if (auto s = socket->Connect(address_); !s.ok()) return s;
  socket_ = *std::move(socket);
  client::OutputRequest request;
  client::Subscribe* sub = request.mutable_subscribe();
  sub->set_from_index(next_index_);
  sub->set_detail(options_.detail);
  sub->set_transaction_prefix(options_.transaction_prefix);
  const std::string payload = request.SerializeAsString();
  // Queued until the connection is up (a DEALER queues for its peer).
  auto sent = socket_.Send({payload}, /*dont_wait=*/true);
  if (!sent.ok()) return sent.status();
  last_message_us_ = NowUnixUs();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<client::OutputMessage>> OutputClient::Next(int timeout_ms) {
  const int64_t deadline = NowUnixUs() + int64_t(timeout_ms) * 1000;
  while (true) {
    const int64_t now = NowUnixUs();
    if (now - last_message_us_ > int64_t(options_.silence_reconnect_ms) * 1000) {
      if (absl::Status s = Reconnect(); !s.ok()) return s;
    }
    int wait_ms = static_cast<int>(std::max<int64_t>(0, (deadline - now) / 1000));
    auto msg = socket_.Receive(std::min(wait_ms, 200));
    if (!msg.ok()) return msg.status();
    if (!msg->has_value()) {
      if (NowUnixUs() >= deadline) return std::nullopt;
      continue;
    }
    last_message_us_ = NowUnixUs();
    client::OutputMessage out;
    if ((*msg)->size() != 1 || !out.ParseFromString((**msg)[0])) {
      return absl::DataLossError("output: unparsable message");
    }
    if (out.has_error()) return absl::FailedPreconditionError(absl::StrCat("output: ", out.error()));
    if (out.has_heartbeat()) {
      server_next_index_ = std::max(server_next_index_, out.heartbeat().next_index());
      return out;
    }
    if (!out.has_sub_dag()) continue;
    const uint64_t index = out.sub_dag().index();
    if (index < next_index_) continue;  // a duplicate after resubscribing
    if (index > next_index_) {
      return absl::DataLossError(absl::StrCat("output: got sub-DAG ", index, ", expected ", next_index_));
    }
    ++next_index_;
    server_next_index_ = std::max(server_next_index_, next_index_);
    return out;
  }
}

std::string MakeBenchTransaction(size_t size, uint64_t client_id, uint64_t counter, bool sample,
                                 int64_t submitted_unix_us) {
  std::string tx(std::max(size, kBenchTxHeaderBytes), '\0');
  tx[0] = sample ? 'S' : 'T';
  PutU64(tx, 1, client_id);
  PutU64(tx, 9, counter);
  PutU64(tx, 17, static_cast<uint64_t>(submitted_unix_us));
  // Filler that differs per transaction (no two transactions are equal).
  FillBenchTransaction(tx.data(), tx.size(), client_id, counter);
  return tx;
}

BenchRequestWriter::BenchRequestWriter(size_t tx_size, uint64_t client_id, uint64_t sample_every,
                                       size_t transactions_max)
    : tx_size_(std::max(tx_size, kBenchTxHeaderBytes)),
      client_id_(client_id),
      sample_every_(sample_every),
      transactions_max_(transactions_max) {
  std::string prefix;
  prefix.push_back(0x12);  // SubmitRequest.transactions, length-delimited
  AppendVarint(prefix, tx_size_);
  prefix_bytes_ = prefix.size();
  slot_bytes_ = prefix_bytes_ + tx_size_;
  slots_.resize(slot_bytes_ * transactions_max_);
  for (size_t i = 0; i < transactions_max_; ++i) {
    char* slot = slots_.data() + i * slot_bytes_;
    std::memcpy(slot, prefix.data(), prefix_bytes_);
    FillBenchTransaction(slot + prefix_bytes_, tx_size_, client_id_, i);
  }
}

std::string_view BenchRequestWriter::Write(uint64_t request_id, uint64_t first_counter, size_t n,
                                           int64_t submitted_unix_us) {
  n = std::min(n, transactions_max_);
  std::string submit;
  submit.push_back(0x08);  // SubmitRequest.request_id, varint
  AppendVarint(submit, request_id);
  out_.clear();
  out_.push_back(0x0a);  // IngressRequest.submit, length-delimited
  AppendVarint(out_, submit.size() + n * slot_bytes_);
  out_.append(submit);
  const size_t header_at = out_.size();
  out_.append(slots_.data(), n * slot_bytes_);
  for (size_t i = 0; i < n; ++i) {
    char* tx = out_.data() + header_at + i * slot_bytes_ + prefix_bytes_;
    const uint64_t counter = first_counter + i;
    tx[0] = sample_every_ > 0 && counter % sample_every_ == 0 ? 'S' : 'T';
    PutU64At(tx + 1, client_id_);
    PutU64At(tx + 9, counter);
    PutU64At(tx + 17, static_cast<uint64_t>(submitted_unix_us));
  }
  return out_;
}

std::optional<BenchTxInfo> ParseBenchTransaction(std::string_view tx) {
  if (tx.size() < kBenchTxHeaderBytes || (tx[0] != 'S' && tx[0] != 'T')) return std::nullopt;
  BenchTxInfo info;
  info.sample = tx[0] == 'S';
  info.client_id = GetU64(tx, 1);
  info.counter = GetU64(tx, 9);
  info.submitted_unix_us = static_cast<int64_t>(GetU64(tx, 17));
  return info;
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t i = static_cast<size_t>(p * (values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

}  // namespace narwhal::node
