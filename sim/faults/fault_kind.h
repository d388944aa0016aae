// One fault kind is one table entry (DESIGN.md section 8: "Faults and
// Byzantine behaviours are data"): everything the simulator does with a
// kind of fault, in one place: its scenario name and fields, how it acts on
// the running cluster, how it reads in a log, which stretch of time it
// shades in plots, whether and how often the swarm draws it, and which
// event ends it (for `until_s` and for minimization). Scenario parsing and
// printing, the applier, FaultPeriods, the swarm and the minimizer read the
// table and know no kind by name.
//
// A kind is defined in its own file under sim/faults/ (or beside its
// siblings: links.cc holds partition, block and clog and their ends) and
// registered by one line of sim/faults/kinds.def. docs/simulator.md
// ("Adding a fault kind") walks through an example.
#ifndef NARWHAL_SIM_FAULTS_FAULT_KIND_H_
#define NARWHAL_SIM_FAULTS_FAULT_KIND_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/random.h"
#include "sim/cluster.h"
#include "sim/simulation_options.h"

namespace narwhal::sim::scenario {
class Fault;  // sim/scenario.proto
}

namespace narwhal::sim::faults {

// The optional fields of a scenario fault (sim/scenario.proto) a kind reads.
// Scenario parsing requires node and group_a of a kind that reads them,
// refuses every field a kind does not read, and prints back exactly these.
enum Field : uint32_t {
  kNode = 1 << 0,          // "node"
  kGroups = 1 << 1,        // "group_a" and "group_b" (empty group_b: everyone else)
  kRole = 1 << 2,          // "role": "primary" or "workers" (optional)
  kLoss = 1 << 3,          // "loss"
  kDelayMs = 1 << 4,       // "delay_ms"
  kExtraDelayMs = 1 << 5,  // "extra_delay_ms"
};

// The error for one field of the fault being parsed:
// bad("loss", "must be ...") is "FILE: faults[2].loss: must be ...".
using FieldError = std::function<absl::Status(absl::string_view field, absl::string_view why)>;

// What a fault acts on when it fires: the cluster, its network, the run's
// network baseline and which authorities are paused. Keeps each authority's
// state so that an event that makes no sense at that moment (a restart of a
// running node, a resume of a crashed one: what minimization produces when
// it removes half of a pair) is skipped with a log line.
class World {
 public:
  World(Cluster* cluster, NetworkOptions baseline);
  Cluster& cluster() { return *cluster_; }
  Network& network() { return cluster_->network(); }
  const NetworkOptions& baseline() const { return baseline_; }
  bool paused(AuthorityIndex a) const { return paused_[a]; }
  void Pause(AuthorityIndex a);
  void Resume(AuthorityIndex a);
  // "primary": role 0; "workers": every worker's role.
  std::vector<uint32_t> Roles(const std::string& which) const;
  // Logs that `f` was skipped and why.
  void Skip(const FaultEvent& f, const char* why) const;

 private:
  Cluster* cluster_;
  NetworkOptions baseline_;
  std::vector<bool> paused_;
};

// Fault periods being built (FaultPeriods): open periods by key, closed by
// their inverse, a heal, or the end of the run.
class PeriodBook {
 public:
  explicit PeriodBook(const NetworkOptions& baseline) : baseline_(baseline) {}
  const NetworkOptions& baseline() const { return baseline_; }
  // Opens a period under `key` unless one is open there already.
  void Start(const std::string& key, std::string kind, std::string label, TimeUs t);
  void Close(const std::string& key, TimeUs t);
  void ClosePrefix(std::string_view prefix, TimeUs t);
  void CloseAll(TimeUs t);
  // The closed periods (empty ones dropped), by start time.
  std::vector<FaultPeriod> Finish(TimeUs end_us);

 private:
  const NetworkOptions baseline_;
  absl::btree_map<std::string, FaultPeriod> open_;
  std::vector<FaultPeriod> closed_;
};

// What a swarm draw of one episode may use (sim/swarm.cc owns the state).
struct SwarmDraw {
  Random& random;
  size_t nodes;
  const NetworkOptions& network;  // the drawn baseline
  std::function<bool(AuthorityIndex)> is_byzantine;
  // Whether `v` may be down over [start, end] within the fault budget.
  std::function<bool(AuthorityIndex v, TimeUs start, TimeUs end)> fits;
  // Records that `v` is down over [start, end].
  std::function<void(AuthorityIndex v, TimeUs start, TimeUs end)> mark_down;
};

struct FaultKind {
  FaultEvent::Kind kind;
  // Its name in scenario files and logs: "set_loss", "partition", ...
  const char* name;
  // Field bits: what a scenario entry of this kind carries.
  uint32_t fields = 0;

