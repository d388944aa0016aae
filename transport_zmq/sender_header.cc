#include "transport_zmq/sender_header.h"

namespace narwhal {
namespace {

void PutBigEndian32(uint32_t value, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (24 - 8 * i));
}

uint32_t GetBigEndian32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(in[i]);
  return value;
}

}  // namespace

std::array<char, kSenderHeaderBytes> EncodeSenderHeader(const Endpoint& sender) {
  std::array<char, kSenderHeaderBytes> out{};
  out[0] = static_cast<char>(kSenderHeaderVersion);
  PutBigEndian32(sender.authority, &out[1]);
  PutBigEndian32(sender.role, &out[5]);
  return out;
}

std::optional<Endpoint> DecodeSenderHeader(std::string_view raw) {
  if (raw.size() != kSenderHeaderBytes) return std::nullopt;
  if (static_cast<uint8_t>(raw[0]) != kSenderHeaderVersion) return std::nullopt;
  return Endpoint{GetBigEndian32(&raw[1]), GetBigEndian32(&raw[5])};
}

}  // namespace narwhal
