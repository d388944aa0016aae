// The limits of the client protocol (docs/client_protocol.md), in one place,
// each with its unit in its name. A client that exceeds one gets an error
// reply naming it (or, past the ZeroMQ message limits, a dropped
// connection).
#ifndef NARWHAL_NODE_CLIENT_LIMITS_H_
#define NARWHAL_NODE_CLIENT_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace narwhal::node::limits {

// Ingress (a worker's transactions_address).
inline constexpr int kSubmitTransactionsPerRequestMax = 100'000;
inline constexpr int64_t kIngressMessageBytesMax = int64_t{256} << 20;
// Sequenced ranges waiting for their Accepted notice that are remembered
// (beyond it the oldest notice is forgotten, never a transaction).
inline constexpr size_t kIngressPendingRangesMax = 1'000'000;

// Output (a primary's output_address).
inline constexpr size_t kOutputRequestBytesMax = size_t{1} << 20;
// Past this ZeroMQ drops the connection (no reply is possible).
inline constexpr int64_t kOutputMessageBytesMax = int64_t{16} << 20;
inline constexpr size_t kOutputSubscribersMax = 256;

}  // namespace narwhal::node::limits

#endif  // NARWHAL_NODE_CLIENT_LIMITS_H_
