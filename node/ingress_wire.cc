#include "node/ingress_wire.h"

namespace narwhal::node {
namespace {

// Protobuf base-128 varint; false on truncation or more than 10 bytes.
bool ReadVarint(std::string_view in, size_t* at, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*at >= in.size()) return false;
    const uint8_t byte = static_cast<uint8_t>(in[(*at)++]);
    if (shift == 63 && byte > 1) return false;
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

// A length-delimited field's bytes after its tag.
bool ReadBytes(std::string_view in, size_t* at, std::string_view* out) {
  uint64_t len = 0;
  if (!ReadVarint(in, at, &len) || len > in.size() - *at) return false;
  *out = in.substr(*at, len);
  *at += len;
  return true;
}

constexpr uint64_t kSubmitTag = (1 << 3) | 2;        // IngressRequest.submit
constexpr uint64_t kRequestIdTag = (1 << 3) | 0;     // SubmitRequest.request_id
constexpr uint64_t kTransactionTag = (2 << 3) | 2;   // SubmitRequest.transactions

}  // namespace

std::optional<SubmitView> ParseSubmitFast(std::string_view payload, size_t transactions_max) {
  size_t at = 0;
  uint64_t tag = 0;
  std::string_view submit;
  if (!ReadVarint(payload, &at, &tag) || tag != kSubmitTag || !ReadBytes(payload, &at, &submit) ||
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
      if (!ReadBytes(submit, &pos, &tx) || view.transactions.size() >= transactions_max) {
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
