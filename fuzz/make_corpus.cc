// Writes every harness's seeds (made by the real encoders) to
// <dir>/<harness>/<seed name>: the committed seed corpus, fuzz/corpus/.
//   bazel run //fuzz:make_corpus -- $PWD/fuzz/corpus   (tools/fuzz.sh corpus)
// Files it did not make (hand-picked inputs) are left alone.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "fuzz/harness.h"

namespace narwhal::fuzz {
extern const Harness kBatchHarness;
extern const Harness kDagHarness;
extern const Harness kIngressHarness;
extern const Harness kMessengerHarness;
extern const Harness kNodeConfigHarness;
extern const Harness kOutputRequestHarness;
extern const Harness kScenarioHarness;
extern const Harness kSenderHeaderHarness;
extern const Harness kStoreRowsHarness;
}  // namespace narwhal::fuzz

int main(int argc, char** argv) {
  using namespace narwhal::fuzz;
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " CORPUS_DIR\n";
    return 2;
  }
  const Harness* all[] = {&kBatchHarness,         &kDagHarness,      &kIngressHarness,
                          &kMessengerHarness,     &kNodeConfigHarness, &kOutputRequestHarness,
                          &kScenarioHarness,      &kSenderHeaderHarness, &kStoreRowsHarness};
  for (const Harness* h : all) {
    const std::filesystem::path dir = std::filesystem::path(argv[1]) / h->name;
    std::filesystem::create_directories(dir);
    size_t bytes = 0;
    const auto seeds = h->seeds();
    for (const auto& [name, data] : seeds) {
      std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
      if (!out) {
        std::cerr << dir / name << ": cannot write\n";
        return 1;
      }
      bytes += data.size();
    }
    std::cout << h->name << ": " << seeds.size() << " seeds, " << bytes << " bytes\n";
  }
  return 0;
}
