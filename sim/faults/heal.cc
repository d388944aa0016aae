// Fault kinds that end many faults at once: heal (every partition, block
// and clog lifted) and heal_all (the start of the liveness phase: the
// network healed, loss, duplication and delay back to the run's baseline,
// crashed authorities and processes restarted, paused ones resumed).
#include "sim/faults/fault_kind.h"

namespace narwhal::sim::faults {

const FaultKind& HealKind() {
  static const FaultKind k{
      .kind = FaultEvent::Kind::kHeal,
      .name = "heal",
      .apply = [](World& w, const FaultEvent&) { w.network().HealAll(); },
      .describe = [](const FaultEvent&) -> std::string { return "heal"; },
      .period = [](PeriodBook& book, const FaultEvent& f) { book.ClosePrefix("net/", f.at_us); },
  };
  return k;
}

const FaultKind& HealAllKind() {
  static const FaultKind k{
      .kind = FaultEvent::Kind::kHealAll,
      .name = "heal_all",
      .apply = [](World& w, const FaultEvent&) {
        w.network().HealAll();
        NetworkOptions o = w.network().options();
        o.packet_loss_probability = w.baseline().packet_loss_probability;
        o.packet_duplication_probability = w.baseline().packet_duplication_probability;
        o.one_way_delay_us_mean = w.baseline().one_way_delay_us_mean;
        w.network().set_options(o);
        Cluster& cluster = w.cluster();
        for (AuthorityIndex a = 0; a < cluster.committee().size(); ++a) {
          if (w.paused(a)) w.Resume(a);
          if (!cluster.IsUp(a)) cluster.Restart(a);
          for (uint32_t role = 0; role <= cluster.committee().workers_per_authority(); ++role) {
            cluster.RestartRole(a, role);
          }
        }
        cluster.RestartHalted();  // roles stopped by a store failure
      },
      .describe = [](const FaultEvent&) -> std::string {
        return "heal_all (network healed, rates reset, crashed restarted, paused resumed)";
      },
      .period = [](PeriodBook& book, const FaultEvent& f) { book.CloseAll(f.at_us); },
  };
  return k;
}

}  // namespace narwhal::sim::faults
