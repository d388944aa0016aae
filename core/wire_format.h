// Protobuf wire-format pieces for the few hot paths that read or write a
// known message layout by hand (the messenger's request envelope, committed
// sub-DAG rows, the client ingress). Everything else uses protobuf.
//
//   std::string s;
//   AppendVarint(s, 300);                       // 0xac 0x02
//   size_t at = 0; uint64_t v;
//   CHECK(ReadVarint(s, &at, &v) && v == 300 && at == 2);
#ifndef NARWHAL_CORE_WIRE_FORMAT_H_
#define NARWHAL_CORE_WIRE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace narwhal {

// Base-128 varint, as protobuf writes it.
void AppendVarint(std::string& out, uint64_t v);
size_t VarintSize(uint64_t v);

// Reads a varint at `*at` and advances it; false (with `*at` somewhere
// inside) if truncated, longer than 10 bytes, or above 64 bits.
bool ReadVarint(std::string_view in, size_t* at, uint64_t* out);

// A length-delimited field's bytes (its length varint at `*at`); false if
// the length runs past the end.
bool ReadLengthDelimited(std::string_view in, size_t* at, std::string_view* out);

}  // namespace narwhal

#endif  // NARWHAL_CORE_WIRE_FORMAT_H_
