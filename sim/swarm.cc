#include "sim/swarm.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/byzantine.h"
#include "core/random.h"
#include "glog/logging.h"
#include "sim/faults/fault_kind.h"
#include "sim/storage_options.h"

namespace narwhal::sim {
namespace {

using K = FaultEvent::Kind;

// An interval during which `node` is crashed or paused.
struct Down {
  AuthorityIndex node;
  TimeUs start_us, end_us;
};

using faults::Shuffled;

FaultEvent Event(TimeUs at, K kind) {
  FaultEvent f;
  f.at_us = at;
  f.kind = kind;
  return f;
}

}  // namespace

TimeUs SwarmHealUs(const SimulationOptions& o) {
  // Faults in the first half; the second half is the liveness phase (the
  // load stops drain_us before the end so accepted transactions can commit).
  return std::max<TimeUs>(kSecondUs, o.duration_us / 2 / kMillisecondUs * kMillisecondUs);
}

std::string DrawSwarm(SimulationOptions* o) {
  Random r(Random::DeriveSeed(o->cluster.seed, "swarm"));
  const size_t n = o->cluster.nodes;
  std::vector<uint64_t> stakes = o->cluster.stakes;
  if (stakes.empty()) stakes.assign(n, 1);
  uint64_t total = 0;
  for (uint64_t s : stakes) total += s;
  // Faulty stake (Byzantine + down at once) must stay below f+1.
  const uint64_t validity = (total + 2) / 3;
  uint64_t budget = validity - 1;

  NetworkOptions& net = o->cluster.network;
  net.delay_distribution = r.Bernoulli(0.5) ? DelayDistribution::kUniform : DelayDistribution::kExponential;
  static constexpr int kDelaysMs[] = {5, 10, 20, 50, 100, 250};
  net.one_way_delay_us_mean = std::max<TimeUs>(kDelaysMs[r.Uniform(6)] * kMillisecondUs, net.one_way_delay_us_min);
  // The baseline is what the liveness phase runs on after heal_all: keep it
  // mild (heavy loss comes as bursts, which the heal ends). With 20% loss
  // and f vote-withholders a 4-authority committee advances ~3x slower and
  // a 10 s drain is not enough to commit everything accepted.
  net.packet_loss_probability = r.Bernoulli(0.4) ? 0.0 : std::round(r.NextDouble() * 0.05 * 1000) / 1000;
  net.packet_duplication_probability = r.Bernoulli(0.6) ? 0.0 : std::round(r.NextDouble() * 0.05 * 1000) / 1000;

  std::vector<std::string> byz_notes;
  if (o->cluster.byzantine.empty() && budget > 0 && r.Bernoulli(0.3)) {
    const std::vector<std::string> names = ByzantineBehavior::AllNames();
    const size_t want = 1 + r.Uniform(n);
    for (AuthorityIndex a : Shuffled(r, n)) {
      if (o->cluster.byzantine.size() >= want || stakes[a] > budget) continue;
      std::vector<std::string> chosen = {names[r.Uniform(names.size())]};
      if (r.Bernoulli(0.3)) {
        const std::string& second = names[r.Uniform(names.size())];
        if (second != chosen[0]) chosen.push_back(second);
      }
      auto b = ByzantineBehavior::Parse(absl::StrJoin(chosen, ","));
      CHECK(b.ok()) << b.status();
      o->cluster.byzantine[a] = *b;
      budget -= stakes[a];
      byz_notes.push_back(absl::StrCat(a, ":", absl::StrJoin(chosen, "+")));
    }
  } else {
    for (const auto& [a, b] : o->cluster.byzantine) budget -= std::min(budget, stakes[a]);
  }

  const TimeUs heal = SwarmHealUs(*o);
  const TimeUs first = kSecondUs / 2;
  std::vector<FaultEvent> out;
  std::vector<Down> downs;
  // Whether authority `v` may be down over [start, end]: not already down
  // then, and the stake down at once stays within the fault budget.
  auto Fits = [&](AuthorityIndex v, TimeUs start, TimeUs end) {
    uint64_t down_stake = stakes[v];
    for (const Down& d : downs) {
      if (d.start_us > end || start > d.end_us) continue;
      if (d.node == v) return false;
      down_stake += stakes[d.node];
    }
    return down_stake <= budget;
  };
  // One process of an authority crashed alone (its primary, or its
  // workers), as separate processes do in the node, in about 30% of the
  // seeds (drawn before the long cut below, which then fits around it);
  // from a generator of its own, like the long cut.
  std::string role_crash;
  Random role_r(Random::DeriveSeed(o->cluster.seed, "swarm_role_crash"));
  if (n >= 4 && heal > 4 * kSecondUs && budget > 0 && role_r.Bernoulli(0.3)) {
    const TimeUs start = role_r.UniformRange(first, heal / 2) / kMillisecondUs * kMillisecondUs;
    const TimeUs end = std::min(heal, start + role_r.UniformRange(kSecondUs, 15 * kSecondUs)) / kMillisecondUs *
                       kMillisecondUs;
    const char* which = role_r.Bernoulli(0.5) ? "primary" : "workers";
    for (AuthorityIndex v : Shuffled(role_r, n)) {
      if (o->cluster.byzantine.contains(v) || start >= end) continue;
      if (!Fits(v, start, end)) continue;
      FaultEvent crash = Event(start, K::kCrash);
      crash.node = v;
      crash.role = which;
      FaultEvent restart = crash;
      restart.at_us = end;
      restart.kind = K::kRestart;
      out.insert(out.end(), {crash, restart});
      downs.push_back({v, start, end});
      role_crash = absl::StrFormat(", authority %d's %s crashed alone %.3f-%.3f s", v, which, start / 1e6, end / 1e6);
      break;
    }
  }
  // A long cut that crosses garbage collection (issue 12: an authority cut
  // off for longer than gc_depth rounds of the others never certified
  // again; episodes of at most 10 s at gc_depth 50 never crossed it). One
  // authority's primary is cut first, its worker up to 2 s later (separate
  // processes, separate connections), until shortly before the heal; and
  // gc_depth is made small enough for the cut to cross it. Drawn before the
  // shorter episodes, so that they respect its fault budget, and from a
  // generator of its own, so that every other draw of a seed stays what it
  // was (a seed without a cut replays as before).
  std::string long_cut;
  Random cut_r(Random::DeriveSeed(o->cluster.seed, "swarm_long_cut"));
  if (n >= 4 && heal > 4 * kSecondUs && budget > 0 && cut_r.Bernoulli(0.35)) {
    const TimeUs start = cut_r.UniformRange(first, heal / 3) / kMillisecondUs * kMillisecondUs;
    const TimeUs lag = cut_r.UniformRange(0, 2 * kSecondUs) / kMillisecondUs * kMillisecondUs;
    const TimeUs end = (heal - cut_r.UniformRange(0, kSecondUs)) / kMillisecondUs * kMillisecondUs;
    for (AuthorityIndex v : Shuffled(cut_r, n)) {
      if (o->cluster.byzantine.contains(v) || start + lag >= end) continue;
      if (!Fits(v, start, end)) continue;
      const std::vector<AuthorityIndex> alone = {v};
      std::vector<AuthorityIndex> rest;
      for (AuthorityIndex x = 0; x < n; ++x) {
        if (x != v) rest.push_back(x);
      }
      FaultEvent primary = Event(start, K::kPartition);
      primary.group_a = alone;
      primary.group_b = rest;
      primary.role = "primary";
      FaultEvent whole = Event(start + lag, K::kPartition);
      whole.group_a = alone;
      whole.group_b = rest;
      FaultEvent whole_end = whole;
      whole_end.at_us = end;
      whole_end.kind = K::kUnpartition;
      FaultEvent primary_end = primary;
      primary_end.at_us = end;
      primary_end.kind = K::kUnpartition;
      out.insert(out.end(), {primary, whole, whole_end, primary_end});
      downs.push_back({v, start, end});
      static constexpr Round kSmallGcDepths[] = {6, 10, 20};
      o->cluster.params.gc_depth = kSmallGcDepths[cut_r.Uniform(3)];
      long_cut = absl::StrFormat(", authority %d cut off %.3f-%.3f s (primary first, %d ms ahead), gc_depth %d", v,
                                 start / 1e6, end / 1e6, lag / kMillisecondUs, o->cluster.params.gc_depth);
      break;
    }
  }
  // Episodes: kinds the fault table lets the swarm draw (swarm_weight),
  // each with its end before the heal.
  uint64_t total_weight = 0;
  for (const faults::FaultKind* k : faults::AllFaultKinds()) total_weight += k->swarm_weight;
  CHECK_GT(total_weight, 0u) << "no fault kind has a swarm weight";
  faults::SwarmDraw draw{
      .random = r,
      .nodes = n,
      .network = net,
      .is_byzantine = [&](AuthorityIndex v) { return o->cluster.byzantine.contains(v); },
      .fits = Fits,
      .mark_down = [&](AuthorityIndex v, TimeUs start, TimeUs end) { downs.push_back({v, start, end}); },
  };
  const int episodes = static_cast<int>(r.Uniform(9));
  for (int e = 0; e < episodes && heal - first > kSecondUs / 2; ++e) {
    const TimeUs start = r.UniformRange(first, heal - kSecondUs / 4) / kMillisecondUs * kMillisecondUs;
    const TimeUs len = r.UniformRange(200 * kMillisecondUs, std::max(200 * kMillisecondUs, std::min<TimeUs>(10 * kSecondUs, heal - start)));
    const TimeUs end = std::min(heal, start + len) / kMillisecondUs * kMillisecondUs;
    if (end <= start) continue;
    // One kind, drawn by its swarm weight in table order.
    uint64_t pick = r.Uniform(total_weight);
    const faults::FaultKind* kind = nullptr;
    for (const faults::FaultKind* k : faults::AllFaultKinds()) {
      if (pick < static_cast<uint64_t>(k->swarm_weight)) {
        kind = k;
        break;
      }
      pick -= k->swarm_weight;
    }
    CHECK(kind != nullptr);
    std::optional<FaultEvent> f = kind->swarm_draw(draw, start, end);
    if (!f) continue;
    out.push_back(*f);
    out.push_back(faults::EndEvent(*f, end, net));
  }
  out.push_back(Event(heal, K::kHealAll));
  std::stable_sort(out.begin(), out.end(), [](const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; });
  o->faults.insert(o->faults.end(), out.begin(), out.end());
  const std::string storage = o->swarm_storage_faults ? absl::StrCat("; ", DrawStorageFaults(o, heal)) : "";
  return absl::StrFormat(
      "swarm: delay %s mean %d ms, loss %.3f, duplication %.3f, byzantine [%s], %d fault events, heal_all at %.3f s%s%s%s",
      net.delay_distribution == DelayDistribution::kUniform ? "uniform" : "exponential",
      net.one_way_delay_us_mean / kMillisecondUs, net.packet_loss_probability, net.packet_duplication_probability,
      absl::StrJoin(byz_notes, ","), out.size() - 1, heal / 1e6, long_cut, role_crash, storage);
}

}  // namespace narwhal::sim
