// narwhal_node: the production node. Subcommands:
//   keygen     write an authority's key file
//   committee  write a committee + parameters JSON (and optionally keys)
//   run        run the primary and/or workers of one authority
// See docs/node.md.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"
#include "node/heap_tuning.h"
#include "node/node_config.h"
#include "node/node_runner.h"
#include "node/status_client.h"

// keygen
ABSL_FLAG(std::string, out, "", "keygen, committee: the file to write");
ABSL_FLAG(std::string, public_out, "",
          "keygen: also write the public keys alone to this file (what other hosts need; see "
          "docs/deploy.md)");
// committee
ABSL_FLAG(int, nodes, 4, "committee: number of authorities");
ABSL_FLAG(int, workers, 1, "committee: workers per authority");
ABSL_FLAG(int, base_port, 0,
          "committee: first TCP port; authority i uses base_port + i*(2+2*workers) onwards "
          "(primary, output, then per worker: worker-to-worker, transactions)");
ABSL_FLAG(std::string, keys_dir, "",
          "committee: directory holding, for each authority I, public-I.json (its public keys, from "
          "keygen --public_out) or key-I.json (a whole key file; see --generate_keys)");
ABSL_FLAG(bool, generate_keys, false,
          "committee: write a fresh key-I.json into --keys_dir for every authority that has none");
ABSL_FLAG(std::vector<std::string>, hosts, {},
          "committee: comma-separated hosts, one per authority or one for all (default 127.0.0.1)");
ABSL_FLAG(int64_t, batch_size_bytes, 0, "committee: parameters.batch_size_bytes (0: default)");
ABSL_FLAG(int64_t, max_batch_delay_ms, 0, "committee: parameters.max_batch_delay_ms (0: default)");
ABSL_FLAG(int64_t, min_batch_delay_ms, 0, "committee: parameters.min_batch_delay_ms (0: default)");
ABSL_FLAG(int64_t, max_pending_bytes, 0, "committee: parameters.max_pending_bytes (0: default)");
ABSL_FLAG(int64_t, committed_output_retention_bytes, 0,
          "committee: parameters.committed_output_retention_bytes (0: default)");
ABSL_FLAG(int64_t, header_size, 0, "committee: parameters.header_size (0: default)");
ABSL_FLAG(int64_t, max_header_delay_ms, 0, "committee: parameters.max_header_delay_ms (0: default)");
ABSL_FLAG(int64_t, gc_depth, 0, "committee: parameters.gc_depth (0: default)");
ABSL_FLAG(int64_t, leader_timeout_ms, 0, "committee: parameters.leader_timeout_ms (0: default)");
ABSL_FLAG(int64_t, sync_retry_delay_ms, 0, "committee: parameters.sync_retry_delay_ms (0: default)");
ABSL_FLAG(int64_t, retry_initial_interval_ms, 0,
          "committee: parameters.retry_initial_interval_ms (0: default)");
ABSL_FLAG(std::string, sqlite_synchronous, "",
          "committee: parameters.sqlite_synchronous, FULL (default) or NORMAL");
// run
ABSL_FLAG(std::string, config, "", "run, status: the committee + parameters JSON file");
ABSL_FLAG(std::string, keys, "", "run: this authority's key file");
ABSL_FLAG(int64_t, authority, -1, "run, status: this authority's index in the committee");
ABSL_FLAG(std::string, role, "all",
          "run, status: primary, worker:K, or all (primary and every worker in one process)");
ABSL_FLAG(std::string, metrics_address, "",
          "run: host:port to serve Prometheus metrics on (GET /metrics; docs/metrics.md); empty: off. "
          "Unauthenticated: bind it to an address only your monitoring reaches");
ABSL_FLAG(int, timeout_ms, 3000, "status: how long to wait for each role's answer");
ABSL_FLAG(std::string, store, "",
          "run: directory for the stores (primary.db, worker-K.db), created if missing");
