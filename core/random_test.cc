#include "core/random.h"

#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

TEST(RandomTest, SameSeedSameDraws) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.NextU64();
    EXPECT_EQ(x, b.NextU64());
    differs |= x != c.NextU64();
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, KnownFirstDraw) {
  // Pinned so that a change of algorithm (which would change every seeded
  // run) shows up here first.
  Random r(0);
  EXPECT_EQ(r.NextU64(), 0x99ec5f36cb75f2b4ULL);
}

TEST(RandomTest, UniformStaysInRangeAndCoversIt) {
  Random r(1);
  std::vector<int> hits(10, 0);
  for (int i = 0; i < 10000; ++i) {
    uint64_t v = r.Uniform(10);
    ASSERT_LT(v, 10u);
    hits[v]++;
  }
  for (int h : hits) EXPECT_GT(h, 800);
  for (int i = 0; i < 1000; ++i) {
    int64_t v = r.UniformRange(-3, 3);
    EXPECT_GE(v, -3);
    EXPECT_LE(v, 3);
  }
}

TEST(RandomTest, DoubleAndBernoulli) {
  Random r(2);
  int yes = 0;
  for (int i = 0; i < 10000; ++i) {
    double d = r.NextDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    yes += r.Bernoulli(0.3);
  }
  EXPECT_NEAR(yes / 10000.0, 0.3, 0.03);
  EXPECT_FALSE(r.Bernoulli(0.0));
}

TEST(RandomTest, DerivedSeedsAreIndependent) {
  EXPECT_NE(Random::DeriveSeed(1, "network"), Random::DeriveSeed(1, "faults"));
  EXPECT_NE(Random::DeriveSeed(1, "network"), Random::DeriveSeed(2, "network"));
  EXPECT_EQ(Random::DeriveSeed(5, "load"), Random::DeriveSeed(5, "load"));
  EXPECT_NE(Random::DeriveSeed(5, uint64_t{0}), Random::DeriveSeed(5, uint64_t{1}));
}

}  // namespace
}  // namespace narwhal
