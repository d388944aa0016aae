// Prometheus metrics of a node process (docs/metrics.md lists every one).
// prometheus-cpp (Debian's prometheus-cpp-dev): its registry holds the
// metrics and its pull exposer serves them over HTTP at --metrics_address
// in the text exposition format.
//
// Threads: the event loop thread writes every metric; the exposer's HTTP
// threads read them when scraped (prometheus-cpp's counters, gauges and
// histograms are safe for that). The core's statistics are plain counters
// read only on the loop thread: the role observers copy them into the
// registry once a second (MetricsRegistry::Counter::Set takes the absolute
// value, so nothing is counted twice), so a scrape sees values at most a
// second old.
#ifndef NARWHAL_NODE_METRICS_H_
#define NARWHAL_NODE_METRICS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "core/net/messenger.h"
#include "core/types.h"

namespace prometheus {
class Counter;
class Exposer;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace narwhal::node {

// A Prometheus counter fed with an absolute value (a core statistic):
// Set(v) adds what v grew by since the last Set.
class CounterFrom {
 public:
  explicit CounterFrom(prometheus::Counter* counter) : counter_(counter) {}
  void Set(uint64_t value);

 private:
  prometheus::Counter* counter_;
  uint64_t last_ = 0;
};

// A family whose members are made on first use, by label value, in one
// label (e.g. author or peer). Ordered, so exports are deterministic.
class CounterFamily {
 public:
  CounterFamily(prometheus::Family<prometheus::Counter>* family, std::map<std::string, std::string> labels,
                std::string label)
      : family_(family), labels_(std::move(labels)), label_(std::move(label)) {}
  CounterFrom& operator[](const std::string& value);

 private:
  prometheus::Family<prometheus::Counter>* family_;
  std::map<std::string, std::string> labels_;
  std::string label_;
  std::map<std::string, CounterFrom> members_;
};

class GaugeFamily {
 public:
  GaugeFamily(prometheus::Family<prometheus::Gauge>* family, std::map<std::string, std::string> labels,
              std::string label)
      : family_(family), labels_(std::move(labels)), label_(std::move(label)) {}
  prometheus::Gauge& operator[](const std::string& value);

 private:
  prometheus::Family<prometheus::Gauge>* family_;
  std::map<std::string, std::string> labels_;
  std::string label_;
  std::map<std::string, prometheus::Gauge*> members_;
};

// One process's registry. Every metric carries the labels authority="I"
// and role="primary" / "worker:K" (as labels of each series, not constant
// labels of a family: the roles of a `--role all` process share one
// registry, and a family is one name). A name registered twice (by two
// roles) is the same family.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  CounterFrom Counter(const std::string& name, const std::string& help,
                      const std::map<std::string, std::string>& labels);
  CounterFamily Counters(const std::string& name, const std::string& help,
                         const std::map<std::string, std::string>& labels, std::string by);
  prometheus::Gauge& Gauge(const std::string& name, const std::string& help,
                           const std::map<std::string, std::string>& labels);
  GaugeFamily Gauges(const std::string& name, const std::string& help,
                     const std::map<std::string, std::string>& labels, std::string by);
  // Buckets in seconds, for latencies from tens of milliseconds to a minute.
  prometheus::Histogram& LatencyHistogram(const std::string& name, const std::string& help,
                                          const std::map<std::string, std::string>& labels);

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

// The messenger's statistics (per peer too) and the peers it waited on for
// longer than `silent_us_max`, exported under `labels`.
class MessengerMetrics {
 public:
  MessengerMetrics(MetricsRegistry& registry, const std::map<std::string, std::string>& labels);
  // Returns the unreachable peers, by name.
  std::vector<std::string> Update(const MessengerStats& stats, TimeUs now_us, TimeUs silent_us_max);

 private:
  CounterFrom requests_sent_;
  CounterFrom requests_received_;
  CounterFrom malformed_frames_;
  CounterFamily retransmissions_;
  CounterFamily refused_queue_full_;
  CounterFamily gave_up_;
  GaugeFamily last_heard_age_;
  GaugeFamily unreachable_;
};

// Serves registries over HTTP: GET /metrics.
class MetricsServer {
 public:
  // `address` is host:port ("0.0.0.0:9100"; port 0 picks a free one).
  // Fails if it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address);
  ~MetricsServer();
  void Serve(const MetricsRegistry& registry);
  int port() const;

 private:
  explicit MetricsServer(std::unique_ptr<prometheus::Exposer> exposer);
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Free space where `path` is, or nullopt if statvfs fails.
std::optional<uint64_t> DiskFreeBytes(const std::string& path);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_METRICS_H_