ABSL_FLAG(int, stats_interval_s, 10, "run: log statistics this often (0: never)");
ABSL_FLAG(bool, executor_reads_worker_stores, true,
          "run: the primary reads committed batches from its workers' store files in --store "
          "when they are there (read-only), asking the workers only for the rest");
ABSL_FLAG(bool, sqlite_background_checkpoint, true,
          "run: SQLite WAL checkpoints on a thread of each store instead of inside the commit "
          "that crosses the checkpoint size (which blocks the event loop meanwhile)");
ABSL_FLAG(bool, insecure_plaintext_transport, false,
          "run: BENCHMARKS ONLY. Plain TCP without CurveZMQ: no encryption, and peers are not "
          "authenticated (any process reaching the ports can pose as a member).");

namespace narwhal::node {
namespace {

constexpr char kUsage[] = R"(narwhal_node SUBCOMMAND [flags]

Subcommands:
  keygen --out FILE [--public_out PUBFILE]
      Writes a new key file for one authority (refuses if FILE exists): an Ed25519 seed (signs headers
      and votes) and a CurveZMQ keypair (authenticates its network traffic),
      with both public keys. Keep it secret (mode 600). --public_out also
      writes the two public keys alone: the file to send to whoever builds
      the committee file.

  committee --nodes N --workers W --base_port P --keys_dir DIR --out FILE
            [--generate_keys] [--hosts H1,H2,...] [parameter flags]
      Writes a committee + parameters JSON for N authorities with W workers
      each, on consecutive ports from P (authority i: P + i*(2+2W) ...), on
      127.0.0.1 unless --hosts is given. Authority I's public keys are read
      from DIR/public-I.json, or else DIR/key-I.json; --generate_keys first
      writes the missing key-I.json (a test cluster on one machine).

  run --config FILE --keys FILE --authority I --role primary|worker:K|all
      --store DIR
      Runs the primary and/or workers of authority I. Each role can run as
      its own process (--role primary, --role worker:0, ...) or all in one
      (--role all). Stores: DIR/primary.db, DIR/worker-K.db. Any config or
      key error is reported with the file and field, and nothing starts.
      SIGINT or SIGTERM stops it cleanly. --metrics_address HOST:PORT serves
      Prometheus metrics (docs/metrics.md).

