// CRC-32C (Castagnoli), the checksum of ChecksummedStore's rows: cheap
// enough for rows of megabytes (the SSE 4.2 instruction where the CPU has
// it, a table otherwise) and good at what disks do to bytes (flipped bits,
// cut-short values). Not a digest: it guards against accidents, not
// adversaries.
//
//   uint32_t crc = Crc32c("123456789");   // 0xE3069283
#ifndef NARWHAL_CORE_STORE_CRC32C_H_
#define NARWHAL_CORE_STORE_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace narwhal {

// The CRC of `bytes` continued from `crc` (the CRC of what came before;
// 0 for none), so Crc32c(a + b) == Crc32c(b, Crc32c(a)).
uint32_t Crc32c(std::string_view bytes, uint32_t crc = 0);

// Both ways, for the test: the table is the reference for the instruction.
uint32_t Crc32cPortable(std::string_view bytes, uint32_t crc = 0);

}  // namespace narwhal

#endif  // NARWHAL_CORE_STORE_CRC32C_H_
