// What a peer can make the core hold or do, in one place, each with its unit
// in its name (TigerBeetle's rule: a limit on everything). Options that a
// deployment may tune are Parameters (core/parameters.h); these are fixed.
#ifndef NARWHAL_CORE_LIMITS_H_
#define NARWHAL_CORE_LIMITS_H_

#include <cstddef>

namespace narwhal::limits {

// Batch digests in one header: a bound on what a peer can make us hold, and
// on what we propose at once.
inline constexpr size_t kHeaderPayloadDigestsMax = 10'000;
// Headers (and, separately, certificates) waiting for parents or payload,
// per authority of the committee.
inline constexpr size_t kWaitingPerAuthorityMax = 1'000;
// Certificate digests a peer may ask for in one CertificatesRequest.
inline constexpr size_t kCertificatesPerRequestMax = 1'000;
// A committee frame; larger ones are dropped on receipt (the messenger's
// and the ZeroMQ transport's default).
inline constexpr size_t kFrameBytesMax = size_t{64} << 20;

}  // namespace narwhal::limits

#endif  // NARWHAL_CORE_LIMITS_H_
