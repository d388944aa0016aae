// A copy-free reader of the one message clients send to a worker's ingress
// (docs/client_protocol.md): IngressRequest{submit: SubmitRequest}. The
// transactions are views into the received bytes, so a request of 2,000
// transactions is not copied into 2,000 strings before the worker copies
// them into its batch.
#ifndef NARWHAL_NODE_INGRESS_WIRE_H_
#define NARWHAL_NODE_INGRESS_WIRE_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace narwhal::node {

struct SubmitView {
  uint64_t request_id = 0;
  std::vector<std::string_view> transactions;  // into the parsed bytes
};

// Reads `payload` if it is an IngressRequest holding a submit, in the layout
// protobuf writes (submit once; in it request_id at most once, first, then
// transactions), with at most `transactions_max` transactions. nullopt for
// anything else, including valid protobuf laid out otherwise (fields out of
// order, unknown fields): the caller then parses with protobuf, which
// decides what the message means.
std::optional<SubmitView> ParseSubmitFast(std::string_view payload, size_t transactions_max);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_INGRESS_WIRE_H_
