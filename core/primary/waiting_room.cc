#include "core/primary/waiting_room.h"

#include <utility>

#include "glog/logging.h"

namespace narwhal {

void WaitingRoom::AddHeader(WaitingHeader w) {
  CHECK(!w.missing_parents.empty() || !w.missing_payload.empty()) << "a header that waits for nothing";
  CHECK(!headers_full());
  const Digest d = w.header.digest;
  for (const Digest& p : w.missing_parents) by_parent_[p].insert(d);
  for (const BatchRef& b : w.missing_payload) by_payload_[b].insert(d);
  CHECK(headers_.emplace(d, std::move(w)).second) << "header " << d.Short() << " waits twice";
}

void WaitingRoom::AddCertificate(CertificatePtr certificate, absl::btree_set<Digest> missing_parents) {
  CHECK(!missing_parents.empty()) << "a certificate that waits for nothing";
  CHECK(!certificates_full());
  const Digest d = certificate->digest;
  for (const Digest& p : missing_parents) by_parent_[p].insert(d);
  CHECK(certificates_.emplace(d, WaitingCertificate{std::move(certificate), std::move(missing_parents)}).second)
      << "certificate " << d.Short() << " waits twice";
}

std::vector<WaitingRoom::Released> WaitingRoom::ParentArrived(const Digest& digest) {
  std::vector<Released> out;
  auto it = by_parent_.find(digest);
  if (it == by_parent_.end()) return out;
  absl::btree_set<Digest> waiters = std::move(it->second);
  by_parent_.erase(it);
  for (const Digest& d : waiters) {
    Released r;
    if (auto c = certificates_.find(d); c != certificates_.end()) {
      c->second.missing_parents.erase(digest);
      if (c->second.missing_parents.empty()) {
        r.certificate = std::move(c->second.certificate);
        certificates_.erase(c);
      }
    }
    if (auto h = headers_.find(d); h != headers_.end()) {
      h->second.missing_parents.erase(digest);
      if (h->second.missing_parents.empty() && h->second.missing_payload.empty()) {
        r.header = std::move(h->second.header);
        headers_.erase(h);
      }
    }
    if (r.certificate || r.header) out.push_back(std::move(r));
  }
  return out;
}

std::vector<Header> WaitingRoom::PayloadArrived(const BatchRef& ref) {
  std::vector<Header> out;
  auto it = by_payload_.find(ref);
  if (it == by_payload_.end()) return out;
  absl::btree_set<Digest> waiters = std::move(it->second);
  by_payload_.erase(it);
  for (const Digest& d : waiters) {
    auto h = headers_.find(d);
    if (h == headers_.end()) continue;
    h->second.missing_payload.erase(ref);
    if (h->second.missing_payload.empty() && h->second.missing_parents.empty()) {
      out.push_back(std::move(h->second.header));
      headers_.erase(h);
    }
  }
  return out;
}

std::vector<WaitingHeader*> WaitingRoom::WaitingForPayload() {
  std::vector<WaitingHeader*> out;
  for (auto& [digest, w] : headers_) {
    if (!w.missing_payload.empty()) out.push_back(&w);
  }
  return out;
}

std::vector<WaitingHeader> WaitingRoom::DropUpTo(Round gc_round) {
  std::vector<WaitingHeader> dropped;
  for (auto it = headers_.begin(); it != headers_.end();) {
    if (it->second.header.round > gc_round) {
      ++it;
      continue;
    }
    dropped.push_back(std::move(it->second));
    it = headers_.erase(it);
  }
  for (auto it = certificates_.begin(); it != certificates_.end();) {
    it = it->second.certificate->round() <= gc_round ? certificates_.erase(it) : std::next(it);
  }
  // Index entries whose waiters are gone would only be skipped, but they
  // must not pile up.
  auto still_waiting = [this](const Digest& d) { return headers_.contains(d) || certificates_.contains(d); };
  for (auto it = by_parent_.begin(); it != by_parent_.end();) {
    absl::erase_if(it->second, [&](const Digest& d) { return !still_waiting(d); });
    it = it->second.empty() ? by_parent_.erase(it) : std::next(it);
  }
  for (auto it = by_payload_.begin(); it != by_payload_.end();) {
    absl::erase_if(it->second, [&](const Digest& d) { return !still_waiting(d); });
    it = it->second.empty() ? by_payload_.erase(it) : std::next(it);
  }
  return dropped;
}

std::pair<std::vector<CertificatePtr>, std::vector<Header>> WaitingRoom::TakeAll() {
  std::pair<std::vector<CertificatePtr>, std::vector<Header>> out;
  for (auto& [digest, w] : certificates_) out.first.push_back(std::move(w.certificate));
  for (auto& [digest, w] : headers_) out.second.push_back(std::move(w.header));
  certificates_.clear();
  headers_.clear();
  by_parent_.clear();
  by_payload_.clear();
  return out;
}

}  // namespace narwhal
