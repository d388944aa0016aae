// The same target without libFuzzer (the default toolchain): runs the
// harness on each file named on the command line, or on every file of each
// folder named, so a crash reproducer can be debugged with gcc and gdb:
//   bazel run //fuzz:batch_fuzzer -- $PWD/fuzz/regressions/batch/crash-...
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/harness.h"
#include "glog/logging.h"

namespace narwhal::fuzz {
extern const Harness NARWHAL_HARNESS;
}

int main(int argc, char** argv) {
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 2;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  if (files.empty()) {
    std::cerr << "usage: " << argv[0] << " FILE|DIR... (runs the " << narwhal::fuzz::NARWHAL_HARNESS.name
              << " harness on each input; build with --config=fuzz for the fuzzer itself)\n";
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::cerr << f << ": cannot open\n";
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::cerr << "running " << f << "\n";
    narwhal::fuzz::NARWHAL_HARNESS.run(ss.str());
  }
  std::cerr << files.size() << " input(s) passed the " << narwhal::fuzz::NARWHAL_HARNESS.name << " checks\n";
  return 0;
}
