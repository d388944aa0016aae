// A committed output stream read by a background thread, for the node
// tests that run real narwhal_node processes (multiprocess_test,
// store_failure_test).
#ifndef NARWHAL_TESTS_NODE_COMMITTED_STREAM_H_
#define NARWHAL_TESTS_NODE_COMMITTED_STREAM_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "node/client_lib.h"
#include "node/load.h"

namespace narwhal::node {

using TxId = std::pair<uint64_t, uint64_t>;  // (client id, counter)

// One authority's committed stream, read by a background thread.
class StreamReader {
 public:
  StreamReader(void* context, std::string address) : context_(context), address_(std::move(address)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~StreamReader() {
    stop_.store(true);
    thread_.join();
  }
  size_t transactions() const {
    std::lock_guard<std::mutex> l(mu_);
    return txs_.size();
  }
  size_t sub_dags() const {
    std::lock_guard<std::mutex> l(mu_);
    return leaders_.size();
  }
  std::vector<TxId> txs() const {
    std::lock_guard<std::mutex> l(mu_);
    return txs_;
  }
  std::vector<std::string> leaders() const {
    std::lock_guard<std::mutex> l(mu_);
    return leaders_;
  }
  std::string error() const {
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

 private:
  void Loop() {
    OutputClient::Options options;
    options.silence_reconnect_ms = 2000;
    auto tail = OutputClient::Connect(context_, address_, options);
    if (!tail.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      error_ = std::string(tail.status().message());
      return;
    }
    while (!stop_.load()) {
      auto m = (*tail)->Next(100);
      if (!m.ok()) {
        std::lock_guard<std::mutex> l(mu_);
        error_ = std::string(m.status().message());
        return;
      }
      if (!m->has_value() || !(*m)->has_sub_dag()) continue;
      const client::SubDag& sd = (*m)->sub_dag();
      std::lock_guard<std::mutex> l(mu_);
      leaders_.push_back(sd.leader());
      for (const auto& c : sd.certificates()) {
        for (const auto& b : c.batches()) {
          if (b.unavailable()) error_ = "a committed batch was unavailable";
          for (const std::string& tx : b.transactions()) {
            auto info = ParseBenchTransaction(tx);
            if (!info) {
              error_ = "a committed transaction is not one we submitted";
              continue;
            }
            txs_.emplace_back(info->client_id, info->counter);
          }
        }
      }
    }
  }

  void* context_;
  const std::string address_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<TxId> txs_;
  std::vector<std::string> leaders_;
  std::string error_;
  std::thread thread_;
};

inline bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return done();
}

}  // namespace narwhal::node

#endif  // NARWHAL_TESTS_NODE_COMMITTED_STREAM_H_
