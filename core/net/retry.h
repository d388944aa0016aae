// The retry schedule of the ReliableSender: exponential backoff with jitter,
// as in Mysten's RetryConfig (seed 004). Defaults suit a LAN: the first retry
// after 200 ms (a healthy LAN round trip is under 1 ms, a loaded node's event
// loop a few tens of ms), growing by 1.5x to at most 5 s, each interval
// randomised by +-30% so that peers do not retry in lock-step.
#ifndef NARWHAL_CORE_NET_RETRY_H_
#define NARWHAL_CORE_NET_RETRY_H_

#include <optional>

#include "core/random.h"
#include "core/types.h"

namespace narwhal {

struct RetryConfig {
  TimeUs initial_interval_us = 200 * kMillisecondUs;
  TimeUs max_interval_us = 5 * kSecondUs;
  double multiplier = 1.5;
  double randomization_factor = 0.3;
  // Give up (with DeadlineExceeded) once this much time has passed since the
  // first attempt; nullopt retries until answered or cancelled.
  std::optional<TimeUs> max_elapsed_us;
};

// The sequence of waits between attempts for one request.
class Backoff {
 public:
  explicit Backoff(const RetryConfig& config) : config_(config), current_us_(config.initial_interval_us) {}
  // The next wait: current interval randomised by +-randomization_factor,
  // then the interval grows by the multiplier up to max_interval.
  TimeUs Next(Random& random);

 private:
  RetryConfig config_;
  TimeUs current_us_;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_NET_RETRY_H_
