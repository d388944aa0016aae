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

// keygen
ABSL_FLAG(std::string, out, "", "keygen, committee: the file to write");
// committee
ABSL_FLAG(int, nodes, 4, "committee: number of authorities");
ABSL_FLAG(int, workers, 1, "committee: workers per authority");
ABSL_FLAG(int, base_port, 0,
          "committee: first TCP port; authority i uses base_port + i*(2+2*workers) onwards "
          "(primary, output, then per worker: worker-to-worker, transactions)");
ABSL_FLAG(std::string, keys_dir, "",
          "committee: directory holding key-I.json for each authority I (see --generate_keys)");
ABSL_FLAG(bool, generate_keys, false,
          "committee: write a fresh key-I.json into --keys_dir for every authority that has none");
ABSL_FLAG(std::vector<std::string>, hosts, {},
          "committee: comma-separated hosts, one per authority or one for all (default 127.0.0.1)");
ABSL_FLAG(int64_t, batch_size_bytes, 0, "committee: parameters.batch_size_bytes (0: default)");
ABSL_FLAG(int64_t, max_batch_delay_ms, 0, "committee: parameters.max_batch_delay_ms (0: default)");
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
ABSL_FLAG(std::string, config, "", "run: the committee + parameters JSON file");
ABSL_FLAG(std::string, keys, "", "run: this authority's key file");
ABSL_FLAG(int64_t, authority, -1, "run: this authority's index in the committee");
ABSL_FLAG(std::string, role, "all",
          "run: primary, worker:K, or all (primary and every worker in one process)");
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
  keygen --out FILE
      Writes a new key file for one authority: an Ed25519 seed (signs headers
      and votes) and a CurveZMQ keypair (authenticates its network traffic),
      with both public keys. Keep it secret.

  committee --nodes N --workers W --base_port P --keys_dir DIR --out FILE
            [--generate_keys] [--hosts H1,H2,...] [parameter flags]
      Writes a committee + parameters JSON for N authorities with W workers
      each, on consecutive ports from P (authority i: P + i*(2+2W) ...), on
      127.0.0.1 unless --hosts is given. Public keys are read from
      DIR/key-I.json; --generate_keys first writes the missing ones.

  run --config FILE --keys FILE --authority I --role primary|worker:K|all
      --store DIR
      Runs the primary and/or workers of authority I. Each role can run as
      its own process (--role primary, --role worker:0, ...) or all in one
      (--role all). Stores: DIR/primary.db, DIR/worker-K.db. Any config or
      key error is reported with the file and field, and nothing starts.
      SIGINT or SIGTERM stops it cleanly.

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
  auto file = GenerateKeyFile();
  if (!file.ok()) return Fail(file.status());
  if (absl::Status s = WriteFile(out, ToJson(*file), 0600); !s.ok()) return Fail(s);
  std::cout << "wrote " << out << " (ed25519 " << file->ed25519_public_key() << ", curve "
            << file->curve_public_key() << ")" << std::endl;
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
    const std::string path = absl::StrCat(dir, "/key-", i, ".json");
    auto text = ReadFile(path);
    if (!text.ok() && text.status().code() == absl::StatusCode::kNotFound &&
        absl::GetFlag(FLAGS_generate_keys)) {
      auto file = GenerateKeyFile();
      if (!file.ok()) return Fail(file.status());
      if (absl::Status s = WriteFile(path, ToJson(*file), 0600); !s.ok()) return Fail(s);
      std::cout << "wrote " << path << std::endl;
    }
    // Load through the checking path, then keep the public parts.
    auto keys = LoadKeys(path);
    if (!keys.ok()) return Fail(keys.status());
    KeyFile pub;
    pub.set_ed25519_public_key(PublicKeyHex(keys->signing.public_key));
    auto z85 = Z85Encode(keys->curve.public_key);
    if (!z85.ok()) return Fail(z85.status());
    pub.set_curve_public_key(*z85);
    spec.keys.push_back(pub);
  }
  Parameters defaults;
  config::Parameters p = defaults.ToProto();
  if (int64_t v = absl::GetFlag(FLAGS_batch_size_bytes)) p.set_batch_size_bytes(v);
  if (int64_t v = absl::GetFlag(FLAGS_max_batch_delay_ms)) p.set_max_batch_delay_ms(v);
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
  absl::Status s = RunNode(options);
  if (!s.ok()) return Fail(s);
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
  std::cerr << (command.empty() ? "" : absl::StrCat("narwhal_node: unknown subcommand ", command, "\n\n"))
            << narwhal::node::kUsage << std::endl;
  return command == "help" ? 0 : 2;
}
