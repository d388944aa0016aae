// The one table of fault kinds (from kinds.def) and what every kind shares:
// FaultEvent's name and description, end events, fault periods.
#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "sim/faults/fault_kind.h"

namespace narwhal::sim {
namespace faults {

// Each kind's file defines its entry function.
#define NARWHAL_FAULT_KIND(id, entry) const FaultKind& entry();
#include "sim/faults/kinds.def"
#undef NARWHAL_FAULT_KIND

const std::vector<const FaultKind*>& AllFaultKinds() {
  static const std::vector<const FaultKind*>* const table = [] {
    auto* t = new std::vector<const FaultKind*>{
#define NARWHAL_FAULT_KIND(id, entry) &entry(),
#include "sim/faults/kinds.def"
#undef NARWHAL_FAULT_KIND
    };
    absl::btree_set<std::string_view> names;
    for (size_t i = 0; i < t->size(); ++i) {
      const FaultKind& k = *(*t)[i];
      CHECK_EQ(static_cast<size_t>(k.kind), i) << k.name << ": its entry function returns another kind";
      CHECK(k.name != nullptr && *k.name != '\0');
      CHECK(names.insert(k.name).second) << "fault kind \"" << k.name << "\" registered twice";
      CHECK(k.apply != nullptr && k.describe != nullptr && k.period != nullptr) << k.name;
      CHECK_EQ(k.parse_values == nullptr, k.print_values == nullptr) << k.name;
      CHECK_EQ(k.period_kind == nullptr, k.period_color == nullptr) << k.name;
      CHECK_EQ(k.swarm_weight > 0, k.swarm_draw != nullptr) << k.name;
      CHECK(k.swarm_weight == 0 || k.ended_by) << k.name << ": the swarm draws episodes that end";
    }
    return t;
  }();
  return *table;
}

const FaultKind& KindOf(FaultEvent::Kind kind) {
  const auto& table = AllFaultKinds();
  const size_t i = static_cast<size_t>(kind);
  CHECK_LT(i, table.size());
  return *table[i];
}

const FaultKind* FindKind(std::string_view name) {
  for (const FaultKind* k : AllFaultKinds()) {
    if (name == k->name) return k;
  }
  return nullptr;
}

FaultEvent EndEvent(const FaultEvent& start, TimeUs at_us, const NetworkOptions& baseline) {
  const FaultKind& k = KindOf(start.kind);
  CHECK(k.ended_by) << k.name << " has no end";
  FaultEvent end = start;
  end.at_us = at_us;
  end.kind = *k.ended_by;
  end.value = 0;
  end.value_us = 0;
  if (k.end_values != nullptr) k.end_values(baseline, &end);
  return end;
}

bool Ends(const FaultEvent& start, const FaultEvent& end) {
  const FaultKind& k = KindOf(start.kind);
  if (!k.ended_by || end.kind != *k.ended_by) return false;
  if ((k.fields & kNode) && start.node != end.node) return false;
  if ((k.fields & kGroups) && (start.group_a != end.group_a || start.group_b != end.group_b)) return false;
  return true;  // e.g. the next loss change returns a loss spike
}

TimeUs ToUsSaturating(double us) {
  if (!(us < 9.0e18)) return std::numeric_limits<TimeUs>::max();
  if (us < -9.0e18) return std::numeric_limits<TimeUs>::min();
  return static_cast<TimeUs>(std::llround(us));
}

TimeUs MillisToUs(double ms) { return ToUsSaturating(ms * 1e3); }

std::string JoinGroup(const std::vector<AuthorityIndex>& g) {
  std::string out;
  for (size_t i = 0; i < g.size(); ++i) absl::StrAppend(&out, i ? "," : "", g[i]);
  return out;
}

std::string RoleSuffix(const std::string& role) { return role.empty() ? "" : absl::StrCat(" (", role, ")"); }

std::string LinkKey(const FaultEvent& f) {
  return absl::StrCat("[", JoinGroup(f.group_a), "]", f.role.empty() ? "" : absl::StrCat("(", f.role, ")"), "|[",
                      JoinGroup(f.group_b), "]");
}

std::vector<AuthorityIndex> Shuffled(Random& r, size_t n) {
  std::vector<AuthorityIndex> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<AuthorityIndex>(i);
  for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[r.Uniform(i)]);
  return v;
}

std::pair<std::vector<AuthorityIndex>, std::vector<AuthorityIndex>> Split(Random& r, size_t n) {
  std::vector<AuthorityIndex> v = Shuffled(r, n);
  const size_t k = 1 + r.Uniform(n - 1);
  std::vector<AuthorityIndex> a(v.begin(), v.begin() + k), b(v.begin() + k, v.end());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return {a, b};
}

void PeriodBook::Start(const std::string& key, std::string kind, std::string label, TimeUs t) {
  if (open_.contains(key)) return;
  open_[key] = FaultPeriod{std::move(kind), std::move(label), t, t};
}

void PeriodBook::Close(const std::string& key, TimeUs t) {
  auto it = open_.find(key);
  if (it == open_.end()) return;
  it->second.end_us = t;
  if (t > it->second.start_us) closed_.push_back(it->second);
  open_.erase(it);
}

void PeriodBook::ClosePrefix(std::string_view prefix, TimeUs t) {
  std::vector<std::string> keys;
  for (const auto& [k, p] : open_) {
    if (k.starts_with(prefix)) keys.push_back(k);
  }
  for (const auto& k : keys) Close(k, t);
}

void PeriodBook::CloseAll(TimeUs t) {
  for (auto it = open_.begin(); it != open_.end(); it = open_.begin()) Close(it->first, t);
}

std::vector<FaultPeriod> PeriodBook::Finish(TimeUs end_us) {
  CloseAll(end_us);
  std::vector<FaultPeriod> out = std::move(closed_);
  closed_.clear();
  std::stable_sort(out.begin(), out.end(),
                   [](const FaultPeriod& a, const FaultPeriod& b) { return a.start_us < b.start_us; });
  return out;
}

World::World(Cluster* cluster, NetworkOptions baseline)
    : cluster_(cluster), baseline_(baseline), paused_(cluster->committee().size(), false) {}

void World::Pause(AuthorityIndex a) {
  paused_[a] = true;
  cluster_->Pause(a);
}

void World::Resume(AuthorityIndex a) {
  paused_[a] = false;
  cluster_->Resume(a);
}

std::vector<uint32_t> World::Roles(const std::string& which) const {
  if (which == "primary") return {0};
  std::vector<uint32_t> roles;
  for (uint32_t w = 0; w < cluster_->committee().workers_per_authority(); ++w) roles.push_back(w + 1);
  return roles;
}

void World::Skip(const FaultEvent& f, const char* why) const {
  VLOG(1) << "fault skipped (" << why << "): " << f.Describe();
}

}  // namespace faults

std::string FaultEvent::Describe() const {
  return absl::StrCat(absl::StrFormat("t=%.3fs ", at_us / 1e6), faults::KindOf(kind).describe(*this));
}

const char* FaultEvent::KindName(Kind kind) { return faults::KindOf(kind).name; }

std::vector<std::pair<std::string, FaultEvent::Kind>> FaultEvent::AllKinds() {
  std::vector<std::pair<std::string, Kind>> out;
  for (const faults::FaultKind* k : faults::AllFaultKinds()) out.emplace_back(k->name, k->kind);
  return out;
}

std::vector<FaultPeriod> FaultPeriods(const std::vector<FaultEvent>& faults, const NetworkOptions& baseline,
                                      TimeUs end_us) {
  faults::PeriodBook book(baseline);
  for (const FaultEvent& f : faults) faults::KindOf(f.kind).period(book, f);
  return book.Finish(end_us);
}

}  // namespace narwhal::sim
