// Deterministic pseudo-random numbers: xoshiro256** seeded through
// splitmix64. Written here, with our own range mapping, so a seed gives the
// same draws with every compiler and standard library (std::uniform_*
// distributions do not). The core never owns a global generator: a Random is
// handed in through the environment.
#ifndef NARWHAL_CORE_RANDOM_H_
#define NARWHAL_CORE_RANDOM_H_

#include <cstdint>
#include <string_view>

namespace narwhal {

class Random {
 public:
  explicit Random(uint64_t seed);

  uint64_t NextU64();
  // Uniform in [0, bound), bound > 0; unbiased (Lemire's rejection method).
  uint64_t Uniform(uint64_t bound);
  // Uniform in [lo, hi], lo <= hi.
  int64_t UniformRange(int64_t lo, int64_t hi);
  // Uniform in [0, 1) with 53 bits.
  double NextDouble();
  bool Bernoulli(double probability) { return probability > 0 && NextDouble() < probability; }
  // Exponential with the given mean (inverse transform).
  double Exponential(double mean);

  // A child seed for subsystem `name`: independent of how many draws this
  // generator made, so adding draws in one subsystem never shifts another.
  static uint64_t DeriveSeed(uint64_t master, std::string_view name);
  static uint64_t DeriveSeed(uint64_t master, uint64_t index);

 private:
  uint64_t s_[4];
};

uint64_t SplitMix64(uint64_t& state);

}  // namespace narwhal

#endif  // NARWHAL_CORE_RANDOM_H_
