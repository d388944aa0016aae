// The DAG's value types in parsed form: headers, votes and certificates, with
// their digests computed over canonical bytes (see canonical.h). Conversions
// from the wire check sizes and fail with a reason; they do not check
// signatures or quorums (that is the primary's job, it needs the committee).
#ifndef NARWHAL_CORE_DAG_H_
#define NARWHAL_CORE_DAG_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/committee.h"
#include "core/crypto.h"
#include "core/messages.pb.h"
#include "core/types.h"

namespace narwhal {

struct BatchRef {
  Digest digest;
  WorkerId worker_id = 0;
  auto operator<=>(const BatchRef&) const = default;
  bool operator==(const BatchRef&) const = default;
};

struct Header {
  AuthorityIndex author = 0;
  Round round = 0;
  std::vector<BatchRef> payload;
  std::vector<Digest> parents;  // sorted, unique
  Signature signature{};
  Digest digest;  // canonical digest of everything above but the signature

  // Recomputes `digest` from the fields (call after building by hand).
  void Seal();
  wire::Header ToWire() const;
  // Checks field sizes and recomputes the digest.
  static absl::StatusOr<Header> FromWire(const wire::Header& w);
  static absl::StatusOr<Header> Parse(std::string_view bytes);
};

struct Vote {
  Digest header_digest;
  Round round = 0;
  AuthorityIndex origin = 0;  // author of the header
  AuthorityIndex author = 0;  // the voter
  Signature signature{};

  wire::Vote ToWire() const;
  static absl::StatusOr<Vote> FromWire(const wire::Vote& w);
};

struct Certificate {
  Header header;
  std::vector<std::pair<AuthorityIndex, Signature>> votes;  // sorted by author
  Digest digest;  // H("certificate" || header digest): same for any vote set
  // The serialized form, when known (set by Parse and Encode): stores and
  // broadcasts reuse it instead of serializing again. Not part of equality.
  std::shared_ptr<const std::string> encoded;

  Round round() const { return header.round; }
  AuthorityIndex author() const { return header.author; }
  const std::vector<Digest>& parents() const { return header.parents; }

  void Seal();
  wire::Certificate ToWire() const;
  std::string Serialize() const;
  // Sets `encoded` from the fields (after Seal, before sharing).
  void Encode();
  static absl::StatusOr<Certificate> FromWire(const wire::Certificate& w);
  static absl::StatusOr<Certificate> Parse(std::string_view bytes);
  // The round-0 certificate of authority i: known to all, signed by none.
  static Certificate Genesis(AuthorityIndex author);
  static std::vector<Certificate> GenesisSet(const Committee& committee);
};

using CertificatePtr = std::shared_ptr<const Certificate>;

// Vote signatures and header signatures are over the header digest.
inline std::string_view SigningBytes(const Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.bytes.data()), Digest::kSize);
}

}  // namespace narwhal

#endif  // NARWHAL_CORE_DAG_H_
