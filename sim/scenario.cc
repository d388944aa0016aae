#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/container/btree_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/byzantine.h"
#include "glog/logging.h"
#include "google/protobuf/util/json_util.h"
#include "sim/faults/fault_kind.h"
#include "sim/scenario.pb.h"
#include "sim/storage_options.h"

namespace narwhal::sim {
namespace {

namespace pb = ::narwhal::sim::scenario;
TimeUs SecondsToUs(double s) { return faults::ToUsSaturating(s * 1e6); }
using faults::MillisToUs;

class Errors {
 public:
  explicit Errors(absl::string_view origin) : origin_(origin) {}
  absl::Status Bad(absl::string_view field, absl::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat(origin_, ": ", field, ": ", why));
  }

 private:
  std::string origin_;
};

absl::Status CheckGroup(const Errors& e, const std::string& field, const std::vector<AuthorityIndex>& g, size_t n) {
  absl::btree_set<AuthorityIndex> seen;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g[i] >= n) {
      return e.Bad(absl::StrCat(field, "[", i, "]"),
                   absl::StrCat("authority ", g[i], " is not in the committee (size ", n, ")"));
    }
    if (!seen.insert(g[i]).second) return e.Bad(absl::StrCat(field, "[", i, "]"), absl::StrCat("authority ", g[i], " listed twice"));
  }
  return absl::OkStatus();
}

std::vector<AuthorityIndex> Complement(const std::vector<AuthorityIndex>& g, size_t n) {
  std::vector<AuthorityIndex> out;
  for (AuthorityIndex a = 0; a < n; ++a) {
    if (std::find(g.begin(), g.end(), a) == g.end()) out.push_back(a);
  }
  return out;
}

// One scenario fault (plus its `until_s` end, if any) onto `out`. Which
// fields a kind reads, how its values are checked and what ends it are its
// entry in the fault table (sim/faults/fault_kind.h).
absl::Status AddFault(const Errors& e, const pb::Fault& f, size_t index, const SimulationOptions& o,
                      std::vector<FaultEvent>* out) {
  const std::string field = absl::StrCat("faults[", index, "]");
  std::vector<std::string> names;
  for (const faults::FaultKind* k : faults::AllFaultKinds()) names.push_back(k->name);
  if (f.kind().empty()) return e.Bad(absl::StrCat(field, ".kind"), absl::StrCat("missing; one of ", absl::StrJoin(names, ", ")));
  const faults::FaultKind* kind = faults::FindKind(f.kind());
  if (kind == nullptr) {
    return e.Bad(absl::StrCat(field, ".kind"),
                 absl::StrCat("unknown kind \"", f.kind(), "\"; one of ", absl::StrJoin(names, ", ")));
  }
  const auto uses = [&](faults::Field x) { return (kind->fields & x) != 0; };
  if (!(f.at_s() >= 0)) return e.Bad(absl::StrCat(field, ".at_s"), "must be >= 0");
  FaultEvent ev;
  ev.kind = kind->kind;
  ev.at_us = SecondsToUs(f.at_s());
  if (ev.at_us >= o.duration_us) {
    return e.Bad(absl::StrCat(field, ".at_s"), absl::StrCat(f.at_s(), " is not before the end of the run (duration_s ",
                                                            o.duration_us / 1e6, ")"));
  }
  const size_t n = o.cluster.nodes;
  if (uses(faults::kNode)) {
    if (!f.has_node()) return e.Bad(absl::StrCat(field, ".node"), absl::StrCat("required for ", f.kind()));
    if (f.node() >= n) {
      return e.Bad(absl::StrCat(field, ".node"), absl::StrCat("authority ", f.node(), " is not in the committee (size ", n, ")"));
    }
    ev.node = f.node();
  } else if (f.has_node()) {
    return e.Bad(absl::StrCat(field, ".node"), absl::StrCat("not used by ", f.kind()));
  }
  if (uses(faults::kGroups)) {
    if (f.group_a().empty()) return e.Bad(absl::StrCat(field, ".group_a"), absl::StrCat("required for ", f.kind()));
    ev.group_a.assign(f.group_a().begin(), f.group_a().end());
    ev.group_b.assign(f.group_b().begin(), f.group_b().end());
    if (auto s = CheckGroup(e, absl::StrCat(field, ".group_a"), ev.group_a, n); !s.ok()) return s;
    if (auto s = CheckGroup(e, absl::StrCat(field, ".group_b"), ev.group_b, n); !s.ok()) return s;
    if (ev.group_b.empty()) ev.group_b = Complement(ev.group_a, n);
    if (ev.group_b.empty()) return e.Bad(absl::StrCat(field, ".group_a"), "covers the whole committee: nobody is cut off");
  } else if (!f.group_a().empty() || !f.group_b().empty()) {
    return e.Bad(absl::StrCat(field, ".group_a"), absl::StrCat("not used by ", f.kind()));
  }
  if (!f.role().empty()) {
    if (!uses(faults::kRole)) return e.Bad(absl::StrCat(field, ".role"), absl::StrCat("not used by ", f.kind()));
    if (f.role() != "primary" && f.role() != "workers") {
      return e.Bad(absl::StrCat(field, ".role"), absl::StrCat("must be \"primary\" or \"workers\", got \"", f.role(), "\""));
    }
    ev.role = f.role();
  }
  if (kind->parse_values != nullptr) {
    const faults::FieldError bad = [&](absl::string_view name, absl::string_view why) {
      return e.Bad(absl::StrCat(field, ".", name), why);
    };
    if (auto s = kind->parse_values(f, bad, &ev); !s.ok()) return s;
  }
  if (!uses(faults::kLoss) && f.has_loss()) return e.Bad(absl::StrCat(field, ".loss"), absl::StrCat("not used by ", f.kind()));
  if (!uses(faults::kDelayMs) && f.has_delay_ms()) {
    return e.Bad(absl::StrCat(field, ".delay_ms"), absl::StrCat("not used by ", f.kind()));
  }
  if (!uses(faults::kExtraDelayMs) && f.has_extra_delay_ms()) {
    return e.Bad(absl::StrCat(field, ".extra_delay_ms"), absl::StrCat("not used by ", f.kind()));
  }
  out->push_back(ev);
  if (!f.has_until_s()) return absl::OkStatus();
  if (f.until_s() <= f.at_s()) return e.Bad(absl::StrCat(field, ".until_s"), "must be after at_s");
  const TimeUs until_us = SecondsToUs(f.until_s());
  if (until_us >= o.duration_us) {
    return e.Bad(absl::StrCat(field, ".until_s"), absl::StrCat(f.until_s(), " is not before the end of the run (duration_s ",
                                                               o.duration_us / 1e6, ")"));
  }
  if (!kind->ended_by) return e.Bad(absl::StrCat(field, ".until_s"), absl::StrCat(f.kind(), " has no end"));
  out->push_back(faults::EndEvent(ev, until_us, o.cluster.network));
  return absl::OkStatus();
}

