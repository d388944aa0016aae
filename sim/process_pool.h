// Runs independent simulation jobs in child processes, a bounded number at a
// time (one per core by default). A job is either a function run in a
// fork()ed child (whatever it returns is handed back) or a command line run
// with execv (its stdout is handed back). Processes, not threads: every run
// is self-contained and single-threaded, a CHECK failure or a crash in one
// run is reported as that run's outcome instead of taking down the sweep,
// and nothing (allocator, hash seeds, glog) is shared between runs.
//
//   ProcessPool pool(2);
//   std::vector<ProcessPool::Job> jobs = ...;
//   auto outs = pool.Run(jobs, [](size_t done, size_t total) { ... });
//   // outs[i] belongs to jobs[i] whatever order they finished in.
#ifndef NARWHAL_SIM_PROCESS_POOL_H_
#define NARWHAL_SIM_PROCESS_POOL_H_

#include <functional>
#include <string>
#include <vector>

namespace narwhal::sim {

class ProcessPool {
 public:
  struct Job {
    // Either: runs in a fork()ed child; its return value is the output,
    // preceded by whatever the child wrote to stderr unless keep_stderr (so
    // a CHECK failure's message is part of the output).
    std::function<std::string()> in_child;
    // Or: argv[0] is the program (execv); its stdout is the output and its
    // stderr goes to /dev/null unless keep_stderr.
    std::vector<std::string> argv;
    bool keep_stderr = false;
  };
  struct Output {
    std::string text;
    bool exited = false;     // normal exit (then exit_code is set)
    int exit_code = -1;
    int signal = 0;          // killed by this signal (a CHECK failure: SIGABRT)
    std::string Describe() const;  // "exit 0", "killed by signal 6 (Aborted)"
  };
  using Progress = std::function<void(size_t done, size_t total)>;

  // jobs <= 0: the number of online CPUs.
  explicit ProcessPool(int jobs);
  int jobs() const { return jobs_; }

  // Runs every job, at most jobs() at once; outputs in job order.
  std::vector<Output> Run(const std::vector<Job>& jobs, const Progress& progress = nullptr) const;

  // The path of the running binary (for re-exec).
  static std::string SelfPath();

 private:
  int jobs_;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_PROCESS_POOL_H_
