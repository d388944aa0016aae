// The local benchmark, like the Narwhal reference's `fab local`: starts a
// committee of narwhal_node processes on loopback (one process per primary
// and per worker), drives load with benchmark transactions for
// --duration_s, reads every authority's committed output, prints a human
// summary and, as its last line, one JSON object with the figures. Stops
// every process it started, also on failure (children die with it).
//
// Figures, as in the reference benchmark:
//   consensus latency: batch creation (its worker sealed it) to commit, at
//     the authority that created it;
//   end-to-end latency: a sample transaction's submission to its commit (at
//     authority 0);
//   tps_consensus: committed transactions / (last commit - first batch
//     creation); tps_e2e: committed transactions / (last commit - start of
//     the load).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "core/types.h"
#include "node/client_lib.h"
#include "node/heap_tuning.h"
#include "node/load.h"
#include "node/local_cluster.h"

ABSL_FLAG(int, nodes, 4, "authorities");
ABSL_FLAG(int, workers, 1, "workers per authority");
ABSL_FLAG(double, rate, 50000, "total offered load, transactions per second (split over workers)");
ABSL_FLAG(int, tx_size, 512, "transaction size in bytes");
ABSL_FLAG(double, duration_s, 20, "seconds of load");
ABSL_FLAG(std::string, sqlite_synchronous, "NORMAL", "stores' synchronous mode: FULL or NORMAL");
ABSL_FLAG(bool, plaintext, false,
          "run the nodes with --insecure_plaintext_transport (no CurveZMQ), like the Rust "
          "reference's local benchmark; reported as \"transport\": \"plaintext\"");
ABSL_FLAG(int64_t, batch_size_bytes, 1000000, "parameters.batch_size_bytes");
ABSL_FLAG(int64_t, max_batch_delay_ms, 200, "parameters.max_batch_delay_ms");
ABSL_FLAG(int64_t, min_batch_delay_ms, 25,
          "parameters.min_batch_delay_ms: seal early once nothing is being replicated (docs/node.md)");
ABSL_FLAG(int64_t, max_pending_bytes, 0, "parameters.max_pending_bytes (0: the default)");
ABSL_FLAG(int64_t, committed_output_retention_bytes, 0,
          "parameters.committed_output_retention_bytes (0: the default; long runs need a smaller one)");
ABSL_FLAG(int64_t, header_size, 1, "parameters.header_size (batch digests per header)");
ABSL_FLAG(int64_t, max_header_delay_ms, 200, "parameters.max_header_delay_ms");
ABSL_FLAG(int64_t, retry_initial_interval_ms, 1000,
          "parameters.retry_initial_interval_ms (0: the node's default, 200)");
ABSL_FLAG(std::vector<std::string>, node_flags, {},
          "extra flags for every `narwhal_node run`, comma-separated (A/B comparisons)");
ABSL_FLAG(int64_t, sample_every, 100, "every n-th transaction is a sample for e2e latency");
ABSL_FLAG(double, drain_s, 15, "after the load, wait at most this long for the last commits");
ABSL_FLAG(std::string, dir, "", "working directory (default: a fresh one under $TMPDIR or /tmp)");
ABSL_FLAG(bool, keep, false, "keep the working directory (logs, stores)");
ABSL_FLAG(std::string, node_binary, "", "narwhal_node (default: from runfiles)");
ABSL_FLAG(bool, sweep, false,
          "run one benchmark per rate of --sweep_rates (a fresh committee each), print a table and "
          "one JSON line per point, and plot committed throughput against end-to-end latency "
          "(--sweep_plot)");
ABSL_FLAG(std::vector<std::string>, sweep_rates,
          std::vector<std::string>({"25000", "50000", "75000", "100000", "125000", "150000"}),
          "offered rates of the sweep, tx/s, comma-separated");
ABSL_FLAG(double, rss_every_s, 10,
          "sample every process's resident memory (VmRSS) this often during the run; the summary "
          "prints the samples and each process's peak (VmHWM)");
