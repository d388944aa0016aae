// narwhal_client: submit load to a worker, or tail a primary's committed
// output. See docs/client_protocol.md for the wire protocol it speaks.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/types.h"
#include "node/client_lib.h"
#include "node/load.h"

ABSL_FLAG(std::string, worker, "", "submit: the worker's transactions_address (host:port)");
ABSL_FLAG(int, size, 512, "submit: transaction size in bytes (at least 25)");
ABSL_FLAG(double, rate, 1000, "submit: transactions per second");
ABSL_FLAG(double, duration_s, 10, "submit: seconds of load");
ABSL_FLAG(uint64_t, count, 0, "submit: send exactly this many transactions (0: rate * duration_s)");
ABSL_FLAG(uint64_t, sample_every, 100, "submit: every n-th transaction is a sample (starts with 'S')");
ABSL_FLAG(double, wait_s, 30, "submit: after sending, wait at most this long for acceptance");
ABSL_FLAG(std::string, output, "", "tail: the primary's output_address (host:port)");
ABSL_FLAG(uint64_t, from, 0, "tail: first consensus index");
ABSL_FLAG(std::string, detail, "all",
          "tail: all (every transaction), none (counts only), or samples (transactions starting "
          "with 'S')");
ABSL_FLAG(std::string, print, "subdags",
          "tail: subdags (one line per sub-DAG) or transactions (also one line per transaction, "
          "hex)");
ABSL_FLAG(int64_t, until_index, -1, "tail: exit after printing this index (-1: never)");
ABSL_FLAG(double, timeout_s, 0, "tail: exit after this many seconds (0: never)");

namespace narwhal::node {
namespace {

constexpr char kUsage[] = R"(narwhal_client SUBCOMMAND [flags]

Subcommands:
  submit --worker HOST:PORT [--size 512] [--rate R] [--duration_s D] [--count N]
      Sends transactions of --size bytes at --rate per second for --duration_s
      seconds to a worker's transactions_address, then waits for their
      acceptance (quorum reached, the primary has the batch). Prints a summary
      and, as its last line, a JSON report.

