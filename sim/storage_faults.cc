#include "sim/storage_faults.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace narwhal::sim {

std::string StorageFaultOptions::Describe() const {
  return absl::StrFormat(
      "storage: write_failure %.4f read_failure %.4f corrupt_read %.4f torn_read %.4f nodes [%s] from %.3fs "
      "until %s synchronous %s%s sync_interval %d ms%s",
      write_failure_probability, read_failure_probability, corrupt_read_probability, torn_read_probability,
      nodes.empty() ? std::string("all") : absl::StrJoin(nodes, ","), from_us / 1e6,
      until_us == 0 ? std::string("the heal") : absl::StrFormat("%.3fs", until_us / 1e6),
      SynchronousModeName(synchronous), test_only_primary_synchronous_normal ? " (primary NORMAL too)" : "",
      sync_interval_us / kMillisecondUs, crash_is_power_loss ? ", crashes are power losses" : "");
}

}  // namespace narwhal::sim
