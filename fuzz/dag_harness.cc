// Headers, votes and certificates as a primary reads them from a peer or
// from its store (core/dag.h: Header::Parse, Certificate::Parse,
// Vote::FromWire), and the parse cache the simulator puts in front of them
// (core/wire_cache.h). Every input goes through all of them.
//
// Checks, for each decoder:
//  - ok iff protobuf parses the bytes and the value passes FromWire's
//    rules; a refusal has a message;
//  - a decoded value holds its invariants (32-byte digests, 64-byte
//    signatures, parents sorted and distinct, votes sorted by author with no
//    repeat, digest = the canonical digest of its fields);
//  - encode(decode(x)) decodes to the same value, and encoding is a fixed
//    point from then on; a certificate keeps the exact bytes it came from;
//  - the certificate digest does not depend on the votes;
//  - the wire cache returns exactly what parsing returns, hit or miss.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "core/crypto.h"
#include "core/dag.h"
#include "core/messages.pb.h"
#include "core/wire_cache.h"
#include "fuzz/harness.h"
#include "glog/logging.h"

namespace narwhal::fuzz {
namespace {

void CheckSameHeader(const Header& a, const Header& b) {
  CHECK_EQ(a.author, b.author);
  CHECK_EQ(a.round, b.round);
  CHECK(a.payload == b.payload);
  CHECK(a.parents == b.parents);
  CHECK(a.signature == b.signature);
  CHECK(a.digest == b.digest);
}

void CheckSameCertificate(const Certificate& a, const Certificate& b) {
  CheckSameHeader(a.header, b.header);
  CHECK(a.votes == b.votes);
  CHECK(a.digest == b.digest);
}

void CheckHeaderInvariants(const Header& h) {
  for (size_t i = 1; i < h.parents.size(); ++i) CHECK(h.parents[i - 1] < h.parents[i]) << "parents not sorted/distinct";
  Header resealed = h;
  resealed.Seal();
  CHECK(resealed.digest == h.digest) << "digest is not the canonical digest of the fields";
}

void CheckHeader(std::string_view bytes) {
  auto h = Header::Parse(bytes);
  wire::Header w;
  const bool proto_ok = w.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  if (!h.ok()) {
    CHECK(!h.status().message().empty());
    if (proto_ok) CHECK(!Header::FromWire(w).ok()) << "Parse and FromWire disagree";
    return;
  }
  CHECK(proto_ok) << "Header::Parse accepted bytes protobuf refuses";
  CheckHeaderInvariants(*h);
  const std::string encoded = h->ToWire().SerializeAsString();
  auto again = Header::Parse(encoded);
  CHECK(again.ok()) << "a decoded header does not decode after encoding: " << again.status();
  CheckSameHeader(*h, *again);
  CHECK(again->ToWire().SerializeAsString() == encoded) << "encoding is not a fixed point";

  auto cached = WireCache<Header>::Get(bytes, &Header::Parse);
  CHECK(cached.ok());
  CheckSameHeader(*(*cached)->value, *h);
}

void CheckCertificate(std::string_view bytes) {
  auto c = Certificate::Parse(bytes);
  auto cached = WireCache<Certificate>::Get(bytes, &Certificate::Parse);
  CHECK_EQ(c.ok(), cached.ok());
  if (!c.ok()) {
    CHECK(!c.status().message().empty());
    CHECK(c.status() == cached.status()) << c.status() << " vs " << cached.status();
    return;
  }
  CheckSameCertificate(*(*cached)->value, *c);
  CheckHeaderInvariants(c->header);
  CHECK(c->encoded != nullptr && *c->encoded == bytes) << "a parsed certificate must keep its bytes";
  CHECK(c->Serialize() == bytes);
  for (size_t i = 1; i < c->votes.size(); ++i) CHECK_LT(c->votes[i - 1].first, c->votes[i].first);
  // The digest names the header, whatever the votes.
  Certificate unsigned_copy = *c;
  unsigned_copy.votes.clear();
  unsigned_copy.Seal();
  CHECK(unsigned_copy.digest == c->digest);

  const std::string encoded = c->ToWire().SerializeAsString();
  auto again = Certificate::Parse(encoded);
  CHECK(again.ok()) << again.status();
  CheckSameCertificate(*c, *again);
  Certificate encoded_copy = *again;
  encoded_copy.Encode();
  CHECK(*encoded_copy.encoded == encoded) << "encoding is not a fixed point";
  // The header inside decodes on its own to the same header.
  auto header = Header::Parse(c->header.ToWire().SerializeAsString());
  CHECK(header.ok());
  CheckSameHeader(*header, c->header);
}

void CheckVote(std::string_view bytes) {
  wire::Vote w;
  if (!w.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  auto v = Vote::FromWire(w);
  if (!v.ok()) {
    CHECK(!v.status().message().empty());
    CHECK(w.header_digest().size() != Digest::kSize || w.signature().size() != 64) << v.status();
    return;
  }
  auto again = Vote::FromWire(v->ToWire());
  CHECK(again.ok());
  CHECK(again->header_digest == v->header_digest);
  CHECK_EQ(again->round, v->round);
  CHECK_EQ(again->origin, v->origin);
  CHECK_EQ(again->author, v->author);
  CHECK(again->signature == v->signature);
  CHECK(v->ToWire().SerializeAsString() == again->ToWire().SerializeAsString());
}

void Run(std::string_view data) {
  static const bool init = [] {
    WireCache<Header>::SetCapacity(64);
    WireCache<Certificate>::SetCapacity(64);
    return true;
  }();
  (void)init;
  CheckHeader(data);
  CheckCertificate(data);
  CheckVote(data);
}

// ---- seeds: headers, votes and certificates as a committee makes them ----

KeyPair Key(uint8_t i) {
  std::array<uint8_t, 32> seed{};
  seed[0] = i;
  return KeyPair::FromSeed(SignatureScheme::kEd25519, seed);
}

Header MakeHeader(AuthorityIndex author, Round round, int batches, const std::vector<Digest>& parents) {
  Header h;
  h.author = author;
  h.round = round;
  for (int i = 0; i < batches; ++i) h.payload.push_back({BatchDigest(std::string(i + 1, 'b')), static_cast<WorkerId>(i % 2)});
  h.parents = parents;
  std::sort(h.parents.begin(), h.parents.end());
  h.Seal();
  h.signature = Key(author).Sign(SigningBytes(h.digest));
  return h;
}

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  std::vector<Digest> genesis;
  for (AuthorityIndex a = 0; a < 4; ++a) genesis.push_back(Certificate::Genesis(a).digest);
  const Header h1 = MakeHeader(0, 1, 2, genesis);
  out.push_back({"header_round1", h1.ToWire().SerializeAsString()});
  out.push_back({"header_round0_unsigned", [] {
                   wire::Header w;
                   w.set_author(2);
                   return w.SerializeAsString();
                 }()});
  Certificate c;
  c.header = h1;
  for (AuthorityIndex a = 0; a < 3; ++a) c.votes.emplace_back(a, Key(a).Sign(SigningBytes(h1.digest)));
  c.Seal();
  c.Encode();
  out.push_back({"certificate_round1", *c.encoded});
  Certificate unsorted = c;
  std::swap(unsorted.votes[0], unsorted.votes[1]);
  out.push_back({"certificate_votes_unsorted", unsorted.ToWire().SerializeAsString()});
  Certificate genesis0 = Certificate::Genesis(1);
  out.push_back({"certificate_genesis", genesis0.ToWire().SerializeAsString()});
  Vote v;
  v.header_digest = h1.digest;
  v.round = 1;
  v.origin = 0;
  v.author = 3;
  v.signature = Key(3).Sign(SigningBytes(h1.digest));
  out.push_back({"vote", v.ToWire().SerializeAsString()});
  wire::Header bad_parents = MakeHeader(1, 2, 0, {c.digest, genesis[0]}).ToWire();
  std::swap(*bad_parents.mutable_parents(0), *bad_parents.mutable_parents(1));
  out.push_back({"header_parents_unsorted", bad_parents.SerializeAsString()});
  return out;
}

}  // namespace

extern const Harness kDagHarness = {"dag", &Run, &Seeds};

}  // namespace narwhal::fuzz
