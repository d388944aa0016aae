#include "sim/process_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal::sim {
namespace {

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = write(fd, s.data() + off, s.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += static_cast<size_t>(w);
  }
}

struct Running {
  size_t index;
  pid_t pid;
  int fd;
  bool eof = false;
};

}  // namespace

std::string ProcessPool::Output::Describe() const {
  if (exited) return absl::StrCat("exit ", exit_code);
  if (signal != 0) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return "did not run";
}

ProcessPool::ProcessPool(int jobs) {
  if (jobs <= 0) jobs = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  jobs_ = jobs > 0 ? jobs : 1;
}

std::string ProcessPool::SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

std::vector<ProcessPool::Output> ProcessPool::Run(const std::vector<Job>& jobs, const Progress& progress) const {
  std::vector<Output> out(jobs.size());
  std::vector<Running> running;
  size_t next = 0, done = 0;
  std::fflush(stdout);
  std::fflush(stderr);
  while (done < jobs.size()) {
    while (running.size() < static_cast<size_t>(jobs_) && next < jobs.size()) {
      int fds[2];
      PCHECK(pipe(fds) == 0);
      const Job& job = jobs[next];
      pid_t pid = fork();
      PCHECK(pid >= 0) << "fork";
      if (pid == 0) {
        close(fds[0]);
        if (job.in_child) {
          // A CHECK failure's message lands in the output, before the abort.
          if (!job.keep_stderr) dup2(fds[1], STDERR_FILENO);
          WriteAll(fds[1], job.in_child());
          close(fds[1]);
          _exit(0);
        }
        dup2(fds[1], STDOUT_FILENO);
        close(fds[1]);
        if (!job.keep_stderr) {
          int null = open("/dev/null", O_WRONLY);
          if (null >= 0) dup2(null, STDERR_FILENO);
        }
        std::vector<char*> argv;
        for (const std::string& a : job.argv) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        std::fprintf(stderr, "execv %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
      }
      close(fds[1]);
      running.push_back({next, pid, fds[0]});
      ++next;
    }
    std::vector<pollfd> pfds;
    for (const Running& r : running) pfds.push_back({r.fd, POLLIN, 0});
    int rc = poll(pfds.data(), pfds.size(), -1);
    if (rc < 0 && errno == EINTR) continue;
    PCHECK(rc >= 0) << "poll";
    for (size_t i = 0; i < running.size(); ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t n = read(running[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        out[running[i].index].text.append(buf, static_cast<size_t>(n));
      } else {
        running[i].eof = true;
      }
    }
    for (size_t i = 0; i < running.size();) {
      if (!running[i].eof) {
        ++i;
        continue;
      }
      close(running[i].fd);
      int status = 0;
      while (waitpid(running[i].pid, &status, 0) < 0 && errno == EINTR) {
      }
      Output& o = out[running[i].index];
      if (WIFEXITED(status)) {
        o.exited = true;
        o.exit_code = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        o.signal = WTERMSIG(status);
      }
      running.erase(running.begin() + static_cast<long>(i));
      ++done;
      if (progress) progress(done, jobs.size());
    }
  }
  return out;
}

}  // namespace narwhal::sim
