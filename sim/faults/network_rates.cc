// Fault kinds that change the whole network's rates: set_loss (the loss
// probability) and set_delay (the mean one-way delay). Each is ended by the
// next change of the same rate; `until_s` writes one back to the baseline.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "sim/faults/fault_kind.h"
#include "sim/scenario.pb.h"

namespace narwhal::sim::faults {

const FaultKind& SetLossKind() {
  static const FaultKind k{
      .kind = FaultEvent::Kind::kSetLoss,
      .name = "set_loss",
      .fields = kLoss,
      .parse_values = [](const scenario::Fault& in, const FieldError& bad, FaultEvent* out) {
        if (!in.has_loss()) return bad("loss", "required for set_loss");
        if (in.loss() < 0 || in.loss() > 1) return bad("loss", "must be a probability in [0, 1]");
        out->value = in.loss();
        return absl::OkStatus();
      },
      .print_values = [](const FaultEvent& f, scenario::Fault* out) { out->set_loss(f.value); },
      .ended_by = FaultEvent::Kind::kSetLoss,
      .end_values = [](const NetworkOptions& baseline, FaultEvent* end) {
        end->value = baseline.packet_loss_probability;
      },
      .apply = [](World& w, const FaultEvent& f) {
        NetworkOptions o = w.network().options();
        o.packet_loss_probability = f.value;
        w.network().set_options(o);
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("loss=", f.value); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Close("loss", f.at_us);
        if (f.value != book.baseline().packet_loss_probability) {
          book.Start("loss", "loss", absl::StrCat("loss ", f.value), f.at_us);
        }
      },
      .period_kind = "loss",
      .period_color = "#1f77b4",
      .swarm_weight = 1,
      // A loss burst of 20-60% (the baseline stays mild, see swarm.cc).
      .swarm_draw = [](SwarmDraw& d, TimeUs start_us, TimeUs) -> std::optional<FaultEvent> {
        FaultEvent f;
        f.at_us = start_us;
        f.kind = FaultEvent::Kind::kSetLoss;
        f.value = std::round((0.2 + 0.4 * d.random.NextDouble()) * 1000) / 1000;
        return f;
      },
  };
  return k;
}

const FaultKind& SetDelayKind() {
  static const FaultKind k{
      .kind = FaultEvent::Kind::kSetDelay,
      .name = "set_delay",
      .fields = kDelayMs,
      .parse_values = [](const scenario::Fault& in, const FieldError& bad, FaultEvent* out) {
        if (!in.has_delay_ms()) return bad("delay_ms", "required for set_delay");
        if (in.delay_ms() <= 0) return bad("delay_ms", "must be > 0");
        out->value_us = MillisToUs(in.delay_ms());
        return absl::OkStatus();
      },
      .print_values = [](const FaultEvent& f, scenario::Fault* out) { out->set_delay_ms(f.value_us / 1e3); },
      .ended_by = FaultEvent::Kind::kSetDelay,
      .end_values = [](const NetworkOptions& baseline, FaultEvent* end) {
        end->value_us = baseline.one_way_delay_us_mean;
      },
      .apply = [](World& w, const FaultEvent& f) {
        NetworkOptions o = w.network().options();
        o.one_way_delay_us_mean = std::max(f.value_us, o.one_way_delay_us_min);
        w.network().set_options(o);
      },
      .describe = [](const FaultEvent& f) { return absl::StrCat("delay_mean_ms=", f.value_us / 1000); },
      .period = [](PeriodBook& book, const FaultEvent& f) {
        book.Close("delay", f.at_us);
        if (f.value_us != book.baseline().one_way_delay_us_mean) {
          book.Start("delay", "delay", absl::StrCat("delay ", f.value_us / kMillisecondUs, " ms"), f.at_us);
        }
      },
      .period_kind = "delay",
      .period_color = "#17becf",
      .swarm_weight = 1,
      // A latency spike to a 100-1000 ms mean.
      .swarm_draw = [](SwarmDraw& d, TimeUs start_us, TimeUs) -> std::optional<FaultEvent> {
        FaultEvent f;
        f.at_us = start_us;
        f.kind = FaultEvent::Kind::kSetDelay;
        f.value_us = d.random.UniformRange(100, 1000) * kMillisecondUs;
        return f;
      },
  };
  return k;
}

}  // namespace narwhal::sim::faults
