#include "node/heap_tuning.h"

#include <malloc.h>

#include "absl/strings/str_cat.h"

namespace narwhal::node {

absl::Status KeepLargeBuffersOnHeap() {
  struct Setting {
    int param;
    int value;
    const char* name;
  };
  // glibc caps M_MMAP_THRESHOLD at half its per-thread heap size (32 MiB on
  // 64-bit); a request over it is refused.
  const Setting settings[] = {
      {M_ARENA_MAX, 1, "M_ARENA_MAX"},
      {M_MMAP_THRESHOLD, 32 << 20, "M_MMAP_THRESHOLD"},
      {M_TRIM_THRESHOLD, 64 << 20, "M_TRIM_THRESHOLD"},
  };
  for (const Setting& s : settings) {
    if (mallopt(s.param, s.value) != 1) {
      return absl::InternalError(absl::StrCat("mallopt(", s.name, ", ", s.value, ") refused"));
    }
  }
  return absl::OkStatus();
}

}  // namespace narwhal::node
