#include "node/load.h"

#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "node/client_lib.h"

namespace narwhal::node {

std::string SubmitReport::ToJson() const {
  return absl::StrFormat(
      "{\"client_id\": %u, \"submitted\": %u, \"sequenced\": %u, \"refused_backpressure\": %u, "
      "\"refused_oversized\": %u, \"refused_other\": %u, \"accepted\": %u, \"not_sent\": %u, "
      "\"acceptance_ms_p50\": %.1f, \"acceptance_ms_p99\": %.1f, \"send_seconds\": %.2f}",
      client_id, submitted, sequenced, refused_backpressure, refused_oversized, refused_other,
      accepted, not_sent, acceptance_ms_p50, acceptance_ms_p99, send_seconds);
}

absl::StatusOr<SubmitReport> RunSubmit(void* context, const SubmitOptions& options) {
  SubmitReport report;
  report.client_id = options.client_id != 0 ? options.client_id
                                            : static_cast<uint64_t>(absl::GetCurrentTimeNanos()) ^
                                                  (uint64_t(std::hash<std::thread::id>()(std::this_thread::get_id())) << 1);
  auto client = SubmitClient::Connect(context, options.address);
  if (!client.ok()) return client.status();
  const uint64_t total = options.count > 0 ? options.count
                                           : static_cast<uint64_t>(options.rate * options.duration_s);
  struct InFlight {
    int64_t sent_us = 0;
    uint32_t open = 0;  // transactions neither refused nor accepted yet
  };
  absl::flat_hash_map<uint64_t, InFlight> in_flight;
  std::vector<double> acceptance_ms;
  uint64_t next_request = 1;
  auto stopped = [&] { return options.stop != nullptr && options.stop->load(); };

  auto handle = [&](const client::IngressMessage& m) {
    const int64_t now = NowUnixUs();
    if (m.has_reply()) {
      auto it = in_flight.find(m.reply().request_id());
      for (const client::SubmitRange& r : m.reply().ranges()) {
        switch (r.refusal()) {
          case client::NOT_REFUSED:
            report.sequenced += r.count();
            continue;
          case client::BACKPRESSURE:
            report.refused_backpressure += r.count();
            break;
          case client::OVERSIZED:
            report.refused_oversized += r.count();
            break;
          default:
            report.refused_other += r.count();
            break;
        }
        if (it != in_flight.end()) it->second.open -= std::min(it->second.open, r.count());
      }
      if (it != in_flight.end() && it->second.open == 0) in_flight.erase(it);
    } else if (m.has_accepted()) {
      report.accepted += m.accepted().count();
      auto it = in_flight.find(m.accepted().request_id());
      if (it == in_flight.end()) return;
      const double ms = (now - it->second.sent_us) / 1000.0;
      for (uint32_t i = 0; i < m.accepted().count(); ++i) acceptance_ms.push_back(ms);
      it->second.open -= std::min(it->second.open, m.accepted().count());
      if (it->second.open == 0) in_flight.erase(it);
    }
  };
  auto drain = [&](int timeout_ms) -> absl::Status {
    while (true) {
      auto m = (*client)->Receive(timeout_ms);
      if (!m.ok()) return m.status();
      if (!m->has_value()) return absl::OkStatus();
      handle(**m);
      timeout_ms = 0;
    }
  };

  BenchRequestWriter writer(options.tx_size, report.client_id, options.sample_every,
                            static_cast<size_t>(std::max(1, options.request_transactions_max)));
  const int64_t start = NowUnixUs();
  report.first_send_unix_us = start;
  int64_t next_tick = start;
  while (report.submitted + report.not_sent < total && !stopped()) {
    const int64_t now = NowUnixUs();
    const uint64_t due = std::min<uint64_t>(total, static_cast<uint64_t>((now - start) / 1e6 * options.rate) + 1);
    while (report.submitted + report.not_sent < due) {
      const uint64_t n = std::min<uint64_t>(due - report.submitted - report.not_sent,
                                            options.request_transactions_max);
      const int64_t t = NowUnixUs();
      const uint64_t id = next_request++;
      auto sent = (*client)->SubmitSerialized(
          writer.Write(id, report.submitted + report.not_sent, n, t));
      if (!sent.ok()) return sent.status();
      if (!*sent) {
        report.not_sent += n;
        continue;
      }
      report.submitted += n;
      in_flight[id] = InFlight{t, static_cast<uint32_t>(n)};
    }
    next_tick += options.tick_ms * 1000;
    const int64_t wait_us = next_tick - NowUnixUs();
    if (absl::Status s = drain(wait_us > 0 ? static_cast<int>(wait_us / 1000) : 0); !s.ok()) return s;
  }
  report.send_seconds = (NowUnixUs() - start) / 1e6;
  const int64_t wait_until = NowUnixUs() + static_cast<int64_t>(options.wait_s * 1e6);
  while (!in_flight.empty() && NowUnixUs() < wait_until && !stopped()) {
    if (absl::Status s = drain(50); !s.ok()) return s;
  }
  report.acceptance_ms_p50 = Percentile(acceptance_ms, 0.5);
  report.acceptance_ms_p99 = Percentile(acceptance_ms, 0.99);
  return report;
}

}  // namespace narwhal::node