absl::Status ApplyCommittee(const Errors& e, const pb::Committee& c, SimulationOptions* o) {
  if (c.size() > 0) o->cluster.nodes = c.size();
  if (!c.stakes().empty()) {
    if (c.size() == 0) o->cluster.nodes = c.stakes_size();
    if (static_cast<size_t>(c.stakes_size()) != o->cluster.nodes) {
      return e.Bad("committee.stakes", absl::StrCat("has ", c.stakes_size(), " entries for ", o->cluster.nodes,
                                                    " authorities"));
    }
    o->cluster.stakes.clear();
    for (int i = 0; i < c.stakes_size(); ++i) {
      if (c.stakes(i) == 0) return e.Bad(absl::StrCat("committee.stakes[", i, "]"), "must be > 0");
      o->cluster.stakes.push_back(c.stakes(i));
    }
  } else if (c.size() > 0) {
    o->cluster.stakes.clear();
  }
  if (o->cluster.nodes < 1 || o->cluster.nodes > 1000) return e.Bad("committee.size", "must be in 1..1000");
  if (c.workers() > 16) return e.Bad("committee.workers", "must be in 1..16");
  if (c.workers() > 0) o->cluster.workers = c.workers();
  if (c.signatures() == "ed25519") {
    o->cluster.scheme = SignatureScheme::kEd25519;
  } else if (c.signatures() == "insecure") {
    o->cluster.scheme = SignatureScheme::kSimInsecure;
  } else if (!c.signatures().empty()) {
    return e.Bad("committee.signatures", absl::StrCat("must be \"ed25519\" or \"insecure\", got \"", c.signatures(), "\""));
  }
  if (c.store() == "sqlite") {
    o->sqlite_store = true;
  } else if (c.store() == "memory") {
    o->sqlite_store = false;
  } else if (!c.store().empty()) {
    return e.Bad("committee.store", absl::StrCat("must be \"memory\" or \"sqlite\", got \"", c.store(), "\""));
  }
  return absl::OkStatus();
}

