// The Byzantine behaviour registry and the names scenario files and
// --byzantine use: every registered name parses and prints back, unknown
// names are refused with the known ones listed, and the composite calls the
// hooks of exactly the named behaviours.
#include "core/byzantine.h"

#include <set>

#include "core/byzantine/composite.h"
#include "core/byzantine/registry.h"
#include "gtest/gtest.h"

namespace narwhal {
namespace {

TEST(ByzantineRegistryTest, NamesAreTheDocumentedOnesInRegistryOrder) {
  // The swarm draws behaviours by index: this order is part of its replay.
  EXPECT_EQ(ByzantineBehavior::AllNames(),
            (std::vector<std::string>{"equivocate", "bad_signatures", "withhold_votes", "flood_future",
                                      "replay_stale", "withhold_batches"}));
}

TEST(ByzantineRegistryTest, EveryEntryIsComplete) {
  std::set<std::string> seen;
  for (const byzantine::Entry* e : byzantine::Registry()) {
    const std::string name = e->name;
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(name.find_first_of(",+:"), std::string::npos) << name;
    EXPECT_TRUE(seen.insert(name).second) << name << " registered twice";
    EXPECT_NE(std::string(e->summary), "") << name;
    EXPECT_NE(e->make(), nullptr) << name;
    EXPECT_EQ(byzantine::IndexOf(name), static_cast<int>(seen.size() - 1));
  }
  EXPECT_EQ(byzantine::IndexOf("nonsense"), -1);
}

TEST(ByzantineRegistryTest, EveryNameRoundTrips) {
  for (const std::string& name : ByzantineBehavior::AllNames()) {
    auto b = ByzantineBehavior::Parse(name);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_TRUE(b->any());
    EXPECT_TRUE(b->Has(name));
    EXPECT_EQ(b->indices().size(), 1u);
    EXPECT_EQ(b->ToString(), name);
    for (const std::string& other : ByzantineBehavior::AllNames()) {
      if (other != name) EXPECT_FALSE(b->Has(other)) << name << " has " << other;
    }
  }
}

TEST(ByzantineRegistryTest, SetsPrintInRegistryOrderOnce) {
  auto b = ByzantineBehavior::Parse("withhold_batches,equivocate,,withhold_batches,replay_stale");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->ToString(), "equivocate,replay_stale,withhold_batches");
  auto again = ByzantineBehavior::Parse(b->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->indices(), b->indices());

  auto none = ByzantineBehavior::Parse("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->any());
  EXPECT_EQ(none->ToString(), "");
}

TEST(ByzantineRegistryTest, UnknownNameIsRefusedWithTheKnownOnes) {
  auto b = ByzantineBehavior::Parse("equivocate,lie");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.status().message(),
            "unknown Byzantine behaviour \"lie\"; known: equivocate, bad_signatures, withhold_votes, "
            "flood_future, replay_stale, withhold_batches");
  EXPECT_FALSE(ByzantineBehavior().Has("lie"));
}

TEST(ByzantineCompositeTest, HonestDoesNothing) {
  byzantine::Composite honest(ByzantineBehavior{});
  EXPECT_TRUE(honest.empty());
  Header h;
  h.signature[0] = 7;
  honest.OnOwnHeaderSigned(&h);
  EXPECT_EQ(h.signature[0], 7);
  EXPECT_FALSE(honest.WithholdVote(h));
  EXPECT_FALSE(honest.WithholdBatches(1, Endpoint::Worker(2, 0)));
}

TEST(ByzantineCompositeTest, CallsTheNamedBehavioursOnly) {
  byzantine::Composite b(*ByzantineBehavior::Parse("bad_signatures,withhold_batches"));
  EXPECT_FALSE(b.empty());
  Header h;
  h.signature[0] = 7;
  b.OnOwnHeaderSigned(&h);
  EXPECT_EQ(h.signature[0], 7 ^ 0xff);
  Vote v;
  v.signature[0] = 1;
  b.OnVoteSigned(&v);
  EXPECT_EQ(v.signature[0], 1 ^ 0xff);
  EXPECT_FALSE(b.WithholdVote(h));  // withhold_votes was not named
  // Serves its own authority, nobody else.
  EXPECT_FALSE(b.WithholdBatches(1, Endpoint::Worker(1, 0)));
  EXPECT_TRUE(b.WithholdBatches(1, Endpoint::Worker(2, 0)));

  byzantine::Composite silent(*ByzantineBehavior::Parse("withhold_votes"));
  EXPECT_TRUE(silent.WithholdVote(h));
}

}  // namespace
}  // namespace narwhal
