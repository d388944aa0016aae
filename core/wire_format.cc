#include "core/wire_format.h"

#include "google/protobuf/io/coded_stream.h"

namespace narwhal {

using google::protobuf::io::CodedOutputStream;

void AppendVarint(std::string& out, uint64_t v) {
  uint8_t buf[10];
  const uint8_t* end = CodedOutputStream::WriteVarint64ToArray(v, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(end - buf));
}

size_t VarintSize(uint64_t v) { return CodedOutputStream::VarintSize64(v); }

bool ReadVarint(std::string_view in, size_t* at, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*at >= in.size()) return false;
    const auto byte = static_cast<uint8_t>(in[(*at)++]);
    if (shift == 63 && byte > 1) return false;
    v |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool ReadLengthDelimited(std::string_view in, size_t* at, std::string_view* out) {
  uint64_t size = 0;
  if (!ReadVarint(in, at, &size) || size > in.size() - *at) return false;
  *out = in.substr(*at, size);
  *at += size;
  return true;
}

}  // namespace narwhal