absl::Status ApplyNetwork(const Errors& e, const pb::Network& n, NetworkOptions* net) {
  if (n.delay_distribution() == "uniform") {
    net->delay_distribution = DelayDistribution::kUniform;
  } else if (n.delay_distribution() == "exponential") {
    net->delay_distribution = DelayDistribution::kExponential;
  } else if (!n.delay_distribution().empty()) {
    return e.Bad("network.delay_distribution",
                 absl::StrCat("must be \"exponential\" or \"uniform\", got \"", n.delay_distribution(), "\""));
  }
  if (n.one_way_delay_ms_min() < 0) return e.Bad("network.one_way_delay_ms_min", "must be >= 0");
  if (n.one_way_delay_ms_min() > 0) net->one_way_delay_us_min = MillisToUs(n.one_way_delay_ms_min());
  if (n.one_way_delay_ms_mean() < 0) return e.Bad("network.one_way_delay_ms_mean", "must be > 0");
  if (n.one_way_delay_ms_mean() > 0) net->one_way_delay_us_mean = MillisToUs(n.one_way_delay_ms_mean());
  if (net->one_way_delay_us_mean < net->one_way_delay_us_min) {
    return e.Bad("network.one_way_delay_ms_mean", "must be >= one_way_delay_ms_min");
  }
  if (n.has_packet_loss_probability()) {
    if (n.packet_loss_probability() < 0 || n.packet_loss_probability() > 1) {
      return e.Bad("network.packet_loss_probability", "must be a probability in [0, 1]");
    }
    net->packet_loss_probability = n.packet_loss_probability();
  }
  if (n.has_one_way_block_stalls_both_ways()) net->one_way_block_stalls_both_ways = n.one_way_block_stalls_both_ways();
  if (n.has_packet_duplication_probability()) {
    if (n.packet_duplication_probability() < 0 || n.packet_duplication_probability() > 1) {
      return e.Bad("network.packet_duplication_probability", "must be a probability in [0, 1]");
    }
    net->packet_duplication_probability = n.packet_duplication_probability();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SimulationOptions> ParseScenario(absl::string_view json, absl::string_view origin,
                                                SimulationOptions o) {
  const Errors e(origin);
  pb::Scenario s;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(std::string(json), &s, parse);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": not a valid scenario: ",
                                                   std::string(st.message().data(), st.message().size())));
  }
  if (!s.name().empty()) o.scenario_name = s.name();
  if (s.has_seed()) o.cluster.seed = s.seed();
  if (s.duration_s() < 0 || std::isnan(s.duration_s())) return e.Bad("duration_s", "must be > 0");
  if (s.duration_s() > 1e7) return e.Bad("duration_s", "must be at most 10,000,000 s");
  if (s.duration_s() > 0) {
    o.duration_us = SecondsToUs(s.duration_s());
    o.drain_us = std::min<TimeUs>(10 * kSecondUs, o.duration_us / 3);  // unless load.drain_s says
  }
  if (s.liveness_bound_s() < 0) return e.Bad("liveness_bound_s", "must be > 0");
  if (s.liveness_bound_s() > 0) o.liveness_bound_us = SecondsToUs(s.liveness_bound_s());
  if (auto r = ApplyCommittee(e, s.committee(), &o); !r.ok()) return r;

  if (s.has_parameters()) {
    config::Parameters merged = o.cluster.params.ToProto();
    merged.MergeFrom(s.parameters());
    auto params = Parameters::FromProto(merged);
    if (!params.ok()) return absl::InvalidArgumentError(absl::StrCat(origin, ": ", params.status().message()));
    o.cluster.params = *params;
  }

  const pb::Load& load = s.load();
  if (load.has_transactions_per_s()) {
    if (load.transactions_per_s() < 0) return e.Bad("load.transactions_per_s", "must be >= 0");
    o.transactions_per_s = load.transactions_per_s();
  }
  if (load.transaction_size_bytes() > 0) {
    if (load.transaction_size_bytes() < 8) return e.Bad("load.transaction_size_bytes", "must be >= 8 (the id)");
    o.transaction_size_bytes = load.transaction_size_bytes();
  }
  if (load.has_drain_s()) {
    if (load.drain_s() < 0) return e.Bad("load.drain_s", "must be >= 0");
    o.drain_us = SecondsToUs(load.drain_s());
  }
  if (o.drain_us >= o.duration_us) return e.Bad("load.drain_s", "must be shorter than duration_s");

  if (auto r = ApplyNetwork(e, s.network(), &o.cluster.network); !r.ok()) return r;

  if (!s.byzantine().empty()) o.cluster.byzantine.clear();
  for (int i = 0; i < s.byzantine_size(); ++i) {
    const pb::Byzantine& b = s.byzantine(i);
    const std::string field = absl::StrCat("byzantine[", i, "]");
    if (b.authority() >= o.cluster.nodes) {
      return e.Bad(absl::StrCat(field, ".authority"),
                   absl::StrCat("authority ", b.authority(), " is not in the committee (size ", o.cluster.nodes, ")"));
    }
    if (o.cluster.byzantine.contains(b.authority())) {
      return e.Bad(absl::StrCat(field, ".authority"), absl::StrCat("authority ", b.authority(), " listed twice"));
    }
    if (b.behaviours().empty()) {
      return e.Bad(absl::StrCat(field, ".behaviours"),
                   absl::StrCat("empty; one or more of ", absl::StrJoin(ByzantineBehavior::AllNames(), ", ")));
    }
    // One name per entry: an empty name or a comma-joined list would parse
    // (Parse splits on commas and skips empty parts) but not print back as
    // written (found by fuzzing: [""] became an empty behaviour list).
    for (const std::string& name : b.behaviours()) {
      if (name.empty() || absl::StrContains(name, ",")) {
        return e.Bad(absl::StrCat(field, ".behaviours"),
                     absl::StrCat("\"", name, "\" is not one name; one or more of ",
                                  absl::StrJoin(ByzantineBehavior::AllNames(), ", ")));
      }
    }
    std::vector<std::string> names(b.behaviours().begin(), b.behaviours().end());
    auto parsed = ByzantineBehavior::Parse(absl::StrJoin(names, ","));
    if (!parsed.ok()) return e.Bad(absl::StrCat(field, ".behaviours"), parsed.status().message());
    DCHECK(parsed->any()) << "every entry is one known name";
    o.cluster.byzantine[b.authority()] = *parsed;
  }

  if (!s.faults().empty()) o.faults.clear();
  for (int i = 0; i < s.faults_size(); ++i) {
    if (auto r = AddFault(e, s.faults(i), i, o, &o.faults); !r.ok()) return r;
  }
  if (s.heal_at_s() < 0) return e.Bad("heal_at_s", "must be >= 0");
  if (s.heal_at_s() > 0) {
    if (SecondsToUs(s.heal_at_s()) >= o.duration_us) return e.Bad("heal_at_s", "must be before the end of the run");
    FaultEvent heal;
    heal.at_us = SecondsToUs(s.heal_at_s());
    heal.kind = FaultEvent::Kind::kHealAll;
    o.faults.push_back(heal);
  }
  std::stable_sort(o.faults.begin(), o.faults.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; });
  if (s.crash_restarts() > 0) o.crash_restarts = static_cast<int>(s.crash_restarts());
  if (s.swarm()) o.swarm = true;
  // The swarm draws its faults up to its heal_all at max(1 s, duration / 2).
  if (o.swarm && o.duration_us <= kSecondUs) return e.Bad("swarm", "needs duration_s above 1");
  if (s.test_only_break_commit_rule()) o.cluster.consensus.test_only_break_commit_rule = true;
  if (s.swarm_storage_faults()) o.swarm_storage_faults = true;
  if (s.has_storage_faults()) {
    const pb::StorageFaults& p = s.storage_faults();
    StorageFaultOptions& sf = o.cluster.storage_faults;
    sf = StorageFaultOptions{};
    sf.write_failure_probability = p.write_failure_probability();
    sf.read_failure_probability = p.read_failure_probability();
    sf.corrupt_read_probability = p.corrupt_read_probability();
    sf.torn_read_probability = p.torn_read_probability();
    sf.nodes.assign(p.nodes().begin(), p.nodes().end());
    sf.from_us = SecondsToUs(p.from_s());
    sf.until_us = SecondsToUs(p.until_s());
    if (!p.sqlite_synchronous().empty()) {
      auto mode = ParseSynchronousMode(p.sqlite_synchronous());
      if (!mode) return e.Bad("storage_faults.sqlite_synchronous", "must be FULL or NORMAL");
      sf.synchronous = *mode;
    }
    if (p.has_sync_interval_ms()) sf.sync_interval_us = static_cast<TimeUs>(p.sync_interval_ms() * kMillisecondUs);
    sf.crash_is_power_loss = p.crash_is_power_loss();
    sf.test_only_primary_synchronous_normal = p.test_only_primary_synchronous_normal();
  }
  if (absl::Status v = ValidateStorageFaults(o); !v.ok()) return e.Bad("storage_faults", v.message());
  return o;
}

