#include "core/types.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace narwhal {

std::string HexEncode(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

absl::StatusOr<Digest> Digest::FromBytes(std::string_view raw) {
  if (raw.size() != kSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest must be ", kSize, " bytes, got ", raw.size()));
  }
  Digest d;
  for (size_t i = 0; i < kSize; ++i) d.bytes[i] = static_cast<uint8_t>(raw[i]);
  return d;
}

std::string Digest::Hex() const {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(bytes.data()), kSize));
}

std::string Endpoint::ToString() const {
  if (is_primary()) return absl::StrCat("a", authority, ".primary");
  return absl::StrCat("a", authority, ".worker", worker_id());
}

}  // namespace narwhal
