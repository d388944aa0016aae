#include "node/metrics.h"

#include <sys/statvfs.h>

#include <exception>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace narwhal::node {

void CounterFrom::Set(uint64_t value) {
  // A core statistic only grows; a smaller value would be a new object
  // (never happens within one process) and is ignored rather than counted.
  if (value > last_) {
    counter_->Increment(static_cast<double>(value - last_));
    last_ = value;
  }
}

CounterFrom& CounterFamily::operator[](const std::string& value) {
  auto it = members_.find(value);
  if (it == members_.end()) {
    std::map<std::string, std::string> labels = labels_;
    labels[label_] = value;
    it = members_.emplace(value, CounterFrom(&family_->Add(labels))).first;
  }
  return it->second;
}

prometheus::Gauge& GaugeFamily::operator[](const std::string& value) {
  auto it = members_.find(value);
  if (it == members_.end()) {
    std::map<std::string, std::string> labels = labels_;
    labels[label_] = value;
    it = members_.emplace(value, &family_->Add(labels)).first;
  }
  return *it->second;
}

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}
MetricsRegistry::~MetricsRegistry() = default;

// prometheus-cpp throws when a name is registered with two types (or is
// not a valid name): a bug in this file's callers, fatal at start.
template <typename Builder>
auto& RegisterFamily(Builder builder, prometheus::Registry& registry, const std::string& name,
                     const std::string& help) {
  try {
    return builder.Name(name).Help(help).Register(registry);
  } catch (const std::exception& e) {
    LOG(FATAL) << "metric " << name << ": " << e.what();
  }
}

template <typename Metric>
Metric& AddMetric(prometheus::Family<Metric>& family, const std::map<std::string, std::string>& labels) {
  try {
    return family.Add(labels);
  } catch (const std::exception& e) {
    LOG(FATAL) << "metric " << family.GetName() << ": " << e.what();
  }
}

CounterFrom MetricsRegistry::Counter(const std::string& name, const std::string& help,
                                     const std::map<std::string, std::string>& labels) {
  return CounterFrom(&AddMetric(RegisterFamily(prometheus::BuildCounter(), *registry_, name, help), labels));
}

CounterFamily MetricsRegistry::Counters(const std::string& name, const std::string& help,
                                        const std::map<std::string, std::string>& labels,
                                        std::string by) {
  return CounterFamily(&RegisterFamily(prometheus::BuildCounter(), *registry_, name, help), labels,
                       std::move(by));
}

prometheus::Gauge& MetricsRegistry::Gauge(const std::string& name, const std::string& help,
                                          const std::map<std::string, std::string>& labels) {
  return AddMetric(RegisterFamily(prometheus::BuildGauge(), *registry_, name, help), labels);
}

GaugeFamily MetricsRegistry::Gauges(const std::string& name, const std::string& help,
                                    const std::map<std::string, std::string>& labels, std::string by) {
  return GaugeFamily(&RegisterFamily(prometheus::BuildGauge(), *registry_, name, help), labels,
                     std::move(by));
}

prometheus::Histogram& MetricsRegistry::LatencyHistogram(const std::string& name, const std::string& help,
                                                         const std::map<std::string, std::string>& labels) {
  static const prometheus::Histogram::BucketBoundaries kSeconds = {
      0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60};
  auto& family = RegisterFamily(prometheus::BuildHistogram(), *registry_, name, help);
  try {
    return family.Add(labels, kSeconds);
  } catch (const std::exception& e) {
    LOG(FATAL) << "metric " << name << ": " << e.what();
  }
}

MessengerMetrics::MessengerMetrics(MetricsRegistry& r, const std::map<std::string, std::string>& labels)
    : requests_sent_(r.Counter("narwhal_requests_sent_total",
                               "Requests sent to committee peers (first attempts).", labels)),
      requests_received_(r.Counter("narwhal_requests_received_total",
                                   "Requests received from committee peers.", labels)),
      malformed_frames_(r.Counter("narwhal_malformed_frames_total",
                                  "Frames from committee peers that could not be read (dropped).", labels)),
      retransmissions_(r.Counters("narwhal_retransmissions_total",
                                  "Requests sent again to a peer because no answer came in time.", labels,
                                  "peer")),
      refused_queue_full_(r.Counters("narwhal_send_queue_refused_total",
                                     "Sends to a peer refused because max_pending_per_peer requests "
                                     "to it were unanswered.",
                                     labels, "peer")),
      gave_up_(r.Counters("narwhal_requests_gave_up_total",
                          "Reliable requests to a peer abandoned after the retry budget.", labels, "peer")),
      last_heard_age_(r.Gauges("narwhal_peer_last_heard_age_seconds",
                               "Seconds since anything was received from the peer (-1: never).", labels,
                               "peer")),
      unreachable_(r.Gauges("narwhal_peer_unreachable",
                            "1 if the peer has left a request unanswered for longer than the health "
                            "threshold (10 s), else 0.",
                            labels, "peer")) {}

std::vector<std::string> MessengerMetrics::Update(const MessengerStats& stats, TimeUs now_us,
                                                  TimeUs silent_us_max) {
  requests_sent_.Set(stats.requests_sent);
  requests_received_.Set(stats.requests_received);
  malformed_frames_.Set(stats.malformed_frames);
  std::vector<std::string> unreachable;
  for (const auto& [peer, p] : stats.peers) {
    const std::string name = peer.ToString();
    retransmissions_[name].Set(p.retransmissions);
    refused_queue_full_[name].Set(p.refused_queue_full);
    gave_up_[name].Set(p.gave_up);
    last_heard_age_[name].Set(p.last_heard_us < 0 ? -1.0
                                                  : static_cast<double>(now_us - p.last_heard_us) / kSecondUs);
    const bool silent = p.waiting_since_us >= 0 && now_us - p.waiting_since_us > silent_us_max;
    unreachable_[name].Set(silent ? 1 : 0);
    if (silent) unreachable.push_back(name);
  }
  return unreachable;
}

MetricsServer::MetricsServer(std::unique_ptr<prometheus::Exposer> exposer) : exposer_(std::move(exposer)) {}
MetricsServer::~MetricsServer() = default;

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address) {
  if (address.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics_address ", address, ": expected host:port"));
  }
  // civetweb (inside prometheus-cpp) throws when it cannot listen.
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(address, 2);
    return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(exposer)));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("--metrics_address ", address, ": cannot serve: ", e.what()));
  }
}

void MetricsServer::Serve(const MetricsRegistry& registry) { exposer_->RegisterCollectable(registry.registry()); }

int MetricsServer::port() const {
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

std::optional<uint64_t> DiskFreeBytes(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

}  // namespace narwhal::node