absl::StatusOr<SimulationOptions> LoadScenarioFile(const std::string& path, SimulationOptions base) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open scenario file"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseScenario(text.str(), path, std::move(base));
}

std::string ScenarioJson(const SimulationOptions& unresolved, absl::string_view name,
                         absl::string_view description) {
  const SimulationOptions o = ResolveSchedule(unresolved);
  pb::Scenario s;
  s.set_name(std::string(name));
  s.set_description(std::string(description));
  s.set_seed(o.cluster.seed);
  s.set_duration_s(o.duration_us / 1e6);
  s.set_liveness_bound_s(o.liveness_bound_us / 1e6);
  pb::Committee* c = s.mutable_committee();
  c->set_size(static_cast<uint32_t>(o.cluster.nodes));
  for (uint64_t stake : o.cluster.stakes) c->add_stakes(stake);
  c->set_workers(o.cluster.workers);
  c->set_signatures(o.cluster.scheme == SignatureScheme::kEd25519 ? "ed25519" : "insecure");
  c->set_store(o.sqlite_store ? "sqlite" : "memory");
  *s.mutable_parameters() = o.cluster.params.ToProto();
  pb::Load* load = s.mutable_load();
  load->set_transactions_per_s(o.transactions_per_s);
  load->set_transaction_size_bytes(static_cast<uint32_t>(o.transaction_size_bytes));
  load->set_drain_s(o.drain_us / 1e6);
  pb::Network* n = s.mutable_network();
  const NetworkOptions& net = o.cluster.network;
  n->set_delay_distribution(net.delay_distribution == DelayDistribution::kUniform ? "uniform" : "exponential");
  n->set_one_way_delay_ms_mean(net.one_way_delay_us_mean / 1e3);
  n->set_one_way_delay_ms_min(net.one_way_delay_us_min / 1e3);
  n->set_packet_loss_probability(net.packet_loss_probability);
  n->set_packet_duplication_probability(net.packet_duplication_probability);
  n->set_one_way_block_stalls_both_ways(net.one_way_block_stalls_both_ways);
  for (const FaultEvent& f : o.faults) {
    pb::Fault* p = s.add_faults();
    p->set_at_s(f.at_us / 1e6);
    const faults::FaultKind& kind = faults::KindOf(f.kind);
    p->set_kind(kind.name);
    if (kind.fields & faults::kNode) p->set_node(f.node);
    if (kind.fields & faults::kGroups) {
      for (AuthorityIndex a : f.group_a) p->add_group_a(a);
      for (AuthorityIndex a : f.group_b) p->add_group_b(a);
    }
    if (!f.role.empty()) p->set_role(f.role);
    if (kind.print_values != nullptr) kind.print_values(f, p);
  }
  for (const auto& [a, b] : o.cluster.byzantine) {
    pb::Byzantine* p = s.add_byzantine();
    p->set_authority(a);
    for (absl::string_view name : absl::StrSplit(b.ToString(), ',', absl::SkipEmpty())) {
      p->add_behaviours(std::string(name));
    }
  }
  if (o.cluster.consensus.test_only_break_commit_rule) s.set_test_only_break_commit_rule(true);
  if (const StorageFaultOptions& sf = o.cluster.storage_faults; sf.enabled()) {
    pb::StorageFaults* p = s.mutable_storage_faults();
    p->set_write_failure_probability(sf.write_failure_probability);
    p->set_read_failure_probability(sf.read_failure_probability);
    p->set_corrupt_read_probability(sf.corrupt_read_probability);
    p->set_torn_read_probability(sf.torn_read_probability);
    for (AuthorityIndex a : sf.nodes) p->add_nodes(a);
    p->set_from_s(sf.from_us / 1e6);
    p->set_until_s(sf.until_us / 1e6);
    p->set_sqlite_synchronous(SynchronousModeName(sf.synchronous));
    p->set_sync_interval_ms(sf.sync_interval_us / 1e3);
    p->set_crash_is_power_loss(sf.crash_is_power_loss);
    p->set_test_only_primary_synchronous_normal(sf.test_only_primary_synchronous_normal);
  }
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(s, &out, print);
  CHECK(st.ok()) << st;
  return out;
}

}  // namespace narwhal::sim
