// Fault kinds on one authority's processes: crash / restart (memory and
// frames in flight lost, store kept; with a role, only its primary or only
// its workers) and pause / resume (a GC pause: timers and deliveries held).
// The swarm draws them only for honest authorities and within the fault
// budget (at most f stake down or Byzantine at once).
#include "absl/strings/str_cat.h"
#include "sim/faults/fault_kind.h"

namespace narwhal::sim::faults {
namespace {

using K = FaultEvent::Kind;

// The first honest authority, in a random order, that may be down for the
// whole episode; it is then marked down.
std::optional<FaultEvent> DrawDown(SwarmDraw& d, TimeUs start_us, TimeUs end_us, K kind) {
  if (d.nodes < 2) return std::nullopt;
  for (AuthorityIndex v : Shuffled(d.random, d.nodes)) {
    if (d.is_byzantine(v)) continue;
    if (!d.fits(v, start_us, end_us)) continue;
    d.mark_down(v, start_us, end_us);
    FaultEvent f;
    f.at_us = start_us;
    f.kind = kind;
    f.node = v;
    return f;
  }
  return std::nullopt;
}

}  // namespace

const FaultKind& CrashKind() {
  static const FaultKind k{
      .kind = K::kCrash,
      .name = "crash",
      .fields = kNode | kRole,
      .ended_by = K::kRestart,
      .apply = [](World& w, const FaultEvent& f) {
        if (!w.cluster().IsUp(f.node)) return w.Skip(f, "already down");
        if (!f.role.empty()) {
          if (w.paused(f.node)) return w.Skip(f, "paused");
          for (uint32_t role : w.Roles(f.role)) w.cluster().CrashRole(f.node, role);
          return;
        }
        if (w.paused(f.node)) w.Resume(f.node);  // a paused machine can still die
        w.cluster().Crash(f.node);
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("crash ", f.node, RoleSuffix(f.role)); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        if (f.role.empty()) book.Close(absl::StrCat("node/pause", f.node), f.at_us);
        book.Start(absl::StrCat("node/crash", f.node, f.role), "crash",
                   absl::StrCat("crash ", f.node, RoleSuffix(f.role)), f.at_us);
      },
      .period_kind = "crash",
      .period_color = "#d62728",
      .swarm_weight = 2,
      .swarm_draw = [](SwarmDraw& d, TimeUs start_us, TimeUs end_us) { return DrawDown(d, start_us, end_us, K::kCrash); },
  };
  return k;
}

const FaultKind& RestartKind() {
  static const FaultKind k{
      .kind = K::kRestart,
      .name = "restart",
      .fields = kNode | kRole,
      .apply = [](World& w, const FaultEvent& f) {
        if (!f.role.empty()) {
          if (!w.cluster().IsUp(f.node)) return w.Skip(f, "the authority is down");
          for (uint32_t role : w.Roles(f.role)) w.cluster().RestartRole(f.node, role);
          return;
        }
        if (w.cluster().IsUp(f.node)) return w.Skip(f, "it is running");
        w.cluster().Restart(f.node);
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("restart ", f.node, RoleSuffix(f.role)); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Close(absl::StrCat("node/crash", f.node, f.role), f.at_us);
      },
  };
  return k;
}

const FaultKind& PauseKind() {
  static const FaultKind k{
      .kind = K::kPause,
      .name = "pause",
      .fields = kNode,
      .ended_by = K::kResume,
      .apply = [](World& w, const FaultEvent& f) {
        if (!w.cluster().IsUp(f.node) || w.paused(f.node)) return w.Skip(f, "not running");
        w.Pause(f.node);
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("pause ", f.node); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Start(absl::StrCat("node/pause", f.node), "pause", absl::StrCat("pause ", f.node), f.at_us);
      },
      .period_kind = "pause",
      .period_color = "#ff7f0e",
      .swarm_weight = 1,
      .swarm_draw = [](SwarmDraw& d, TimeUs start_us, TimeUs end_us) { return DrawDown(d, start_us, end_us, K::kPause); },
  };
  return k;
}

const FaultKind& ResumeKind() {
  static const FaultKind k{
      .kind = K::kResume,
      .name = "resume",
      .fields = kNode,
      .apply = [](World& w, const FaultEvent& f) {
        if (!w.paused(f.node)) return w.Skip(f, "not paused");
        w.Resume(f.node);
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("resume ", f.node); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Close(absl::StrCat("node/pause", f.node), f.at_us);
      },
  };
  return k;
}

}  // namespace narwhal::sim::faults
