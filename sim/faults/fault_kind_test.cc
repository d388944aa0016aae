// The fault table: every kind is complete and named once, round-trips
// through scenario JSON (with and without `until_s`), describes itself,
// opens and closes its fault period, and pairs with its end for
// minimization; the swarm's weights keep today's draw order.
#include "sim/faults/fault_kind.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "sim/minimize.h"
#include "sim/scenario.h"

namespace narwhal::sim::faults {
namespace {

SimulationOptions Base() {
  SimulationOptions o;
  o.cluster.nodes = 4;
  o.duration_us = 60 * kSecondUs;
  o.drain_us = 10 * kSecondUs;
  return o;
}

// An event of `k` at 5 s with every field the kind reads set (built from
// the table's field bits, so a new kind is covered without a line here).
FaultEvent Example(const FaultKind& k) {
  FaultEvent f;
  f.at_us = 5 * kSecondUs;
  f.kind = k.kind;
  if (k.fields & kNode) f.node = 2;
  if (k.fields & kGroups) {
    f.group_a = {0};
    f.group_b = {1, 2, 3};
  }
  if (k.fields & kRole) f.role = "workers";
  if (k.fields & kLoss) f.value = 0.25;
  if (k.fields & (kDelayMs | kExtraDelayMs)) f.value_us = 300 * kMillisecondUs;
  return f;
}

// The same event as a scenario file entry, ending at `until_s` if > 0.
std::string ExampleJson(const FaultKind& k, double until_s) {
  std::vector<std::string> parts = {"\"at_s\": 5", absl::StrCat("\"kind\": \"", k.name, "\"")};
  if (k.fields & kNode) parts.push_back("\"node\": 2");
  if (k.fields & kGroups) parts.push_back("\"group_a\": [0]");
  if (k.fields & kRole) parts.push_back("\"role\": \"workers\"");
  if (k.fields & kLoss) parts.push_back("\"loss\": 0.25");
  if (k.fields & kDelayMs) parts.push_back("\"delay_ms\": 300");
  if (k.fields & kExtraDelayMs) parts.push_back("\"extra_delay_ms\": 300");
  if (until_s > 0) parts.push_back(absl::StrCat("\"until_s\": ", until_s));
  return absl::StrCat("{\"faults\": [{", absl::StrJoin(parts, ", "), "}]}");
}

void ExpectSameEvent(const FaultEvent& a, const FaultEvent& b, const std::string& what) {
  EXPECT_EQ(a.at_us, b.at_us) << what;
  EXPECT_EQ(a.kind, b.kind) << what;
  EXPECT_EQ(a.group_a, b.group_a) << what;
  EXPECT_EQ(a.group_b, b.group_b) << what;
  EXPECT_EQ(a.role, b.role) << what;
  EXPECT_EQ(a.node, b.node) << what;
  EXPECT_EQ(a.value, b.value) << what;
  EXPECT_EQ(a.value_us, b.value_us) << what;
}

TEST(FaultTableTest, EveryKindIsCompleteAndNamedOnce) {
  const auto& table = AllFaultKinds();
  ASSERT_FALSE(table.empty());
  std::set<std::string> names;
  const auto all = FaultEvent::AllKinds();
  ASSERT_EQ(all.size(), table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    const FaultKind& k = *table[i];
    EXPECT_EQ(static_cast<size_t>(k.kind), i) << k.name;
    EXPECT_TRUE(names.insert(k.name).second) << k.name << " twice";
    EXPECT_EQ(FindKind(k.name), &k);
    EXPECT_EQ(&KindOf(k.kind), &k);
    EXPECT_STREQ(FaultEvent::KindName(k.kind), k.name);
    EXPECT_EQ(all[i].first, k.name);
    EXPECT_EQ(all[i].second, k.kind);
    EXPECT_NE(k.apply, nullptr) << k.name;
    EXPECT_NE(k.describe, nullptr) << k.name;
    EXPECT_NE(k.period, nullptr) << k.name;
    EXPECT_EQ(k.parse_values == nullptr, k.print_values == nullptr) << k.name;
    EXPECT_EQ(k.period_kind == nullptr, k.period_color == nullptr) << k.name;
    // A kind that opens a period can be ended, so the period can close
    // before the run does.
    if (k.period_kind != nullptr) {
      EXPECT_TRUE(k.ended_by) << k.name;
    }
  }
  EXPECT_EQ(FindKind("explode"), nullptr);
}

TEST(FaultTableTest, ScenarioNamesAreTheDocumentedOnes) {
  std::vector<std::string> names;
  for (const FaultKind* k : AllFaultKinds()) names.push_back(k->name);
  // Scenario errors list them in this order (docs/simulator.md).
  EXPECT_EQ(absl::StrJoin(names, ","),
            "set_loss,set_delay,partition,unpartition,block,unblock,clog,unclog,heal,heal_all,crash,restart,pause,"
            "resume");
}

TEST(FaultTableTest, EveryKindRoundTripsThroughScenarioJson) {
  for (const FaultKind* k : AllFaultKinds()) {
    SimulationOptions o = Base();
    o.faults = {Example(*k)};
    const std::string printed = ScenarioJson(o, "t", "");
    auto parsed = ParseScenario(printed, "printed", Base());
    ASSERT_TRUE(parsed.ok()) << k->name << ": " << parsed.status() << "\n" << printed;
    ASSERT_EQ(parsed->faults.size(), 1u) << k->name;
    ExpectSameEvent(parsed->faults[0], o.faults[0], k->name);
    EXPECT_EQ(ScenarioJson(*parsed, "t", ""), printed) << k->name;

    // As a person writes it.
    auto written = ParseScenario(ExampleJson(*k, 0), "written", Base());
    ASSERT_TRUE(written.ok()) << k->name << ": " << written.status();
    ASSERT_EQ(written->faults.size(), 1u);
    ExpectSameEvent(written->faults[0], o.faults[0], k->name);
  }
}

TEST(FaultTableTest, UntilWritesTheEndOrIsRefused) {
  for (const FaultKind* k : AllFaultKinds()) {
    auto parsed = ParseScenario(ExampleJson(*k, 7), "until", Base());
    if (!k->ended_by) {
      ASSERT_FALSE(parsed.ok()) << k->name;
      EXPECT_EQ(parsed.status().message(), absl::StrCat("until: faults[0].until_s: ", k->name, " has no end"));
      continue;
    }
    ASSERT_TRUE(parsed.ok()) << k->name << ": " << parsed.status();
    ASSERT_EQ(parsed->faults.size(), 2u) << k->name;
    const FaultEvent& end = parsed->faults[1];
    ExpectSameEvent(end, EndEvent(Example(*k), 7 * kSecondUs, Base().cluster.network), k->name);
    EXPECT_EQ(end.kind, *k->ended_by);
    EXPECT_TRUE(Ends(parsed->faults[0], end)) << k->name;
    // Minimization keeps the two together.
    EXPECT_EQ(FaultUnits(parsed->faults), (std::vector<std::vector<size_t>>{{0, 1}})) << k->name;
  }
}

TEST(FaultTableTest, AnEndOfAnotherTargetDoesNotEndIt) {
  for (const FaultKind* k : AllFaultKinds()) {
    if (!k->ended_by || !(k->fields & (kNode | kGroups))) continue;
    const FaultEvent start = Example(*k);
    FaultEvent other = EndEvent(start, 7 * kSecondUs, Base().cluster.network);
    if (k->fields & kNode) other.node = 3;
    if (k->fields & kGroups) other.group_a = {1};
    EXPECT_FALSE(Ends(start, other)) << k->name;
    EXPECT_EQ(FaultUnits({start, other}).size(), 2u) << k->name;
  }
}

TEST(FaultTableTest, EveryKindDescribesItself) {
  for (const FaultKind* k : AllFaultKinds()) {
    const std::string d = Example(*k).Describe();
    EXPECT_TRUE(d.starts_with("t=5.000s ")) << d;
    EXPECT_GT(d.size(), std::string("t=5.000s ").size()) << k->name;
  }
  FaultEvent crash;
  crash.at_us = 1500 * kMillisecondUs;
  crash.kind = FaultEvent::Kind::kCrash;
  crash.node = 2;
  crash.role = "primary";
  EXPECT_EQ(crash.Describe(), "t=1.500s crash 2 (primary)");
}

TEST(FaultTableTest, EveryKindHasAPeriodRule) {
  const NetworkOptions baseline = Base().cluster.network;
  for (const FaultKind* k : AllFaultKinds()) {
    const FaultEvent start = Example(*k);
    if (k->period_kind == nullptr) {
      // Ends and heals only close periods: alone they open none.
      EXPECT_TRUE(FaultPeriods({start}, baseline, 10 * kSecondUs).empty()) << k->name;
      continue;
    }
    const auto periods = FaultPeriods({start, EndEvent(start, 7 * kSecondUs, baseline)}, baseline, 10 * kSecondUs);
    ASSERT_EQ(periods.size(), 1u) << k->name;
    EXPECT_EQ(periods[0].kind, k->period_kind);
    EXPECT_EQ(periods[0].start_us, 5 * kSecondUs);
    EXPECT_EQ(periods[0].end_us, 7 * kSecondUs) << k->name;
    EXPECT_FALSE(periods[0].label.empty());
    // Unended, it lasts to the end of the run; heal_all ends everything.
    const auto open = FaultPeriods({start}, baseline, 10 * kSecondUs);
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0].end_us, 10 * kSecondUs);
    FaultEvent heal_all;
    heal_all.at_us = 6 * kSecondUs;
    heal_all.kind = FaultEvent::Kind::kHealAll;
    const auto healed = FaultPeriods({start, heal_all}, baseline, 10 * kSecondUs);
    ASSERT_EQ(healed.size(), 1u);
    EXPECT_EQ(healed[0].end_us, 6 * kSecondUs) << k->name;
  }
}

TEST(FaultTableTest, SwarmWeightsKeepTheDrawOrder) {
  // The swarm draws r.Uniform(sum of weights) and walks the table: this is
  // the mapping every swarm seed so far was drawn with. Changing it (a new
  // kind with a weight, a reordering) changes swarm runs and their hashes.
  std::vector<std::string> slots;
  for (const FaultKind* k : AllFaultKinds()) {
    EXPECT_EQ(k->swarm_weight > 0, k->swarm_draw != nullptr) << k->name;
    for (int i = 0; i < k->swarm_weight; ++i) slots.push_back(k->name);
  }
  EXPECT_EQ(absl::StrJoin(slots, ","), "set_loss,set_delay,partition,block,clog,crash,crash,pause");
}

}  // namespace
}  // namespace narwhal::sim::faults
