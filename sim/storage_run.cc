#include "sim/storage_run.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "glog/logging.h"

namespace narwhal::sim {
namespace {

std::string RoleName(AuthorityIndex a, uint32_t role) {
  return absl::StrCat("authority ", a, role == 0 ? " primary" : absl::StrCat(" worker ", role - 1));
}

}  // namespace

TimeUs StorageFaultsUntilUs(const StorageFaultOptions& options, TimeUs heal_us, TimeUs duration_us) {
  if (options.until_us > 0) return options.until_us;
  return heal_us > 0 ? heal_us : duration_us / 2;
}

void ScheduleStorageFaults(Cluster* cluster, TimeUs from_us, TimeUs until_us) {
  if (!cluster->options().storage_faults.injects()) return;
  cluster->scheduler().ScheduleAt(from_us, [cluster] {
    VLOG(1) << "storage faults armed";
    cluster->ArmStorageFaults(true);
  });
  cluster->scheduler().ScheduleAt(until_us, [cluster] {
    VLOG(1) << "storage faults over: halted roles restarted";
    cluster->ArmStorageFaults(false);
    cluster->RestartHalted();
  });
}

void CheckStorageHalts(const Cluster& cluster, Checkers* checkers, TimeUs until_us, TimeUs end_us) {
  if (!cluster.options().storage_faults.enabled()) return;
  for (const Cluster::Halt& h : cluster.halts()) {
    if (h.error.empty()) {
      checkers->AddViolation("storage", h.at_us, absl::StrCat(RoleName(h.authority, h.role), " halted without an error"));
      return;
    }
    if (h.at_us > until_us) {
      checkers->AddViolation("storage", h.at_us,
                             absl::StrCat(RoleName(h.authority, h.role), " halted at ", h.at_us / kMillisecondUs,
                                          " ms, after the storage faults ended at ", until_us / kMillisecondUs,
                                          " ms (a healthy store): it did not recover from what its store kept: ",
                                          h.error));
      return;
    }
  }
  // Every halted role was restarted when the faults ended: at the end it
  // runs (its recovery from a healthy store succeeded), unless its whole
  // authority is down.
  if (until_us < end_us) {
    for (const Cluster::Halt& h : cluster.halts()) {
      if (!cluster.IsUp(h.authority) || cluster.IsRoleUp(h.authority, h.role)) continue;
      checkers->AddViolation("storage", end_us,
                             absl::StrCat(RoleName(h.authority, h.role), " halted at ", h.at_us / kMillisecondUs,
                                          " ms (", h.error, ") and is not running at the end, although the storage "
                                          "faults ended at ", until_us / kMillisecondUs, " ms"));
      return;
    }
  }
  if (!cluster.sends_after_halt().empty()) {
    checkers->AddViolation("storage", end_us,
                           absl::StrCat(cluster.sends_after_halt().size(), " frames sent by halted roles, first: ",
                                        cluster.sends_after_halt().front()));
  }
}

std::string StorageFaultsJson(const Cluster& cluster) {
  if (!cluster.options().storage_faults.enabled()) return "";
  const FaultyStoreStats s = cluster.storage_fault_stats();
  std::vector<std::string> halts;
  for (const Cluster::Halt& h : cluster.halts()) {
    std::string error = h.error;
    absl::StrReplaceAll({{"\"", "'"}, {"\\", "/"}}, &error);
    halts.push_back(absl::StrFormat("{\"authority\":%d,\"role\":%d,\"at_s\":%.6f,\"error\":\"%s\"}", h.authority,
                                    h.role, h.at_us / 1e6, error));
  }
  return absl::StrFormat(
      ",\"storage_faults\":{\"writes_failed\":%d,\"reads_failed\":%d,\"reads_corrupted\":%d,\"reads_torn\":%d,"
      "\"power_losses\":%d,\"writes_lost\":%d,\"halts\":[%s]}",
      s.writes_failed, s.reads_failed, s.reads_corrupted, s.reads_torn, s.power_losses, s.writes_lost,
      absl::StrJoin(halts, ","));
}

}  // namespace narwhal::sim
