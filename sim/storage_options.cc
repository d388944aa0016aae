#include "sim/storage_options.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/random.h"

namespace narwhal::sim {

absl::Status ValidateStorageFaults(const SimulationOptions& o) {
  const StorageFaultOptions& sf = o.cluster.storage_faults;
  for (double p : {sf.write_failure_probability, sf.read_failure_probability, sf.corrupt_read_probability,
                   sf.torn_read_probability}) {
    if (!(p >= 0 && p <= 1)) return absl::InvalidArgumentError("storage_faults: probabilities must be in [0, 1]");
  }
  for (AuthorityIndex a : sf.nodes) {
    if (a >= o.cluster.nodes) {
      return absl::InvalidArgumentError(
          absl::StrCat("storage_faults.nodes: authority ", a, " is not in the committee (size ", o.cluster.nodes, ")"));
    }
  }
  if (sf.from_us < 0 || sf.until_us < 0 || (sf.until_us > 0 && sf.until_us <= sf.from_us)) {
    return absl::InvalidArgumentError("storage_faults: until_s must be after from_s");
  }
  if (sf.until_us >= o.duration_us) return absl::InvalidArgumentError("storage_faults: until_s must be before the end");
  if (sf.sync_interval_us <= 0) return absl::InvalidArgumentError("storage_faults: sync_interval_ms must be > 0");
  const bool normal = sf.synchronous == SynchronousMode::kNormal || sf.test_only_primary_synchronous_normal;
  if (normal && o.sqlite_store) {
    return absl::InvalidArgumentError(
        "storage_faults: synchronous NORMAL is modelled over the memory store only (a power loss rolls it back)");
  }
  return absl::OkStatus();
}

std::string DrawStorageFaults(SimulationOptions* o, TimeUs heal_us) {
  Random r(Random::DeriveSeed(o->cluster.seed, "swarm_storage"));
  StorageFaultOptions& sf = o->cluster.storage_faults;
  static constexpr double kRates[] = {0, 0.0005, 0.002, 0.01, 0.05};
  auto rate = [&] { return kRates[r.Uniform(5)]; };
  sf.write_failure_probability = rate();
  sf.read_failure_probability = rate();
  sf.corrupt_read_probability = rate();
  sf.torn_read_probability = rate();
  // At most f authorities' stores misbehave: a halted role is down, and the
  // swarm's other faults already use the rest of the budget at times.
  const size_t n = o->cluster.nodes;
  const size_t f = (n - 1) / 3;
  sf.nodes.clear();
  if (f > 0) {
    std::vector<AuthorityIndex> all(n);
    for (size_t i = 0; i < n; ++i) all[i] = static_cast<AuthorityIndex>(i);
    for (size_t i = n; i > 1; --i) std::swap(all[i - 1], all[r.Uniform(i)]);
    all.resize(1 + r.Uniform(f));
    std::sort(all.begin(), all.end());
    sf.nodes = all;
  } else {
    sf.nodes = {0};
  }
  sf.from_us = r.UniformRange(kSecondUs / 2, std::max<TimeUs>(kSecondUs / 2, heal_us / 2));
  sf.until_us = 0;  // the heal
  sf.synchronous = r.Bernoulli(0.5) ? SynchronousMode::kNormal : SynchronousMode::kFull;
  static constexpr TimeUs kIntervalsMs[] = {50, 200, 1000, 3000};
  sf.sync_interval_us = kIntervalsMs[r.Uniform(4)] * kMillisecondUs;
  sf.crash_is_power_loss = r.Bernoulli(0.5);
  if (o->sqlite_store) sf.synchronous = SynchronousMode::kFull;
  return sf.Describe();
}

}  // namespace narwhal::sim
