#include "core/dag.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace narwhal {
namespace {

absl::StatusOr<Signature> SignatureFromBytes(std::string_view raw, bool allow_empty) {
  Signature s{};
  if (raw.empty() && allow_empty) return s;
  if (raw.size() != s.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature must be 64 bytes, got ", raw.size()));
  }
  std::memcpy(s.data(), raw.data(), s.size());
  return s;
}

std::string SignatureBytes(const Signature& s) {
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

}  // namespace

void Header::Seal() {
  Hasher h;
  h.Update("narwhal.header.v1");
  h.UpdateU32(author);
  h.UpdateU64(round);
  h.UpdateU32(static_cast<uint32_t>(payload.size()));
  for (const auto& b : payload) {
    h.Update(SigningBytes(b.digest));
    h.UpdateU32(b.worker_id);
  }
  h.UpdateU32(static_cast<uint32_t>(parents.size()));
  for (const auto& p : parents) h.Update(SigningBytes(p));
  digest = h.Finish();
}

wire::Header Header::ToWire() const {
  wire::Header w;
  w.set_author(author);
  w.set_round(round);
  for (const auto& b : payload) {
    auto* r = w.add_payload();
    r->set_digest(b.digest.ToBytes());
    r->set_worker_id(b.worker_id);
  }
  for (const auto& p : parents) w.add_parents(p.ToBytes());
  w.set_signature(SignatureBytes(signature));
  return w;
}

absl::StatusOr<Header> Header::FromWire(const wire::Header& w) {
  Header h;
  h.author = w.author();
  h.round = w.round();
  h.payload.reserve(w.payload_size());
  for (const auto& r : w.payload()) {
    auto d = Digest::FromBytes(r.digest());
    if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat("header payload: ", d.status().message()));
    h.payload.push_back({*d, r.worker_id()});
  }
  h.parents.reserve(w.parents_size());
  for (const auto& p : w.parents()) {
    auto d = Digest::FromBytes(p);
    if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat("header parent: ", d.status().message()));
    h.parents.push_back(*d);
  }
  if (!std::is_sorted(h.parents.begin(), h.parents.end()) ||
      std::adjacent_find(h.parents.begin(), h.parents.end()) != h.parents.end()) {
    return absl::InvalidArgumentError("header parents must be sorted and distinct");
  }
  auto sig = SignatureFromBytes(w.signature(), /*allow_empty=*/h.round == 0);
  if (!sig.ok()) return absl::InvalidArgumentError(absl::StrCat("header: ", sig.status().message()));
  h.signature = *sig;
  h.Seal();
  return h;
}

absl::StatusOr<Header> Header::Parse(std::string_view bytes) {
  wire::Header w;
  if (!w.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("header: not a valid protobuf message");
  }
  return FromWire(w);
}

wire::Vote Vote::ToWire() const {
  wire::Vote w;
  w.set_header_digest(header_digest.ToBytes());
  w.set_round(round);
  w.set_origin(origin);
  w.set_author(author);
  w.set_signature(SignatureBytes(signature));
  return w;
}

absl::StatusOr<Vote> Vote::FromWire(const wire::Vote& w) {
  Vote v;
  auto d = Digest::FromBytes(w.header_digest());
  if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat("vote: ", d.status().message()));
  v.header_digest = *d;
  v.round = w.round();
  v.origin = w.origin();
  v.author = w.author();
  auto sig = SignatureFromBytes(w.signature(), false);
  if (!sig.ok()) return absl::InvalidArgumentError(absl::StrCat("vote: ", sig.status().message()));
  v.signature = *sig;
  return v;
}

void Certificate::Seal() {
  header.Seal();
  Hasher h;
  h.Update("narwhal.certificate.v1");
  h.Update(SigningBytes(header.digest));
  digest = h.Finish();
}

wire::Certificate Certificate::ToWire() const {
  wire::Certificate w;
  *w.mutable_header() = header.ToWire();
  for (const auto& [author, sig] : votes) {
    auto* v = w.add_votes();
    v->set_author(author);
    v->set_signature(SignatureBytes(sig));
  }
  return w;
}

std::string Certificate::Serialize() const {
  return encoded ? *encoded : ToWire().SerializeAsString();
}

void Certificate::Encode() { encoded = std::make_shared<const std::string>(ToWire().SerializeAsString()); }

absl::StatusOr<Certificate> Certificate::FromWire(const wire::Certificate& w) {
  Certificate c;
  auto h = Header::FromWire(w.header());
  if (!h.ok()) return h.status();
  c.header = std::move(*h);
  c.votes.reserve(w.votes_size());
  for (const auto& v : w.votes()) {
    auto sig = SignatureFromBytes(v.signature(), false);
    if (!sig.ok()) return absl::InvalidArgumentError(absl::StrCat("certificate vote: ", sig.status().message()));
    if (!c.votes.empty() && c.votes.back().first >= v.author()) {
      return absl::InvalidArgumentError("certificate votes must be sorted by author, no repeats");
    }
    c.votes.emplace_back(v.author(), *sig);
  }
  c.Seal();
  return c;
}

absl::StatusOr<Certificate> Certificate::Parse(std::string_view bytes) {
  wire::Certificate w;
  if (!w.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("certificate: not a valid protobuf message");
  }
  auto c = FromWire(w);
  if (c.ok()) c->encoded = std::make_shared<const std::string>(bytes);
  return c;
}

Certificate Certificate::Genesis(AuthorityIndex author) {
  Certificate c;
  c.header.author = author;
  c.header.round = 0;
  c.Seal();
  return c;
}

std::vector<Certificate> Certificate::GenesisSet(const Committee& committee) {
  std::vector<Certificate> out;
  for (AuthorityIndex i = 0; i < committee.size(); ++i) out.push_back(Genesis(i));
  return out;
}

}  // namespace narwhal