  tail --output HOST:PORT [--from INDEX] [--detail all|none|samples]
       [--print subdags|transactions] [--until_index I] [--timeout_s T]
      Streams a primary's committed output from consensus index INDEX: first
      what it already committed, then live. One line per sub-DAG:
        subdag INDEX leader=HEX round=R certificates=C batches=B transactions=T
      and with --print transactions one line per transaction after it:
        tx INDEX POSITION HEX
)";

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

int Submit() {
  SubmitOptions options;
  options.address = absl::GetFlag(FLAGS_worker);
  if (options.address.empty()) {
    std::cerr << "narwhal_client: submit: --worker is required" << std::endl;
    return 2;
  }
  if (absl::GetFlag(FLAGS_size) < int(kBenchTxHeaderBytes)) {
    std::cerr << "narwhal_client: submit: --size must be at least " << kBenchTxHeaderBytes << std::endl;
    return 2;
  }
  options.tx_size = absl::GetFlag(FLAGS_size);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.duration_s = absl::GetFlag(FLAGS_duration_s);
  options.count = absl::GetFlag(FLAGS_count);
  options.sample_every = absl::GetFlag(FLAGS_sample_every);
  options.wait_s = absl::GetFlag(FLAGS_wait_s);
  options.stop = &g_stop;
  ClientContext context;
  auto report = RunSubmit(context.get(), options);
  if (!report.ok()) {
    std::cerr << "narwhal_client: submit: " << report.status().message() << std::endl;
    return 1;
  }
  std::cout << absl::StrFormat(
                   "submitted %u transactions of %u bytes in %.1f s (%.0f tx/s) to %s\n"
                   "sequenced %u, refused %u (backpressure %u, oversized %u, other %u), "
                   "not sent (local queue full) %u\n"
                   "accepted %u; acceptance latency p50 %.1f ms, p99 %.1f ms",
                   report->submitted, options.tx_size, report->send_seconds,
                   report->submitted / std::max(report->send_seconds, 1e-9), options.address,
                   report->sequenced,
                   report->refused_backpressure + report->refused_oversized + report->refused_other,
                   report->refused_backpressure, report->refused_oversized, report->refused_other,
                   report->not_sent, report->accepted, report->acceptance_ms_p50,
                   report->acceptance_ms_p99)
            << "\n"
            << report->ToJson() << std::endl;
  return report->accepted == report->submitted ? 0 : 3;
}

int Tail() {
  const std::string address = absl::GetFlag(FLAGS_output);
  if (address.empty()) {
    std::cerr << "narwhal_client: tail: --output is required" << std::endl;
    return 2;
  }
  OutputClient::Options options;
  options.from_index = absl::GetFlag(FLAGS_from);
  const std::string detail = absl::GetFlag(FLAGS_detail);
  if (detail == "all") {
    options.detail = client::ALL_TRANSACTIONS;
  } else if (detail == "none") {
    options.detail = client::NO_TRANSACTIONS;
  } else if (detail == "samples") {
    options.detail = client::PREFIXED_TRANSACTIONS;
    options.transaction_prefix = "S";
  } else {
    std::cerr << "narwhal_client: tail: --detail must be all, none or samples" << std::endl;
    return 2;
  }
  const bool print_txs = absl::GetFlag(FLAGS_print) == "transactions";
  const int64_t until = absl::GetFlag(FLAGS_until_index);
  const double timeout_s = absl::GetFlag(FLAGS_timeout_s);
  const int64_t deadline = timeout_s > 0 ? NowUnixUs() + int64_t(timeout_s * 1e6) : INT64_MAX;
  ClientContext context;
  auto tail = OutputClient::Connect(context.get(), address, options);
  if (!tail.ok()) {
    std::cerr << "narwhal_client: tail: " << tail.status().message() << std::endl;
    return 1;
  }
  while (!g_stop.load() && NowUnixUs() < deadline) {
    auto m = (*tail)->Next(200);
    if (!m.ok()) {
      std::cerr << "narwhal_client: tail: " << m.status().message() << std::endl;
      return 1;
    }
    if (!m->has_value() || !(*m)->has_sub_dag()) continue;
    const client::SubDag& sd = (*m)->sub_dag();
    uint64_t batches = 0, txs = 0;
    for (const auto& c : sd.certificates()) {
      batches += c.batches_size();
      for (const auto& b : c.batches()) txs += b.transaction_count();
    }
    std::cout << "subdag " << sd.index() << " leader=" << HexEncode(sd.leader())
              << " round=" << sd.leader_round() << " certificates=" << sd.certificates_size()
              << " batches=" << batches << " transactions=" << txs << "\n";
    if (print_txs) {
      uint64_t position = 0;
      for (const auto& c : sd.certificates()) {
        for (const auto& b : c.batches()) {
          for (const std::string& tx : b.transactions()) {
            std::cout << "tx " << sd.index() << " " << position++ << " " << HexEncode(tx) << "\n";
          }
        }
      }
    }
    std::cout.flush();
    if (until >= 0 && int64_t(sd.index()) >= until) break;
  }
  return 0;
}

}  // namespace
}  // namespace narwhal::node

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(narwhal::node::kUsage);
  std::string command;
  std::vector<char*> args(argv, argv + argc);
  if (argc >= 2 && argv[1][0] != '-') {
    command = argv[1];
    args.erase(args.begin() + 1);
  }
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  std::signal(SIGINT, narwhal::node::OnSignal);
  std::signal(SIGTERM, narwhal::node::OnSignal);
  if (command == "submit") return narwhal::node::Submit();
  if (command == "tail") return narwhal::node::Tail();
  std::cerr << narwhal::node::kUsage << std::endl;
  return command == "help" ? 0 : 2;
}