ABSL_FLAG(std::string, sweep_plot, "local_bench_sweep.svg", "the sweep's plot (SVG)");

namespace narwhal::node {
namespace {

struct TailResult {
  uint64_t transactions = 0;
  uint64_t sub_dags = 0;
  int64_t last_commit_unix_us = 0;
  int64_t first_created_unix_us = INT64_MAX;
  std::vector<double> consensus_ms;  // own batches
  std::vector<double> e2e_ms;        // sample transactions
  // Batches committed more than once (same digest in two certificates),
  // and their transactions (counted once in `transactions`).
  // digest -> (sub-DAG index, certificate author, round) where first seen.
  absl::flat_hash_map<std::string, std::tuple<uint64_t, uint32_t, uint64_t>> batch_digests;
  uint64_t duplicate_batches = 0;
  uint64_t duplicate_transactions = 0;
  // Sample transactions seen twice in batches with distinct digests.
  absl::flat_hash_set<std::pair<uint64_t, uint64_t>> samples;
  uint64_t duplicate_samples = 0;
  std::string error;
};

std::atomic<bool> g_stop{false};

// A /proc/<pid>/status field in kB ("VmRSS", "VmHWM"); -1 if unreadable.
int64_t ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    int64_t kb = -1;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(line.substr(field.size() + 1), "kB")), &kb)) {
      return kb;
    }
  }
  return -1;
}

// Resident memory of every process of the committee over the run.
struct RssSeries {
  std::string name;  // "primary 0", "worker 1.0"
  pid_t pid = -1;
  std::vector<int64_t> samples_mb;
  int64_t peak_mb = -1;  // VmHWM at the end
};
void OnSignal(int) { g_stop.store(true); }

void Tail(void* context, const std::string& address, const std::atomic<bool>* done,
          const std::atomic<uint64_t>* expected, const std::atomic<bool>* stop, TailResult* out) {
  OutputClient::Options options;
  options.detail = client::PREFIXED_TRANSACTIONS;
  options.transaction_prefix = "S";
  auto tail = OutputClient::Connect(context, address, options);
  if (!tail.ok()) {
    out->error = std::string(tail.status().message());
    return;
  }
  while (!g_stop.load() && !stop->load()) {
    if (done->load() && out->transactions >= expected->load()) break;
    auto m = (*tail)->Next(100);
    if (!m.ok()) {
      out->error = std::string(m.status().message());
      return;
    }
    if (!m->has_value() || !(*m)->has_sub_dag()) continue;
    const client::SubDag& sd = (*m)->sub_dag();
    ++out->sub_dags;
    const int64_t committed = sd.committed_at_unix_us();
    uint64_t txs = 0;
    for (const auto& c : sd.certificates()) {
      for (const auto& b : c.batches()) {
        auto [first, inserted] = out->batch_digests.try_emplace(b.digest(), sd.index(), c.author(), c.round());
        if (!inserted) {
          if (out->duplicate_batches < 5) {
            std::cerr << absl::StrFormat(
                "local_bench: %s: batch %s committed again in sub-DAG %u (certificate of authority %u, "
                "round %u); first in sub-DAG %u (authority %u, round %u)\n",
                address, HexEncode(b.digest()).substr(0, 8), sd.index(), c.author(), c.round(),
                std::get<0>(first->second), std::get<1>(first->second), std::get<2>(first->second));
          }
          ++out->duplicate_batches;
          out->duplicate_transactions += b.transaction_count();
          continue;
        }
        txs += b.transaction_count();
        if (b.created_at_unix_us() > 0 && committed > 0 && b.transaction_count() > 0) {
          out->consensus_ms.push_back((committed - b.created_at_unix_us()) / 1000.0);
          out->first_created_unix_us = std::min(out->first_created_unix_us, b.created_at_unix_us());
        }
        for (const std::string& tx : b.transactions()) {
          auto info = ParseBenchTransaction(tx);
          if (info && info->sample && !out->samples.insert({info->client_id, info->counter}).second) {
            ++out->duplicate_samples;
            continue;
          }
          if (info && info->sample && committed > 0) {
            out->e2e_ms.push_back((committed - info->submitted_unix_us) / 1000.0);
          }
        }
      }
    }
    out->transactions += txs;
    if (txs > 0) out->last_commit_unix_us = std::max(out->last_commit_unix_us, committed);
  }
}

