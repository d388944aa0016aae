// Headers and certificates that wait for what they name: parents not in
// the DAG yet, and (headers) batches our workers do not hold yet. Indexed
// by what they wait for, so an arrival releases exactly its waiters.
//
// Invariants (CHECKed): a waiter waits for something (a released entry is
// never kept), one entry per digest, the index names only entries held.
// Iteration is by digest, deterministic.
#ifndef NARWHAL_CORE_PRIMARY_WAITING_ROOM_H_
#define NARWHAL_CORE_PRIMARY_WAITING_ROOM_H_

#include <optional>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "core/dag.h"

namespace narwhal {

struct WaitingHeader {
  Header header;
  absl::btree_set<Digest> missing_parents;
  absl::btree_set<BatchRef> missing_payload;
  // When our workers were last asked for missing_payload.
  TimeUs payload_requested_us = 0;
};

class WaitingRoom {
 public:
  // At most `capacity` headers and `capacity` certificates wait at once.
  explicit WaitingRoom(size_t capacity) : capacity_(capacity) {}

  bool HasHeader(const Digest& d) const { return headers_.contains(d); }
  bool HasCertificate(const Digest& d) const { return certificates_.contains(d); }
  bool headers_full() const { return headers_.size() >= capacity_; }
  bool certificates_full() const { return certificates_.size() >= capacity_; }
  size_t headers() const { return headers_.size(); }
  size_t certificates() const { return certificates_.size(); }
  // The waiting header with the lowest digest, for reports; null if none.
  const WaitingHeader* first_header() const { return headers_.empty() ? nullptr : &headers_.begin()->second; }

  // The header must wait for something, must not be waiting already, and
  // there must be room.
  void AddHeader(WaitingHeader w);
  void AddCertificate(CertificatePtr certificate, absl::btree_set<Digest> missing_parents);

  // What an arrival released, waiter by waiter in digest order: a
  // certificate, a header, or (if one digest named both) both.
  struct Released {
    CertificatePtr certificate;
    std::optional<Header> header;
  };
  // The certificate `digest` entered the DAG.
  std::vector<Released> ParentArrived(const Digest& digest);
  // Our worker now holds `ref`.
  std::vector<Header> PayloadArrived(const BatchRef& ref);

  // The headers that wait for batches, in digest order (valid until the
  // room changes).
  std::vector<WaitingHeader*> WaitingForPayload();

  // Drops every header and certificate of round <= gc_round; returns the
  // dropped headers, in digest order.
  std::vector<WaitingHeader> DropUpTo(Round gc_round);
  // Empties the room; returns what waited (certificates, headers) in digest
  // order.
  std::pair<std::vector<CertificatePtr>, std::vector<Header>> TakeAll();

 private:
  struct WaitingCertificate {
    CertificatePtr certificate;
    absl::btree_set<Digest> missing_parents;
  };

  const size_t capacity_;
  absl::btree_map<Digest, WaitingHeader> headers_;
  absl::btree_map<Digest, WaitingCertificate> certificates_;
  absl::btree_map<Digest, absl::btree_set<Digest>> by_parent_;    // parent -> waiters
  absl::btree_map<BatchRef, absl::btree_set<Digest>> by_payload_;  // batch -> waiting headers
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_PRIMARY_WAITING_ROOM_H_
