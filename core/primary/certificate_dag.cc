#include "core/primary/certificate_dag.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

void CertificateDag::Insert(const CertificatePtr& c) {
  CHECK_GE(c->round(), pruned_below_) << "certificate " << c->digest.Short() << " below the GC round";
  auto [slot, fresh] = rounds_[c->round()].emplace(c->author(), c);
  CHECK(fresh) << "a second certificate of author " << c->author() << " in round " << c->round();
  CHECK(by_digest_.emplace(c->digest, c).second) << "certificate " << c->digest.Short() << " held twice";
  auto& sorted = round_digests_[c->round()];
  const std::pair<Digest, AuthorityIndex> entry{c->digest, c->author()};
  sorted.insert(std::lower_bound(sorted.begin(), sorted.end(), entry), entry);
}

uint64_t CertificateDag::StakeAt(Round round) const {
  auto it = rounds_.find(round);
  if (it == rounds_.end()) return 0;
  uint64_t stake = 0;
  for (const auto& [author, cert] : it->second) stake += committee_->Stake(author);
  return stake;
}

void CertificateDag::MarkParentsValid(const Header& header) {
  if (parents_valid_.insert(header.digest).second) {
    parents_valid_by_round_[header.round].push_back(header.digest);
  }
}

absl::Status CertificateDag::CheckParents(const Header& header, Round gc_round,
                                          absl::btree_set<Digest>* missing) {
  if (header.round - 1 <= gc_round || parents_valid_.contains(header.digest)) return absl::OkStatus();
  uint64_t stake = 0;
  std::vector<bool> seen(committee_->size(), false);
  bool ok = true;
  bool any_missing = false;
  // Both lists are sorted by digest: walk them together.
  static const std::vector<std::pair<Digest, AuthorityIndex>> kNone;
  auto round_it = round_digests_.find(header.round - 1);
  const auto& held = round_it == round_digests_.end() ? kNone : round_it->second;
  size_t j = 0;
  for (const Digest& p : header.parents) {
    while (j < held.size() && held[j].first < p) ++j;
    if (j < held.size() && held[j].first == p) {
      const AuthorityIndex author = held[j].second;
      ok &= !seen[author];
      seen[author] = true;
      stake += committee_->Stake(author);
      continue;
    }
    if (by_digest_.contains(p)) {
      ok = false;  // held, but not of round - 1
      continue;
    }
    any_missing = true;
    if (missing != nullptr) missing->insert(p);
  }
  if (any_missing) return absl::NotFoundError("parents missing");
  if (!ok) return absl::InvalidArgumentError("a parent of the wrong round or a repeated author");
  if (stake < committee_->QuorumThreshold()) {
    return absl::InvalidArgumentError(absl::StrCat("parents carry stake ", stake, " < quorum ",
                                                   committee_->QuorumThreshold()));
  }
  MarkParentsValid(header);
  return absl::OkStatus();
}

void CertificateDag::Prune(Round gc_round) {
  CHECK_GE(gc_round + 1, pruned_below_) << "the GC round went back to " << gc_round;
  pruned_below_ = gc_round + 1;
  while (!rounds_.empty() && rounds_.begin()->first <= gc_round) {
    for (const auto& [author, cert] : rounds_.begin()->second) by_digest_.erase(cert->digest);
    rounds_.erase(rounds_.begin());
  }
  round_digests_.erase(round_digests_.begin(), round_digests_.upper_bound(gc_round));
  while (!parents_valid_by_round_.empty() && parents_valid_by_round_.begin()->first <= gc_round + 1) {
    for (const Digest& d : parents_valid_by_round_.begin()->second) parents_valid_.erase(d);
    parents_valid_by_round_.erase(parents_valid_by_round_.begin());
  }
}

}  // namespace narwhal