  // ---- scenario JSON ----
  // Reads the value fields (kLoss, kDelayMs, kExtraDelayMs) into `out`,
  // checking them; null if the kind has none.
  absl::Status (*parse_values)(const scenario::Fault& in, const FieldError& bad, FaultEvent* out) = nullptr;
  // Writes them back; null if none.
  void (*print_values)(const FaultEvent& f, scenario::Fault* out) = nullptr;

  // ---- what ends it ----
  // The kind of the event that ends this one: what `until_s` writes and
  // what minimization keeps together with it (a fault unit). The end event
  // copies the start's time-free fields (node, groups, role), values zeroed;
  // nullopt: nothing ends it (an end itself, or instantaneous).
  std::optional<FaultEvent::Kind> ended_by = std::nullopt;
  // Sets the end event's values to what the run returns to (the baseline
  // loss after a loss spike); null: none.
  void (*end_values)(const NetworkOptions& baseline, FaultEvent* end) = nullptr;

  // ---- the run ----
  void (*apply)(World& world, const FaultEvent& f) = nullptr;
  // The event in a log line, after its time: "crash 2 (primary)".
  std::string (*describe)(const FaultEvent& f) = nullptr;
  // Its effect on the fault periods plots show: opens (under period_kind)
  // or closes periods in `book`.
  void (*period)(PeriodBook& book, const FaultEvent& f) = nullptr;
  // The period kind it opens and its colour in tools/render_run.py's plots;
  // null if it only closes periods.
  const char* period_kind = nullptr;
  const char* period_color = nullptr;

  // ---- swarm ----
  // Relative weight among the kinds the swarm draws episodes from (0: never
  // drawn). The swarm draws one of sum(weights) and walks the table in
  // kinds.def order.
  int swarm_weight = 0;
  // The episode's start event at `start_us` (the swarm adds the end at
  // `end_us`); nullopt: nothing fits (nothing more may then be drawn from
  // d.random, or later episodes shift).
  std::optional<FaultEvent> (*swarm_draw)(SwarmDraw& d, TimeUs start_us, TimeUs end_us) = nullptr;
};

// Every kind, in kinds.def order (CHECKed: entry i has enumerator i, names
// unique, every entry complete).
const std::vector<const FaultKind*>& AllFaultKinds();
const FaultKind& KindOf(FaultEvent::Kind kind);
// By scenario name; null if unknown.
const FaultKind* FindKind(std::string_view name);

// The event that ends `start` at `at_us` (start's kind must have ended_by).
FaultEvent EndEvent(const FaultEvent& start, TimeUs at_us, const NetworkOptions& baseline);
// Whether `end` ends `start`: the ending kind, and the same node (kinds
// that read one) and groups (kinds that read them).
bool Ends(const FaultEvent& start, const FaultEvent& end);

// ---- helpers for kinds ----
// Microseconds from a double, saturating: NaN and values beyond what TimeUs
// holds become the largest TimeUs, which every "before the end of the run"
// check refuses (llround of NaN was INT64_MIN, which passed them; found by
// fuzzing).
TimeUs ToUsSaturating(double us);
TimeUs MillisToUs(double ms);
std::string JoinGroup(const std::vector<AuthorityIndex>& g);   // "0,1,3"
std::string RoleSuffix(const std::string& role);               // "" or " (primary)"
// The key a link fault's period is kept under: "[0](primary)|[1,2,3]".
std::string LinkKey(const FaultEvent& f);
// 0..n-1 in a random order; a random split into two non-empty sorted groups (n >= 2).
std::vector<AuthorityIndex> Shuffled(Random& r, size_t n);
std::pair<std::vector<AuthorityIndex>, std::vector<AuthorityIndex>> Split(Random& r, size_t n);

}  // namespace narwhal::sim::faults

#endif  // NARWHAL_SIM_FAULTS_FAULT_KIND_H_
