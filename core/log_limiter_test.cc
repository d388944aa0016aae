#include "core/log_limiter.h"

#include "gtest/gtest.h"

namespace narwhal {
namespace {

TEST(LogLimiter, OneLinePerKeyPerIntervalWithTheCountHeldBack) {
  LogLimiter limiter(10 * kSecondUs);
  uint64_t held = 99;
  EXPECT_TRUE(limiter.Allow(1, 0, &held));
  EXPECT_EQ(held, 0u);
  for (int i = 1; i <= 1000; ++i) EXPECT_FALSE(limiter.Allow(1, i * kMillisecondUs, &held));
  EXPECT_TRUE(limiter.Allow(2, 5 * kSecondUs, &held));  // another key is not held back
  EXPECT_EQ(held, 0u);
  EXPECT_FALSE(limiter.Allow(1, 10 * kSecondUs - 1, &held));
  EXPECT_TRUE(limiter.Allow(1, 10 * kSecondUs, &held));
  EXPECT_EQ(held, 1001u);
  EXPECT_FALSE(limiter.Allow(1, 11 * kSecondUs, &held));
}

}  // namespace
}  // namespace narwhal
