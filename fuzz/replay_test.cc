// Replays one harness's committed inputs through its checks, under the
// default toolchain (no libFuzzer needed): the seed corpus
// (fuzz/corpus/<name>/), every crash reproducer (fuzz/regressions/<name>/),
// and the seeds its encoders make today. A check that fails aborts the test
// with the failing file named just before.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/harness.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

namespace narwhal::fuzz {
extern const Harness NARWHAL_HARNESS;
namespace {

std::filesystem::path Runfiles(const std::string& relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return std::filesystem::path(relative);
  return std::filesystem::path(srcdir) / workspace / relative;
}

// Files of `dir` (none if it does not exist), sorted by name.
std::vector<std::filesystem::path> Files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() || e.is_symlink()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void RunFiles(const std::vector<std::filesystem::path>& files) {
  for (const auto& f : files) {
    std::cerr << "replaying " << f.filename() << "\n";
    NARWHAL_HARNESS.run(Read(f));
  }
}

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FLAGS_logtostderr = true;
    FLAGS_minloglevel = 2;
  }
};

TEST_F(ReplayTest, SeedCorpus) {
  const auto files = Files(Runfiles(std::string("fuzz/corpus/") + NARWHAL_HARNESS.name));
  // An empty corpus would make this test pass without checking anything.
  ASSERT_FALSE(files.empty()) << "no seed corpus for " << NARWHAL_HARNESS.name
                              << " (regenerate: tools/fuzz.sh corpus)";
  RunFiles(files);
}

TEST_F(ReplayTest, CrashReproducers) {
  const auto files = Files(Runfiles(std::string("fuzz/regressions/") + NARWHAL_HARNESS.name));
  RunFiles(files);
  std::cerr << files.size() << " reproducer(s)\n";
}

TEST_F(ReplayTest, FreshSeeds) {
  const std::vector<Seed> seeds = NARWHAL_HARNESS.seeds();
  ASSERT_FALSE(seeds.empty());
  for (const auto& [name, bytes] : seeds) {
    std::cerr << "seed " << name << "\n";
    NARWHAL_HARNESS.run(bytes);
  }
}

}  // namespace
}  // namespace narwhal::fuzz