  status --config FILE --authority I [--role primary|worker:K|all]
      Asks each role of authority I (over its client ports) whether it is
      healthy, and prints one line per role: healthy, or degraded and why
      (behind the others, own certificates not committed, nothing committed,
      peers unreachable, pending limit, store disk). Roles are asked one
      after another, each within --timeout_ms. Exit status: 0 every role
      answered healthy; 1 every role answered, one is degraded (which may be
      a peer's fault: a peer down makes every other authority degraded);
      3 a role did not answer (down, or its client port unreachable);
      2 bad usage or config. Exit 3 is the "restart me" signal; 1 is "look".

Each flag below says which subcommand uses it.)";

int Fail(const absl::Status& status) {
  std::cerr << "narwhal_node: error: " << status.message() << std::endl;
  return status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kNotFound
             ? 2
             : 1;
}

int Keygen() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return Fail(absl::InvalidArgumentError("keygen: --out is required"));
  // A key file is an authority's identity: replacing it by accident makes
  // the committee file wrong for this host (seen in the deploy.md walk).
  if (struct stat st; ::stat(out.c_str(), &st) == 0) {
    return Fail(absl::AlreadyExistsError(absl::StrCat("keygen: ", out,
                                                      " exists; it may be this authority's key: move it away "
                                                      "first if you really mean to replace it")));
  }
  auto file = GenerateKeyFile();
  if (!file.ok()) return Fail(file.status());
  if (absl::Status s = WriteFile(out, ToJson(*file), 0600); !s.ok()) return Fail(s);
  std::cout << "wrote " << out << " (ed25519 " << file->ed25519_public_key() << ", curve "
            << file->curve_public_key() << ")" << std::endl;
  if (const std::string pub_out = absl::GetFlag(FLAGS_public_out); !pub_out.empty()) {
    auto pub = PublicPart(*file);
    if (!pub.ok()) return Fail(pub.status());
    if (absl::Status s = WriteFile(pub_out, ToJson(*pub), 0644); !s.ok()) return Fail(s);
    std::cout << "wrote " << pub_out << " (public keys only)" << std::endl;
  }
  return 0;
}

int MakeCommitteeFile() {
  CommitteeSpec spec;
  spec.nodes = absl::GetFlag(FLAGS_nodes);
  spec.workers = absl::GetFlag(FLAGS_workers);
  spec.base_port = absl::GetFlag(FLAGS_base_port);
  spec.hosts = absl::GetFlag(FLAGS_hosts);
  const std::string dir = absl::GetFlag(FLAGS_keys_dir);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return Fail(absl::InvalidArgumentError("committee: --out is required"));
  if (dir.empty()) return Fail(absl::InvalidArgumentError("committee: --keys_dir is required"));
  if (spec.nodes < 1) return Fail(absl::InvalidArgumentError("--nodes: must be at least 1"));
  if (absl::GetFlag(FLAGS_generate_keys)) ::mkdir(dir.c_str(), 0700);
  for (int i = 0; i < spec.nodes; ++i) {
    // A host's public keys (public-I.json) are all a committee file needs.
    const std::string public_path = absl::StrCat(dir, "/public-", i, ".json");
    const std::string path = absl::StrCat(dir, "/key-", i, ".json");
    if (struct stat st; ::stat(public_path.c_str(), &st) == 0) {
      auto pub = LoadPublicKeys(public_path);
      if (!pub.ok()) return Fail(pub.status());
      spec.keys.push_back(*pub);
      continue;
    }
    auto text = ReadFile(path);
    if (!text.ok() && text.status().code() == absl::StatusCode::kNotFound) {
      if (!absl::GetFlag(FLAGS_generate_keys)) {
        return Fail(absl::NotFoundError(absl::StrCat("committee: neither ", public_path, " nor ", path,
                                                     " exists (keygen --public_out writes the first; "
                                                     "--generate_keys makes the second here)")));
      }
      auto file = GenerateKeyFile();
      if (!file.ok()) return Fail(file.status());
      if (absl::Status s = WriteFile(path, ToJson(*file), 0600); !s.ok()) return Fail(s);
      std::cout << "wrote " << path << std::endl;
    }
    // Load through the checking path, then keep the public parts.
    auto pub = LoadPublicKeys(path);
    if (!pub.ok()) return Fail(pub.status());
    spec.keys.push_back(*pub);
  }
  Parameters defaults;
  config::Parameters p = defaults.ToProto();
  if (int64_t v = absl::GetFlag(FLAGS_batch_size_bytes)) p.set_batch_size_bytes(v);
  if (int64_t v = absl::GetFlag(FLAGS_max_batch_delay_ms)) p.set_max_batch_delay_ms(v);
  if (int64_t v = absl::GetFlag(FLAGS_min_batch_delay_ms)) p.set_min_batch_delay_ms(v);
  if (int64_t v = absl::GetFlag(FLAGS_max_pending_bytes)) p.set_max_pending_bytes(v);
  if (int64_t v = absl::GetFlag(FLAGS_committed_output_retention_bytes)) p.set_committed_output_retention_bytes(v);
  if (int64_t v = absl::GetFlag(FLAGS_header_size)) p.set_header_size(v);
  if (int64_t v = absl::GetFlag(FLAGS_max_header_delay_ms)) p.set_max_header_delay_ms(v);
  if (int64_t v = absl::GetFlag(FLAGS_gc_depth)) p.set_gc_depth(v);
  if (int64_t v = absl::GetFlag(FLAGS_leader_timeout_ms)) p.set_leader_timeout_ms(v);
  if (int64_t v = absl::GetFlag(FLAGS_sync_retry_delay_ms)) p.set_sync_retry_delay_ms(v);
  if (int64_t v = absl::GetFlag(FLAGS_retry_initial_interval_ms)) p.set_retry_initial_interval_ms(v);
  if (std::string v = absl::GetFlag(FLAGS_sqlite_synchronous); !v.empty()) p.set_sqlite_synchronous(v);
  if (auto checked = Parameters::FromProto(p); !checked.ok()) return Fail(checked.status());
  spec.parameters = p;
  auto config = MakeCommittee(spec);
  if (!config.ok()) return Fail(config.status());
  if (absl::Status s = WriteFile(out, ToJson(*config)); !s.ok()) return Fail(s);
  std::cout << "wrote " << out << " (" << spec.nodes << " authorities, " << spec.workers
            << " worker(s) each, ports " << spec.base_port << ".."
            << spec.base_port + spec.nodes * PortsPerAuthority(spec.workers) - 1 << ")" << std::endl;
  return 0;
}

int Run() {
  RunOptions options;
  options.config_path = absl::GetFlag(FLAGS_config);
  options.keys_path = absl::GetFlag(FLAGS_keys);
  options.authority = absl::GetFlag(FLAGS_authority);
  options.role = absl::GetFlag(FLAGS_role);
  options.store_dir = absl::GetFlag(FLAGS_store);
  options.stats_interval_s = absl::GetFlag(FLAGS_stats_interval_s);
  options.insecure_plaintext_transport = absl::GetFlag(FLAGS_insecure_plaintext_transport);
  options.executor_reads_worker_stores = absl::GetFlag(FLAGS_executor_reads_worker_stores);
  options.sqlite_background_checkpoint = absl::GetFlag(FLAGS_sqlite_background_checkpoint);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  absl::Status s = RunNode(options);
  if (!s.ok()) return Fail(s);
  return 0;
}

int Status() {
  const std::string path = absl::GetFlag(FLAGS_config);
  if (path.empty()) return Fail(absl::InvalidArgumentError("status: --config is required"));
  auto config = LoadConfig(path);
  if (!config.ok()) return Fail(config.status());
  const int64_t authority = absl::GetFlag(FLAGS_authority);
  if (authority < 0 || authority >= static_cast<int64_t>(config->committee.size())) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("--authority ", authority, ": out of range, ", path,
                                                        " has ", config->committee.size(), " authorities")));
  }
  const AuthorityIndex self = static_cast<AuthorityIndex>(authority);
  auto roles = ParseRole(absl::GetFlag(FLAGS_role), *config, self);
  if (!roles.ok()) return Fail(roles.status());
  const std::vector<RoleStatus> statuses = AskStatus(*config, self, *roles, absl::GetFlag(FLAGS_timeout_ms));
  std::cout << FormatStatus(self, statuses) << std::flush;
  // 3: a role did not answer (down or unreachable); 1: every role answered
  // but one is degraded; 0: all healthy.
  for (const RoleStatus& s : statuses) {
    if (!s.reply.ok()) return 3;
  }
  return AllHealthy(statuses) ? 0 : 1;
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
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (rest.size() > 1) {
    std::cerr << "narwhal_node: unexpected argument " << rest[1] << "\n\n" << narwhal::node::kUsage << std::endl;
    return 2;
  }
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  if (absl::Status s = narwhal::node::KeepLargeBuffersOnHeap(); !s.ok()) {
    LOG(WARNING) << "heap tuning: " << s;
  }
  if (command == "keygen") return narwhal::node::Keygen();
  if (command == "committee") return narwhal::node::MakeCommitteeFile();
  if (command == "run") return narwhal::node::Run();
  if (command == "status") return narwhal::node::Status();
  std::cerr << (command.empty() ? "" : absl::StrCat("narwhal_node: unknown subcommand ", command, "\n\n"))
            << narwhal::node::kUsage << std::endl;
  return command == "help" ? 0 : 2;
}
