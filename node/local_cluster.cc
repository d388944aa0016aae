#include "node/local_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/node_config.h"

namespace narwhal::node {

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const std::vector<std::string>& argv, const std::string& log_path) {
  const pid_t parent = getpid();
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    // Child: die with the harness, write to the log, exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  auto child = std::make_unique<ChildProcess>();
  child->pid_ = pid;
  return child;
}

void ChildProcess::Signal(int sig) {
  if (running()) kill(pid_, sig);
}

std::optional<int> ChildProcess::Wait(int timeout_ms) {
  if (exit_status_.has_value()) return exit_status_;
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = status;
      return exit_status_;
    }
    if (r < 0 && errno != EINTR) {
      exit_status_ = -1;
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ChildProcess::Stop(int grace_ms) {
  if (!running()) return;
  Signal(SIGTERM);
  if (Wait(grace_ms).has_value()) return;
  Signal(SIGKILL);
  Wait(5000);
}

absl::StatusOr<std::string> FindBinary(const std::string& package_path, const std::string& argv0) {
  std::vector<std::string> candidates;
  for (const char* env : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (const char* dir = std::getenv(env)) candidates.push_back(absl::StrCat(dir, "/narwhal_cpp/", package_path));
  }
  candidates.push_back(absl::StrCat(argv0, ".runfiles/narwhal_cpp/", package_path));
  candidates.push_back(package_path);  // `bazel run` starts in the runfiles tree
  const std::string base = package_path.substr(package_path.rfind('/') + 1);
  const size_t slash = argv0.rfind('/');
  if (slash != std::string::npos) candidates.push_back(absl::StrCat(argv0.substr(0, slash + 1), base));
  for (const std::string& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) {
      char resolved[PATH_MAX];
      if (realpath(c.c_str(), resolved) != nullptr) return std::string(resolved);
      return c;
    }
  }
  return absl::NotFoundError(absl::StrCat("cannot find ", package_path, "; looked at ",
                                          absl::StrJoin(candidates, ", ")));
}

namespace {
bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}
}  // namespace

absl::StatusOr<int> PickFreePortRange(int count) {
  std::mt19937 gen(std::random_device{}());  // harness only: never in the core
  std::uniform_int_distribution<int> dist(12000, 32000 - count);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = dist(gen);
    bool ok = true;
    for (int p = base; p < base + count && ok; ++p) ok = PortFree(p);
    if (ok) return base;
  }
  return absl::UnavailableError(absl::StrCat("no ", count, " consecutive free ports found"));
}

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Create(LocalClusterOptions options) {
  auto cluster = std::unique_ptr<LocalCluster>(new LocalCluster(std::move(options)));
  const LocalClusterOptions& o = cluster->options_;
  mkdir(o.dir.c_str(), 0755);
  auto base = PickFreePortRange(o.nodes * PortsPerAuthority(o.workers));
  if (!base.ok()) return base.status();
  cluster->base_port_ = *base;
  cluster->config_path_ = absl::StrCat(o.dir, "/committee.json");
  std::vector<std::string> argv = {o.node_binary,
                                   "committee",
                                   absl::StrCat("--nodes=", o.nodes),
                                   absl::StrCat("--workers=", o.workers),
                                   absl::StrCat("--base_port=", *base),
                                   absl::StrCat("--keys_dir=", o.dir, "/keys"),
                                   "--generate_keys",
                                   absl::StrCat("--out=", cluster->config_path_)};
  argv.insert(argv.end(), o.committee_flags.begin(), o.committee_flags.end());
  auto child = ChildProcess::Spawn(argv, absl::StrCat(o.dir, "/committee.log"));
  if (!child.ok()) return child.status();
  std::optional<int> status = (*child)->Wait(30000);
  if (!status.has_value() || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat("narwhal_node committee failed; see ", o.dir, "/committee.log"));
  }
  cluster->processes_.resize(o.nodes);
  cluster->restarts_.assign(o.nodes, 0);
  return cluster;
}

absl::Status LocalCluster::StartAuthority(int i) {
  KillAuthority(i, SIGKILL);
  const LocalClusterOptions& o = options_;
  std::vector<std::string> roles = {"primary"};
  for (int w = 0; w < o.workers; ++w) roles.push_back(absl::StrCat("worker:", w));
  for (const std::string& role : roles) {
    std::string log_role = role;
    std::replace(log_role.begin(), log_role.end(), ':', '-');
    std::vector<std::string> argv = {o.node_binary,
                                     "run",
                                     absl::StrCat("--config=", config_path_),
                                     absl::StrCat("--keys=", o.dir, "/keys/key-", i, ".json"),
                                     absl::StrCat("--authority=", i),
                                     absl::StrCat("--role=", role),
                                     absl::StrCat("--store=", o.dir, "/store-", i),
                                     absl::StrCat("--stats_interval_s=", o.stats_interval_s)};
    argv.insert(argv.end(), o.run_flags.begin(), o.run_flags.end());
    if (auto p = launch_prefix_.find(i); p != launch_prefix_.end()) {
      argv.insert(argv.begin(), p->second.begin(), p->second.end());
    }
    auto child = ChildProcess::Spawn(argv, absl::StrCat(o.dir, "/node-", i, "-", log_role, ".log"));
    if (!child.ok()) return child.status();
    processes_[i].push_back(*std::move(child));
  }
  ++restarts_[i];
  return absl::OkStatus();
}

absl::Status LocalCluster::StartAll() {
  for (int i = 0; i < options_.nodes; ++i) {
    if (absl::Status s = StartAuthority(i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void LocalCluster::KillAuthority(int i, int sig) {
  for (auto& p : processes_[i]) {
    p->Signal(sig);
    if (!p->Wait(5000).has_value()) p->Stop(1000);
  }
  processes_[i].clear();
}

void LocalCluster::StopAll() {
  for (auto& list : processes_) {
    for (auto& p : list) p->Signal(SIGTERM);
  }
  for (auto& list : processes_) {
    for (auto& p : list) p->Stop(5000);
    list.clear();
  }
}

std::optional<int> LocalCluster::ExitStatus(int i, size_t role) {
  if (role >= processes_[i].size()) return std::nullopt;
  return processes_[i][role]->Wait(0);
}

absl::Status LocalCluster::CheckAlive() const {
  for (size_t i = 0; i < processes_.size(); ++i) {
    for (const auto& p : processes_[i]) {
      if (!p->running() || const_cast<ChildProcess&>(*p).Wait(0).has_value()) {
        return absl::InternalError(absl::StrCat("a process of authority ", i, " (pid ", p->pid(),
                                                ") exited; see the logs in ", options_.dir));
      }
    }
  }
  return absl::OkStatus();
}

std::string LocalCluster::Address(int i, int offset) const {
  return absl::StrCat("127.0.0.1:", base_port_ + i * PortsPerAuthority(options_.workers) + offset);
}
std::string LocalCluster::output_address(int i) const { return Address(i, 1); }
std::string LocalCluster::transactions_address(int i, int worker) const {
  return Address(i, 2 + 2 * worker + 1);
}

}  // namespace narwhal::node

namespace narwhal::node {

std::vector<std::tuple<int, size_t, pid_t>> LocalCluster::RunningProcesses() const {
  std::vector<std::tuple<int, size_t, pid_t>> out;
  for (size_t i = 0; i < processes_.size(); ++i) {
    for (size_t role = 0; role < processes_[i].size(); ++role) {
      if (processes_[i][role]->running()) out.emplace_back(static_cast<int>(i), role, processes_[i][role]->pid());
    }
  }
  return out;
}

}  // namespace narwhal::node
