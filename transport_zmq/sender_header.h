// The first message part of every frame on the wire: which endpoint claims
// to have sent it. Layout (9 bytes): version byte 0x01, authority as a
// big-endian uint32, role as a big-endian uint32.
//
// Why a part of its own rather than the DEALER's routing identity: a ROUTER
// lets only one connection hold an identity, so a restarted peer (or a
// Byzantine member claiming someone else's identity) would either be locked
// out or, with ZMQ_ROUTER_HANDOVER, kick the holder off. With identities left
// to the ROUTER to assign, connections never collide; the claim lives here
// and, under CurveZMQ, is checked against the key that sent it.
#ifndef NARWHAL_TRANSPORT_ZMQ_SENDER_HEADER_H_
#define NARWHAL_TRANSPORT_ZMQ_SENDER_HEADER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/types.h"

namespace narwhal {

constexpr size_t kSenderHeaderBytes = 9;
constexpr uint8_t kSenderHeaderVersion = 1;

std::array<char, kSenderHeaderBytes> EncodeSenderHeader(const Endpoint& sender);
// Nullopt unless `raw` is exactly a version-1 header.
std::optional<Endpoint> DecodeSenderHeader(std::string_view raw);

}  // namespace narwhal

#endif  // NARWHAL_TRANSPORT_ZMQ_SENDER_HEADER_H_
