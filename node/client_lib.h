// Client side of docs/client_protocol.md, for narwhal_client, the local
// benchmark and the tests: a blocking SubmitClient (ingress) and
// OutputClient (committed stream), each owning one socket; use each from
// one thread. Also the benchmark's transaction layout.
#ifndef NARWHAL_NODE_CLIENT_LIB_H_
#define NARWHAL_NODE_CLIENT_LIB_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/client.pb.h"
#include "node/zmq_socket.h"

namespace narwhal::node {

// A zmq context for clients: one per process is enough.
class ClientContext {
 public:
  ClientContext() : context_(zmq_ctx_new()) {}
  ~ClientContext() { zmq_ctx_term(context_); }
  void* get() const { return context_; }

 private:
  void* context_;
};

class SubmitClient {
 public:
  static absl::StatusOr<std::unique_ptr<SubmitClient>> Connect(void* context,
                                                               const std::string& address);
  // Ok(false): the socket's outgoing queue is full (the worker is not
  // reading fast enough); nothing was sent.
  absl::StatusOr<bool> Submit(uint64_t request_id, const std::vector<std::string>& transactions);
  // Same, for an IngressRequest already serialized (BenchRequestWriter).
  absl::StatusOr<bool> SubmitSerialized(std::string_view request);
  // One message from the worker, waiting at most timeout_ms (0: no wait).
  absl::StatusOr<std::optional<client::IngressMessage>> Receive(int timeout_ms);

 private:
  explicit SubmitClient(ZmqSocket socket) : socket_(std::move(socket)) {}
  ZmqSocket socket_;
};

class OutputClient {
 public:
  struct Options {
    uint64_t from_index = 0;
    client::TransactionDetail detail = client::ALL_TRANSACTIONS;
    std::string transaction_prefix;
    // With no message (the server heartbeats every second) for this long,
    // reconnect and subscribe again from next_index().
    int silence_reconnect_ms = 5000;
  };

  static absl::StatusOr<std::unique_ptr<OutputClient>> Connect(void* context,
                                                               const std::string& address,
                                                               Options options);
  // The next sub-DAG (index == next_index()), a heartbeat, or nullopt if
  // nothing came within timeout_ms. Duplicates after a resubscription are
  // skipped. An error message from the server becomes a FailedPrecondition.
  absl::StatusOr<std::optional<client::OutputMessage>> Next(int timeout_ms);
  uint64_t next_index() const { return next_index_; }
  // Highest next_index a heartbeat announced.
  uint64_t server_next_index() const { return server_next_index_; }

 private:
  OutputClient(void* context, std::string address, Options options)
      : context_(context), address_(std::move(address)), options_(std::move(options)),
        next_index_(options_.from_index) {}
  absl::Status Reconnect();

  void* context_;
  std::string address_;
  Options options_;
  ZmqSocket socket_;
  uint64_t next_index_ = 0;
  uint64_t server_next_index_ = 0;
  int64_t last_message_us_ = 0;
};

// ---- benchmark transactions ----
// Layout (little-endian): byte 0 kind ('S' sample or 'T' other), bytes
// 1..8 client id, 9..16 counter, 17..24 submission time (Unix us), then
// filler. Every transaction carries its submission time; 'S' marks the
// ones a benchmark subscribes to (transaction_prefix "S").
constexpr size_t kBenchTxHeaderBytes = 25;
std::string MakeBenchTransaction(size_t size, uint64_t client_id, uint64_t counter, bool sample,
                                 int64_t submitted_unix_us);
struct BenchTxInfo {
  bool sample = false;
  uint64_t client_id = 0;
  uint64_t counter = 0;
  int64_t submitted_unix_us = 0;
};
std::optional<BenchTxInfo> ParseBenchTransaction(std::string_view tx);

// Writes serialized IngressRequests of benchmark transactions without
// building each transaction and message anew: the protobuf layout of n
// transactions of one size is fixed, so the filler is written once per
// slot and each request only patches the 25-byte headers. Transactions stay
// distinct (client id and counter); the filler repeats across requests.
class BenchRequestWriter {
 public:
  BenchRequestWriter(size_t tx_size, uint64_t client_id, uint64_t sample_every,
                     size_t transactions_max);
  // A request of transactions first_counter .. first_counter+n-1 (n is
  // capped at transactions_max) with MakeBenchTransaction's headers; the
  // view is valid until the next call.
  std::string_view Write(uint64_t request_id, uint64_t first_counter, size_t n,
                         int64_t submitted_unix_us);

 private:
  const size_t tx_size_;
  const uint64_t client_id_;
  const uint64_t sample_every_;
  const size_t transactions_max_;
  size_t slot_bytes_ = 0;    // tag, length varint, transaction
  size_t prefix_bytes_ = 0;  // tag and length of one transaction
  std::string slots_;        // transactions_max_ slots, filler written
  std::string out_;
};

int64_t NowUnixUs();

// p in [0, 1] of `values` (sorted in place); 0 if empty.
double Percentile(std::vector<double>& values, double p);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_CLIENT_LIB_H_
