// Fault kinds on links between groups of authorities, each with the kind
// that lifts it: partition / unpartition (both ways; with a role, only
// those processes of group_a's authorities), block / unblock (one way),
// clog / unclog (one way, extra delay per frame).
#include "absl/strings/str_cat.h"
#include "sim/faults/fault_kind.h"
#include "sim/scenario.pb.h"

namespace narwhal::sim::faults {
namespace {

using K = FaultEvent::Kind;

Network::Role NetworkRole(const std::string& role) {
  return role == "primary" ? Network::Role::kPrimary : Network::Role::kWorkers;
}

// "[0] -> [1,2]": a one-way link fault's groups.
std::string Arrow(const FaultEvent& f) {
  return absl::StrCat("[", JoinGroup(f.group_a), "] -> [", JoinGroup(f.group_b), "]");
}

// The swarm's groups: a random split of the committee in two.
std::optional<FaultEvent> DrawSplit(SwarmDraw& d, TimeUs start_us, K kind) {
  if (d.nodes < 2) return std::nullopt;
  auto [a, b] = Split(d.random, d.nodes);
  FaultEvent f;
  f.at_us = start_us;
  f.kind = kind;
  f.group_a = a;
  f.group_b = b;
  return f;
}

}  // namespace

const FaultKind& PartitionKind() {
  static const FaultKind k{
      .kind = K::kPartition,
      .name = "partition",
      .fields = kGroups | kRole,
      .ended_by = K::kUnpartition,
      .apply = [](World& w, const FaultEvent& f) {
        if (!f.role.empty()) {
          w.network().PartitionRole(f.group_a, f.group_b, NetworkRole(f.role));
          return;
        }
        w.network().Partition(f.group_a, f.group_b);
      },
      .describe = [](const FaultEvent& f) {
        return absl::StrCat("partition [", JoinGroup(f.group_a), "]", RoleSuffix(f.role), " | [", JoinGroup(f.group_b),
                            "]");
      },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Start(absl::StrCat("net/partition", LinkKey(f)), "partition",
                   absl::StrCat("partition [", JoinGroup(f.group_a), "]", RoleSuffix(f.role), " | [",
                                JoinGroup(f.group_b), "]"),
                   f.at_us);
      },
      .period_kind = "partition",
      .period_color = "#9467bd",
      .swarm_weight = 1,
      .swarm_draw = [](SwarmDraw& d, TimeUs start_us, TimeUs) { return DrawSplit(d, start_us, K::kPartition); },
  };
  return k;
}

const FaultKind& UnpartitionKind() {
  static const FaultKind k{
      .kind = K::kUnpartition,
      .name = "unpartition",
      .fields = kGroups | kRole,
      .apply = [](World& w, const FaultEvent& f) {
        if (!f.role.empty()) {
          w.network().UnpartitionRole(f.group_a, f.group_b, NetworkRole(f.role));
          return;
        }
        for (AuthorityIndex x : f.group_a) {
          for (AuthorityIndex y : f.group_b) {
            w.network().Unblock(x, y);
            w.network().Unblock(y, x);
          }
        }
      },
      .describe = [](const FaultEvent& f) {
        return absl::StrCat("unpartition [", JoinGroup(f.group_a), "]", RoleSuffix(f.role), " | [",
                            JoinGroup(f.group_b), "]");
      },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Close(absl::StrCat("net/partition", LinkKey(f)), f.at_us);
      },
  };
  return k;
}

const FaultKind& BlockKind() {
  static const FaultKind k{
      .kind = K::kBlock,
      .name = "block",
      .fields = kGroups,
      .ended_by = K::kUnblock,
      .apply = [](World& w, const FaultEvent& f) {
        for (AuthorityIndex x : f.group_a) {
          for (AuthorityIndex y : f.group_b) w.network().Block(x, y);
        }
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("block ", Arrow(f)); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Start(absl::StrCat("net/block", LinkKey(f)), "block", absl::StrCat("block ", Arrow(f)), f.at_us);
      },
      .period_kind = "block",
      .period_color = "#8c564b",
      .swarm_weight = 1,
      .swarm_draw = [](SwarmDraw& d, TimeUs start_us, TimeUs) { return DrawSplit(d, start_us, K::kBlock); },
  };
  return k;
}

const FaultKind& UnblockKind() {
  static const FaultKind k{
      .kind = K::kUnblock,
      .name = "unblock",
      .fields = kGroups,
      .apply = [](World& w, const FaultEvent& f) {
        for (AuthorityIndex x : f.group_a) {
          for (AuthorityIndex y : f.group_b) w.network().Unblock(x, y);
        }
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("unblock ", Arrow(f)); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Close(absl::StrCat("net/block", LinkKey(f)), f.at_us);
      },
  };
  return k;
}

const FaultKind& ClogKind() {
  static const FaultKind k{
      .kind = K::kClog,
      .name = "clog",
      .fields = kGroups | kExtraDelayMs,
      .parse_values = [](const scenario::Fault& in, const FieldError& bad, FaultEvent* out) {
        if (!in.has_extra_delay_ms()) return bad("extra_delay_ms", "required for clog");
        if (in.extra_delay_ms() <= 0) return bad("extra_delay_ms", "must be > 0");
        out->value_us = MillisToUs(in.extra_delay_ms());
        return absl::OkStatus();
      },
      .print_values = [](const FaultEvent& f, scenario::Fault* out) { out->set_extra_delay_ms(f.value_us / 1e3); },
      .ended_by = K::kUnclog,
      .apply = [](World& w, const FaultEvent& f) {
        for (AuthorityIndex x : f.group_a) {
          for (AuthorityIndex y : f.group_b) w.network().Clog(x, y, f.value_us);
        }
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("clog ", Arrow(f), " +", f.value_us / 1000, "ms"); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Start(absl::StrCat("net/clog", LinkKey(f)), "clog",
                   absl::StrCat("clog ", Arrow(f), " +", f.value_us / kMillisecondUs, " ms"), f.at_us);
      },
      .period_kind = "clog",
      .period_color = "#e377c2",
      .swarm_weight = 1,
      // 50-2000 ms more per frame.
      .swarm_draw = [](SwarmDraw& d, TimeUs start_us, TimeUs) {
        std::optional<FaultEvent> f = DrawSplit(d, start_us, K::kClog);
        if (f) f->value_us = d.random.UniformRange(50, 2000) * kMillisecondUs;
        return f;
      },
  };
  return k;
}

const FaultKind& UnclogKind() {
  static const FaultKind k{
      .kind = K::kUnclog,
      .name = "unclog",
      .fields = kGroups,
      .apply = [](World& w, const FaultEvent& f) {
        for (AuthorityIndex x : f.group_a) {
          for (AuthorityIndex y : f.group_b) w.network().Unclog(x, y);
        }
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("unclog ", Arrow(f)); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Close(absl::StrCat("net/clog", LinkKey(f)), f.at_us);
      },
  };
  return k;
}

}  // namespace narwhal::sim::faults
