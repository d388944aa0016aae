#include "core/net/retry.h"

#include <algorithm>

namespace narwhal {

TimeUs Backoff::Next(Random& random) {
  const double delta = config_.randomization_factor * static_cast<double>(current_us_);
  const double lo = static_cast<double>(current_us_) - delta;
  const double wait = lo + random.NextDouble() * 2.0 * delta;
  const double grown = static_cast<double>(current_us_) * config_.multiplier;
  current_us_ = std::min<TimeUs>(static_cast<TimeUs>(grown), config_.max_interval_us);
  return std::max<TimeUs>(1, static_cast<TimeUs>(wait));
}

}  // namespace narwhal
