#include "node/ingress_wire.h"

#include "core/wire_format.h"

namespace narwhal::node {
namespace {

constexpr uint64_t kSubmitTag = (1 << 3) | 2;        // IngressRequest.submit
constexpr uint64_t kRequestIdTag = (1 << 3) | 0;     // SubmitRequest.request_id
constexpr uint64_t kTransactionTag = (2 << 3) | 2;   // SubmitRequest.transactions

}  // namespace

std::optional<SubmitView> ParseSubmitFast(std::string_view payload, size_t transactions_max) {
  size_t at = 0;
  uint64_t tag = 0;
  std::string_view submit;
  if (!ReadVarint(payload, &at, &tag) || tag != kSubmitTag || !ReadLengthDelimited(payload, &at, &submit) ||
      at != payload.size()) {
    return std::nullopt;
  }
  SubmitView view;
  size_t pos = 0;
  bool first = true;
  while (pos < submit.size()) {
    if (!ReadVarint(submit, &pos, &tag)) return std::nullopt;
    if (tag == kRequestIdTag && first) {
      if (!ReadVarint(submit, &pos, &view.request_id)) return std::nullopt;
    } else if (tag == kTransactionTag) {
      std::string_view tx;
      if (!ReadLengthDelimited(submit, &pos, &tx) || view.transactions.size() >= transactions_max) {
        return std::nullopt;
      }
      view.transactions.push_back(tx);
    } else {
      return std::nullopt;
    }
    first = false;
  }
  return view;
}

}  // namespace narwhal::node
