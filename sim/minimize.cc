#include "sim/minimize.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sim/faults/fault_kind.h"
#include "sim/sweep.h"

namespace narwhal::sim {
namespace {

std::vector<FaultEvent> Pick(const std::vector<FaultEvent>& faults, const std::vector<std::vector<size_t>>& units) {
  std::vector<size_t> idx;
  for (const auto& u : units) idx.insert(idx.end(), u.begin(), u.end());
  std::sort(idx.begin(), idx.end());
  std::vector<FaultEvent> out;
  for (size_t i : idx) out.push_back(faults[i]);
  return out;
}

}  // namespace

std::vector<std::vector<size_t>> FaultUnits(const std::vector<FaultEvent>& faults) {
  std::vector<bool> used(faults.size(), false);
  std::vector<std::vector<size_t>> units;
  for (size_t i = 0; i < faults.size(); ++i) {
    if (used[i]) continue;
    used[i] = true;
    std::vector<size_t> unit = {i};
    // What ends a fault is its kind's entry in the fault table.
    if (faults::KindOf(faults[i].kind).ended_by) {
      for (size_t j = i + 1; j < faults.size(); ++j) {
        if (!used[j] && faults::Ends(faults[i], faults[j])) {
          used[j] = true;
          unit.push_back(j);
          break;
        }
      }
    }
    units.push_back(unit);
  }
  return units;
}

MinimizeResult Minimize(const SimulationOptions& failing, const ProcessPool& pool,
                        const std::function<void(const std::string&)>& log) {
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  MinimizeResult m;
  const SimulationOptions base = ResolveSchedule(failing);
  m.original = base.faults;
  auto with = [&](std::vector<FaultEvent> faults) {
    SimulationOptions o = base;
    o.faults = std::move(faults);
    return o;
  };
  // Runs the candidates (in parallel) and returns the index of the first
  // that fails the same way, or -1.
  auto first_failing = [&](const std::vector<std::vector<FaultEvent>>& candidates) -> int {
    std::vector<ProcessPool::Job> jobs;
    for (const auto& c : candidates) jobs.push_back(SeedJob(with(c)));
    std::vector<ProcessPool::Output> outs = pool.Run(jobs);
    m.runs += static_cast<int>(outs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
      SeedOutcome o = CollectOutcome(base.cluster.seed, outs[i]);
      const bool fails = !o.ran ? m.failure == "crash" : (o.violations > 0 && o.checker == m.failure);
      if (fails) {
        m.evidence = o.ran ? o.evidence : o.crash;
        return static_cast<int>(i);
      }
    }
    return -1;
  };

  {
    std::vector<ProcessPool::Output> outs = pool.Run({SeedJob(base)});
    m.runs = 1;
    SeedOutcome o = CollectOutcome(base.cluster.seed, outs[0]);
    if (!o.failed() && !(o.ran && o.violations > 0)) {
      say("the run does not fail: nothing to minimize");
      return m;
    }
    m.reproduced = true;
    m.failure = o.failure_kind();
    m.evidence = o.ran ? o.evidence : o.crash;
  }
  std::vector<std::vector<size_t>> units = FaultUnits(base.faults);
  say(absl::StrCat("failure to keep: ", m.failure, "; ", base.faults.size(), " fault events in ", units.size(),
                   " units"));
  if (!units.empty() && first_failing({{}}) == 0) {
    units.clear();
    say("fails with no faults at all");
  }
  // ddmin: try removing one of n chunks (keeping the complement); on
  // success shrink, else refine the chunks.
  size_t n = 2;
  while (units.size() >= 2) {
    n = std::min(n, units.size());
    std::vector<std::vector<std::vector<size_t>>> complements;
    std::vector<std::vector<FaultEvent>> candidates;
    for (size_t c = 0; c < n; ++c) {
      const size_t lo = c * units.size() / n, hi = (c + 1) * units.size() / n;
      std::vector<std::vector<size_t>> keep;
      for (size_t u = 0; u < units.size(); ++u) {
        if (u < lo || u >= hi) keep.push_back(units[u]);
      }
      candidates.push_back(Pick(base.faults, keep));
      complements.push_back(std::move(keep));
    }
    const int hit = first_failing(candidates);
    if (hit >= 0) {
      units = complements[static_cast<size_t>(hit)];
      say(absl::StrCat("  still fails with ", units.size(), " units (", m.runs, " runs so far)"));
      n = std::max<size_t>(n - 1, 2);
      continue;
    }
    if (n >= units.size()) break;
    n = std::min(2 * n, units.size());
  }
  // A single unit left: one last try without it was the empty schedule above.
  m.minimal = Pick(base.faults, units);
  m.minimal_options = with(m.minimal);
  say(absl::StrCat("smallest failing schedule: ", m.minimal.size(), " of ", m.original.size(), " fault events after ",
                   m.runs, " runs"));
  return m;
}

}  // namespace narwhal::sim