// One benchmark point: what the summary and the JSON line report.
struct Point {
  double rate = 0;
  uint64_t submitted = 0, accepted = 0, refused = 0, not_sent = 0, committed = 0;
  double tps_consensus = 0, tps_e2e = 0;
  double consensus_ms_p50 = 0, e2e_ms_p50 = 0, e2e_ms_p99 = 0;
  bool drained = false;
  bool ok = false;  // every process alive to the end and something committed
  std::string json;
};

// Runs a committee at `rate` tx/s for --duration_s and measures it; nullopt
// if the committee could not be started (the reason is printed).
std::optional<Point> RunPoint(const std::string& binary, double rate) {
  std::string dir = absl::GetFlag(FLAGS_dir);
  // A sweep's points each get a fresh committee, so a folder of their own.
  if (!dir.empty() && absl::GetFlag(FLAGS_sweep)) dir = absl::StrCat(dir, "/rate-", static_cast<int64_t>(rate));
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = absl::StrCat(tmp ? tmp : "/tmp", "/narwhal-bench-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::cerr << "local_bench: mkdtemp failed" << std::endl;
      return std::nullopt;
    }
    dir = tmpl;
  }
  const int nodes = absl::GetFlag(FLAGS_nodes), workers = absl::GetFlag(FLAGS_workers);
  const double duration = absl::GetFlag(FLAGS_duration_s);
  const int tx_size = absl::GetFlag(FLAGS_tx_size);
  const std::string sync = absl::GetFlag(FLAGS_sqlite_synchronous);

  LocalClusterOptions co;
  co.nodes = nodes;
  co.workers = workers;
  co.dir = dir;
  co.node_binary = binary;
  co.committee_flags = {
      absl::StrCat("--sqlite_synchronous=", sync),
      absl::StrCat("--batch_size_bytes=", absl::GetFlag(FLAGS_batch_size_bytes)),
      absl::StrCat("--max_batch_delay_ms=", absl::GetFlag(FLAGS_max_batch_delay_ms)),
      absl::StrCat("--min_batch_delay_ms=", absl::GetFlag(FLAGS_min_batch_delay_ms)),
      absl::StrCat("--max_pending_bytes=", absl::GetFlag(FLAGS_max_pending_bytes)),
      absl::StrCat("--committed_output_retention_bytes=", absl::GetFlag(FLAGS_committed_output_retention_bytes)),
      absl::StrCat("--header_size=", absl::GetFlag(FLAGS_header_size)),
      absl::StrCat("--max_header_delay_ms=", absl::GetFlag(FLAGS_max_header_delay_ms)),
      absl::StrCat("--retry_initial_interval_ms=", absl::GetFlag(FLAGS_retry_initial_interval_ms))};
  const bool plaintext = absl::GetFlag(FLAGS_plaintext);
  if (plaintext) co.run_flags.push_back("--insecure_plaintext_transport");
  for (const std::string& f : absl::GetFlag(FLAGS_node_flags)) co.run_flags.push_back(f);
  auto cluster = LocalCluster::Create(co);
  if (!cluster.ok()) {
    std::cerr << "local_bench: " << cluster.status().message() << std::endl;
    return std::nullopt;
  }
  std::cerr << "local_bench: " << nodes << " authorities x (primary + " << workers
            << " worker) as separate processes, ports from " << (*cluster)->base_port()
            << ", working directory " << dir << std::endl;
  if (absl::Status s = (*cluster)->StartAll(); !s.ok()) {
    std::cerr << "local_bench: " << s.message() << std::endl;
    return std::nullopt;
  }
  ClientContext context;
  // Wait until every primary serves its output (a heartbeat arrives).
  for (int i = 0; i < nodes; ++i) {
    OutputClient::Options options;
    options.detail = client::NO_TRANSACTIONS;
    options.from_index = UINT64_MAX / 2;
    auto probe = OutputClient::Connect(context.get(), (*cluster)->output_address(i), options);
    bool up = false;
    for (int k = 0; k < 30 && probe.ok() && !up && !g_stop.load(); ++k) {
      auto m = (*probe)->Next(1000);
      up = m.ok() && m->has_value() && (*m)->has_heartbeat();
    }
    if (!up) {
      std::cerr << "local_bench: authority " << i << " did not come up; logs in " << dir << std::endl;
      return std::nullopt;
    }
  }

  std::atomic<bool> load_done{false};
  std::atomic<bool> tails_stop{false};
  std::atomic<uint64_t> expected{UINT64_MAX};
  std::vector<TailResult> tails(nodes);
  std::vector<std::thread> tail_threads;
  for (int i = 0; i < nodes; ++i) {
    tail_threads.emplace_back(Tail, context.get(), (*cluster)->output_address(i), &load_done,
                              &expected, &tails_stop, &tails[i]);
  }
  std::vector<RssSeries> rss;
  for (const auto& [authority, role, pid] : (*cluster)->RunningProcesses()) {
    RssSeries r;
    r.name = role == 0 ? absl::StrCat("primary ", authority) : absl::StrCat("worker ", authority, ".", role - 1);
    r.pid = pid;
    rss.push_back(std::move(r));
  }
  std::atomic<bool> rss_stop{false};
  std::thread rss_thread([&] {
    const double every_s = absl::GetFlag(FLAGS_rss_every_s);
    if (every_s <= 0) return;
    int64_t next = NowUnixUs();
    while (!rss_stop.load() && !g_stop.load()) {
      if (NowUnixUs() >= next) {
        for (RssSeries& r : rss) r.samples_mb.push_back(ProcStatusKb(r.pid, "VmRSS") / 1024);
        next += static_cast<int64_t>(every_s * 1e6);
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  const int clients = nodes * workers;
  std::vector<absl::StatusOr<SubmitReport>> reports(clients, absl::UnknownError("not run"));
  std::vector<std::thread> submitters;
  const int64_t load_start = NowUnixUs();
  for (int c = 0; c < clients; ++c) {
    submitters.emplace_back([&, c] {
      SubmitOptions so;
      so.address = (*cluster)->transactions_address(c / workers, c % workers);
      so.tx_size = tx_size;
      so.rate = rate / clients;
      so.duration_s = duration;
      so.sample_every = absl::GetFlag(FLAGS_sample_every);
      so.wait_s = absl::GetFlag(FLAGS_drain_s);
      so.client_id = c + 1;
      so.stop = &g_stop;
      reports[c] = RunSubmit(context.get(), so);
    });
  }
  for (auto& t : submitters) t.join();
  uint64_t submitted = 0, accepted = 0, refused = 0, not_sent = 0;
  for (const auto& r : reports) {
    if (!r.ok()) {
      std::cerr << "local_bench: client failed: " << r.status().message() << std::endl;
      continue;
    }
    submitted += r->submitted;
    accepted += r->accepted;
    refused += r->refused_backpressure + r->refused_oversized + r->refused_other;
    not_sent += r->not_sent;
  }
  // Drain: wait for every transaction a worker sequenced (they all commit
  // eventually) to show up in every authority's stream.
  const uint64_t sequenced = submitted - refused;
  expected.store(sequenced);
  load_done.store(true);
  const int64_t drain_until = NowUnixUs() + int64_t(absl::GetFlag(FLAGS_drain_s) * 1e6);
  bool drained = false;
  while (!drained && NowUnixUs() < drain_until && !g_stop.load()) {
    absl::SleepFor(absl::Milliseconds(100));
    drained = true;
    for (const TailResult& t : tails) drained &= t.transactions >= sequenced || !t.error.empty();
  }
  tails_stop.store(true);
  for (auto& t : tail_threads) t.join();
  rss_stop.store(true);
  rss_thread.join();
  int64_t rss_peak_mb = 0;
  for (RssSeries& r : rss) {
    r.peak_mb = ProcStatusKb(r.pid, "VmHWM") / 1024;
    rss_peak_mb = std::max(rss_peak_mb, r.peak_mb);
  }
  absl::Status alive = (*cluster)->CheckAlive();
  (*cluster)->StopAll();

  const TailResult& t0 = tails[0];
  std::vector<double> consensus_ms, e2e_ms = t0.e2e_ms;
  int64_t first_created = INT64_MAX, last_commit = 0;
  for (const TailResult& t : tails) {
    consensus_ms.insert(consensus_ms.end(), t.consensus_ms.begin(), t.consensus_ms.end());
    first_created = std::min(first_created, t.first_created_unix_us);
    if (!t.error.empty()) std::cerr << "local_bench: tail error: " << t.error << std::endl;
  }
  last_commit = t0.last_commit_unix_us;
  const uint64_t committed = t0.transactions;
  const double consensus_s = first_created < last_commit ? (last_commit - first_created) / 1e6 : 0;
  const double e2e_s = load_start < last_commit ? (last_commit - load_start) / 1e6 : 0;
  const double tps_consensus = consensus_s > 0 ? committed / consensus_s : 0;
  const double tps_e2e = e2e_s > 0 ? committed / e2e_s : 0;
  const double c50 = Percentile(consensus_ms, 0.5);
  const double e50 = Percentile(e2e_ms, 0.5), e99 = Percentile(e2e_ms, 0.99);

  std::cout << "\n-----------------------------------------\n SUMMARY (narwhal local benchmark)\n"
            << "-----------------------------------------\n"
            << absl::StrFormat(
                   " Committee: %d authorities, %d worker(s) each, separate processes\n"
                   " Transaction size: %d B, offered rate: %.0f tx/s for %.0f s\n"
                   " SQLite synchronous: %s\n"
                   " Submitted: %u, accepted: %u, refused: %u, not sent: %u\n"
                   " Committed (authority 0): %u transactions in %u sub-DAGs%s\n Batches committed twice (not counted): %u, with %u transactions\n"
                   " Consensus TPS: %.0f tx/s, consensus latency p50: %.0f ms\n"
                   " End-to-end TPS: %.0f tx/s, end-to-end latency p50: %.0f ms, p99: %.0f ms\n"
                   " Processes: %s\n",
                   nodes, workers, tx_size, rate, duration, sync, submitted, accepted, refused,
                   not_sent, committed, t0.sub_dags, drained ? "" : " (not drained)", t0.duplicate_batches,
                   t0.duplicate_transactions, tps_consensus,
                   c50, tps_e2e, e50, e99, alive.ok() ? "all alive until the end" : alive.message())
            << "-----------------------------------------" << std::endl;
  std::cout << " Resident memory (MB): peak (VmHWM), then VmRSS every " << absl::GetFlag(FLAGS_rss_every_s)
            << " s\n";
  for (const RssSeries& r : rss) {
    std::cout << absl::StrFormat("   %-12s peak %5d |", r.name, r.peak_mb);
    for (int64_t mb : r.samples_mb) std::cout << " " << mb;
    std::cout << "\n";
  }
  if (absl::GetFlag(FLAGS_keep)) {
    std::cout << " Logs and stores kept in " << dir << std::endl;
  } else {
    std::system(absl::StrCat("rm -rf '", dir, "'").c_str());
  }
  Point point;
  point.rate = rate;
  point.submitted = submitted;
  point.accepted = accepted;
  point.refused = refused;
  point.not_sent = not_sent;
  point.committed = committed;
  point.tps_consensus = tps_consensus;
  point.tps_e2e = tps_e2e;
  point.consensus_ms_p50 = c50;
  point.e2e_ms_p50 = e50;
  point.e2e_ms_p99 = e99;
  point.drained = drained;
  point.ok = alive.ok() && committed > 0;
  point.json = absl::StrFormat(
                   "{\"nodes\": %d, \"workers\": %d, \"tx_size\": %d, \"rate\": %.0f, "
                   "\"duration_s\": %.1f, \"sqlite_synchronous\": \"%s\", \"submitted\": %u, "
                   "\"accepted\": %u, \"committed_transactions\": %u, \"tps_consensus\": %.0f, "
                   "\"tps_e2e\": %.0f, \"latency_consensus_ms_p50\": %.0f, "
                   "\"latency_e2e_ms_p50\": %.0f, \"latency_e2e_ms_p99\": %.0f, \"drained\": %s, "
                   "\"duplicate_batches\": %u, \"duplicate_samples\": %u, \"transport\": \"%s\", "
                   "\"rss_peak_mb_max\": %d}",
                   nodes, workers, tx_size, rate, duration, sync, submitted, accepted, committed,
                   tps_consensus, tps_e2e, c50, e50, e99, drained ? "true" : "false", t0.duplicate_batches,
                   t0.duplicate_samples, plaintext ? "plaintext" : "curvezmq", rss_peak_mb);
  return point;
}

// The sweep's figure, like the Narwhal and Bullshark papers': committed
// throughput (x) against end-to-end latency (y), p50 and p99, one marker
// per offered rate.
std::string SweepSvg(const std::vector<Point>& points, const std::string& title) {
  const double w = 720, h = 440, left = 80, right = 30, top = 40, bottom = 60;
  double max_x = 1, max_y = 1;
  for (const Point& p : points) {
    max_x = std::max(max_x, p.tps_e2e);
    max_y = std::max(max_y, p.e2e_ms_p99);
  }
  // Round the axes up to a 1-2-5 step.
  auto nice = [](double v) {
    double step = std::pow(10, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      if (m * step >= v) return m * step;
    }
    return 10 * step;
  };
  max_x = nice(max_x * 1.05);
  max_y = nice(max_y * 1.05);
  auto X = [&](double v) { return left + (w - left - right) * v / max_x; };
  auto Y = [&](double v) { return h - bottom - (h - top - bottom) * v / max_y; };
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%.0f\" y=\"24\" font-size=\"14\">%s</text>\n",
      w, h, left, title);
  for (int i = 0; i <= 5; ++i) {
    const double vx = max_x * i / 5, vy = max_y * i / 5;
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0fk</text>\n"
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
                          X(vx), Y(0), X(vx), Y(max_y), X(vx), h - bottom + 18, vx / 1000, X(0), Y(vy), X(max_x),
                          Y(vy), left - 6, Y(vy) + 4, vy);
  }
  absl::StrAppendFormat(&svg,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">committed throughput (tx/s)</text>\n"
                        "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">end-to-end "
                        "latency (ms)</text>\n",
                        (left + w - right) / 2, h - 16, (top + h - bottom) / 2);
  for (const auto& [series, color] : {std::pair<int, const char*>{0, "#1f77b4"}, {1, "#d62728"}}) {
    std::string path;
    for (const Point& p : points) {
      const double y = series == 0 ? p.e2e_ms_p50 : p.e2e_ms_p99;
      absl::StrAppendFormat(&path, "%s%.1f,%.1f ", path.empty() ? "M" : "L", X(p.tps_e2e), Y(y));
      absl::StrAppendFormat(&svg,
                            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>offered %.0f tx/s: "
                            "%.0f tx/s, p50 %.0f ms, p99 %.0f ms</title></circle>\n",
                            X(p.tps_e2e), Y(y), color, p.rate, p.tps_e2e, p.e2e_ms_p50, p.e2e_ms_p99);
    }
    absl::StrAppendFormat(&svg, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", path, color);
    absl::StrAppendFormat(&svg, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%s</text>\n", w - right - 120,
                          top + 16 + 16 * series, color, series == 0 ? "p50 latency" : "p99 latency");
  }
  svg += "</svg>\n";
  return svg;
}

int Main(const char* argv0) {
  auto binary = absl::GetFlag(FLAGS_node_binary).empty()
                    ? FindBinary("node/narwhal_node", argv0)
                    : absl::StatusOr<std::string>(absl::GetFlag(FLAGS_node_binary));
  if (!binary.ok()) {
    std::cerr << "local_bench: " << binary.status().message() << std::endl;
    return 1;
  }
  if (!absl::GetFlag(FLAGS_sweep)) {
    std::optional<Point> p = RunPoint(*binary, absl::GetFlag(FLAGS_rate));
    if (!p.has_value()) return 1;
    std::cout << p->json << std::endl;
    return p->ok ? 0 : 1;
  }
  std::vector<double> rates;
  for (const std::string& r : absl::GetFlag(FLAGS_sweep_rates)) {
    double v = 0;
    if (!absl::SimpleAtod(r, &v) || v <= 0) {
      std::cerr << "local_bench: --sweep_rates: bad rate '" << r << "'" << std::endl;
      return 2;
    }
    rates.push_back(v);
  }
  std::vector<Point> points;
  bool all_ok = true;
  for (double rate : rates) {
    if (g_stop.load()) break;
    std::optional<Point> p = RunPoint(*binary, rate);
    if (!p.has_value()) return 1;
    all_ok &= p->ok;
    std::cout << p->json << std::endl;
    points.push_back(*std::move(p));
  }
  std::cout << "\n offered tx/s | committed tx/s | e2e p50 ms | e2e p99 ms | consensus p50 ms | refused\n"
            << " -------------|----------------|------------|------------|------------------|--------\n";
  for (const Point& p : points) {
    std::cout << absl::StrFormat(" %12.0f | %14.0f | %10.0f | %10.0f | %16.0f | %u\n", p.rate, p.tps_e2e,
                                 p.e2e_ms_p50, p.e2e_ms_p99, p.consensus_ms_p50, p.refused);
  }
  const std::string plot = absl::GetFlag(FLAGS_sweep_plot);
  const std::string title = absl::StrFormat(
      "narwhal local benchmark: %d authorities, %d-byte transactions, %.0f s per point, SQLite %s, %s",
      absl::GetFlag(FLAGS_nodes), absl::GetFlag(FLAGS_tx_size), absl::GetFlag(FLAGS_duration_s),
      absl::GetFlag(FLAGS_sqlite_synchronous), absl::GetFlag(FLAGS_plaintext) ? "plaintext" : "CurveZMQ");
  std::ofstream out(plot);
  out << SweepSvg(points, title);
  out.close();
  std::cout << (out ? " Plot written to " : " Could not write the plot to ") << plot << std::endl;
  return all_ok && out ? 0 : 1;
}

}  // namespace
}  // namespace narwhal::node

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "local_bench [--duration_s 20] [--rate 50000] [--tx_size 512] [--nodes 4] [--workers 1] "
      "[--sqlite_synchronous NORMAL|FULL] [--sweep [--sweep_rates 25000,50000,...] [--sweep_plot F.svg]]\n"
      "Starts a committee of narwhal_node processes on loopback, drives load, prints a summary "
      "and a JSON line, stops every process.");
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = narwhal::node::KeepLargeBuffersOnHeap(); !s.ok()) {
    std::cerr << "local_bench: heap tuning: " << s.message() << std::endl;
  }
  signal(SIGINT, narwhal::node::OnSignal);
  signal(SIGTERM, narwhal::node::OnSignal);
  return narwhal::node::Main(argv[0]);
}
