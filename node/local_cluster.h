// A committee of narwhal_node processes on loopback, for the local
// benchmark and the multi-process tests: picks free ports, writes keys and
// the committee file with `narwhal_node committee`, starts each role of each
// authority as its own OS process (`run --role primary`, `--role worker:K`),
// and kills them. Every child gets PR_SET_PDEATHSIG(SIGKILL), so none
// outlives the harness even if it crashes; the destructor stops the rest.
#ifndef NARWHAL_NODE_LOCAL_CLUSTER_H_
#define NARWHAL_NODE_LOCAL_CLUSTER_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "core/types.h"

namespace narwhal::node {

// A child process with stdout and stderr sent to a log file.
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                             const std::string& log_path);
  ~ChildProcess() { Stop(); }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_status_.has_value(); }
  void Signal(int sig);
  // The exit status (as from waitpid) if it ended within timeout_ms.
  std::optional<int> Wait(int timeout_ms);
  // SIGTERM, then SIGKILL after grace_ms.
  void Stop(int grace_ms = 5000);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// Where a sibling binary is at run time: under Bazel runfiles (tests and
// `bazel run`) or next to `argv0`.
absl::StatusOr<std::string> FindBinary(const std::string& package_path, const std::string& argv0);

// A first port such that [base, base + count) were all free a moment ago,
// below the ephemeral range (see transport_zmq/test_ports.h for why).
absl::StatusOr<int> PickFreePortRange(int count);

struct LocalClusterOptions {
  int nodes = 4;
  int workers = 1;
  std::string dir;          // keys, committee, stores and logs go here
  std::string node_binary;  // narwhal_node
  // Extra flags for `narwhal_node committee` (parameters).
  std::vector<std::string> committee_flags;
  int stats_interval_s = 5;
  // Extra flags for every `narwhal_node run`.
  std::vector<std::string> run_flags;
};

class LocalCluster {
 public:
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Create(LocalClusterOptions options);
  ~LocalCluster() { StopAll(); }

  // Starts (or restarts, on the same stores) every role of authority i.
  absl::Status StartAuthority(int i);
  // Authority i's processes start as `prefix... narwhal_node run ...` (for
  // example a shell that lowers a resource limit first); empty: directly.
  void SetLaunchPrefix(int i, std::vector<std::string> prefix) { launch_prefix_[i] = std::move(prefix); }
  absl::Status StartAll();
  // kill -9 (or `sig`) every process of authority i, and reaps them.
  void KillAuthority(int i, int sig = 9);
  void StopAll();
  // Non-OK if a process we started died on its own.
  absl::Status CheckAlive() const;
  // The wait status (waitpid) of authority i's process `role` (0 primary,
  // 1 + w worker w) if it has ended.
  std::optional<int> ExitStatus(int i, size_t role);

  // Every running process: (authority, role as in ExitStatus, pid).
  std::vector<std::tuple<int, size_t, pid_t>> RunningProcesses() const;

  std::string output_address(int i) const;
  std::string transactions_address(int i, int worker) const;
  const std::string& config_path() const { return config_path_; }
  int base_port() const { return base_port_; }
  const LocalClusterOptions& options() const { return options_; }

 private:
  explicit LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {}
  std::string Address(int i, int offset) const;

  LocalClusterOptions options_;
  int base_port_ = 0;
  std::string config_path_;
  // authority -> its processes (primary first).
  std::vector<std::vector<std::unique_ptr<ChildProcess>>> processes_;
  std::vector<int> restarts_;
  std::map<int, std::vector<std::string>> launch_prefix_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_LOCAL_CLUSTER_H_
