// `narwhal_node run`: one process running the primary and/or workers of one
// authority on one EventLoop thread. Each role has its own ZmqTransport
// (CurveZMQ, one ZapAuthenticator for the process's context), its own
// SqliteStore (DIR/primary.db, DIR/worker-K.db) and its own Random seeded
// from /dev/urandom. The primary also runs the core's executor (with local
// reads of its workers' store files, WorkerStoreReader) and
// the output stream (OutputServer); each worker its client Ingress.
//
// Everything that can be checked before starting is checked first (config,
// keys, role, store directory), so a bad setup exits before any socket is
// bound or any store is written.
#ifndef NARWHAL_NODE_NODE_RUNNER_H_
#define NARWHAL_NODE_NODE_RUNNER_H_

#include <string>

#include "absl/status/status.h"

namespace narwhal::node {

struct RunOptions {
  std::string config_path;
  std::string keys_path;
  int64_t authority = -1;
  std::string role = "all";
  std::string store_dir;
  // Log a line of statistics this often (0: never).
  int stats_interval_s = 10;
  // Benchmarks only: plain TCP, no CurveZMQ (no encryption, and `from` is
  // whatever a peer claims). The Rust reference's local benchmark runs on
  // plain TCP too, so this is the like-for-like comparison.
  bool insecure_plaintext_transport = false;
  // The primary's executor reads committed batches from the store files of
  // this authority's workers in store_dir (read-only) when they are there,
  // and asks the workers only for the rest.
  bool executor_reads_worker_stores = true;
  // SqliteOptions::background_checkpoint for this process's stores.
  bool sqlite_background_checkpoint = true;
  // host:port where this process serves Prometheus metrics (GET /metrics);
  // empty: not served. Health is answered on the client sockets anyway.
  std::string metrics_address;
};

// Runs until SIGINT or SIGTERM. A non-OK status means it could not start
// (nothing was left half-started) or a fatal error stopped it.
absl::Status RunNode(const RunOptions& options);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_NODE_RUNNER_H_
