#include "sim/checkers.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "transport_sim/trace_hash.h"

namespace narwhal::sim {

void Checkers::Violate(std::string checker, TimeUs at, std::string evidence) {
  violations_.push_back({std::move(checker), at, std::move(evidence)});
}

uint64_t Checkers::Fingerprint(const CommittedSubDag& sub) {
  std::string bytes;
  for (const CertificatePtr& c : sub.certificates) bytes += c->digest.ToBytes();
  bytes += "|";
  for (const BatchRef& b : sub.batches) bytes += b.digest.ToBytes();
  return Hash64(bytes);
}

void Checkers::OnBatchSealed(const Digest& digest, std::vector<uint64_t> tx_ids) {
  for (uint64_t tx : tx_ids) tx_batch_[tx] = digest;
  batches_[digest] = std::move(tx_ids);
}

void Checkers::OnTransactionsAccepted(const std::vector<uint64_t>& tx_ids) {
  for (uint64_t id : tx_ids) accepted_tx_count_ += accepted_tx_.insert(id).second;
}

void Checkers::OnCommit(AuthorityIndex node, const CommittedSubDag& sub, TimeUs now_us) {
  if (!Honest(node)) return;
  uint64_t& next = next_index_[node];
  if (sub.index != next) {
    Violate("agreement", now_us, absl::StrCat("authority ", node, " committed index ", sub.index,
                                              " but its next index is ", next, " (gap or repeat)"));
  }
  next = sub.index + 1;
  const uint64_t fp = Fingerprint(sub);
  if (sub.index < sequence_.size()) {
    if (sequence_[sub.index] != fp) {
      Violate("agreement", now_us,
              absl::StrCat("authority ", node, " committed a different sub-DAG at index ", sub.index,
                           " (leader ", sub.leader->digest.Short(), " round ", sub.leader->round(),
                           ") than an earlier node"));
    }
    return;
  }
  if (sub.index > sequence_.size()) {
    Violate("agreement", now_us, absl::StrCat("authority ", node, " committed index ", sub.index,
                                              " before anyone committed ", sequence_.size()));
    return;
  }
  // First time any node commits this index: integrity and figures.
  sequence_.push_back(fp);
  timeline_.emplace_back(now_us, static_cast<TimeUs>(sub.index));
  last_commit_us_ = now_us;
  last_committed_round_ = std::max(last_committed_round_, sub.leader->round());
  committed_certificates_ += sub.certificates.size();
  for (const CertificatePtr& c : sub.certificates) {
    // Only what is later than the last record per author matters (the
    // per-authority liveness check asks "any commit in a window").
    std::vector<TimeUs>& times = author_commits_us_[c->author()];
    if (times.empty() || times.back() != now_us) times.push_back(now_us);
  }
  // The batches the sub-DAG executes (duplicates of earlier commits removed
  // by the primary): each must be one an honest worker sealed, executed once.
  for (const BatchRef& b : sub.batches) {
    {
      if (!committed_batches_.insert(b.digest).second) {
        Violate("integrity", now_us, absl::StrCat("batch ", b.digest.Short(), " executed twice (again at index ",
                                                  sub.index, ")"));
        continue;
      }
      auto it = batches_.find(b.digest);
      if (it == batches_.end()) {
        bool honest_author = false;
        for (const CertificatePtr& c : sub.certificates) {
          for (const BatchRef& p : c->header.payload) honest_author |= p == b && Honest(c->author());
        }
        if (honest_author) {
          Violate("integrity", now_us, absl::StrCat("batch ", b.digest.Short(),
                                                    " in a certificate of an honest authority was never sealed by a worker"));
        }
        continue;
      }
      if (auto created = batch_created_us_.find(b.digest); created != batch_created_us_.end()) {
        latencies_us_.push_back(now_us - created->second);
      }
      for (uint64_t tx : it->second) {
        if (!committed_tx_.insert(tx).second) {
          Violate("integrity", now_us, absl::StrCat("transaction ", tx, " committed twice"));
        }
      }
    }
  }
}

void Checkers::OnCertificate(AuthorityIndex node, const CertificatePtr& cert, TimeUs now_us) {
  if (!Honest(node)) return;
  const auto key = std::make_pair(cert->round(), cert->author());
  auto [it, inserted] = certified_.emplace(key, cert->digest);
  if (!inserted) {
    if (it->second != cert->digest) {
      Violate("dag", now_us, absl::StrCat("two certificates for authority ", cert->author(), " round ",
                                          cert->round(), ": ", it->second.Short(), " and ",
                                          cert->digest.Short(), " (seen by authority ", node, ")"));
    }
    return;
  }
  cert_index_[cert->digest] = key;
  for (const BatchRef& b : cert->header.payload) batch_certified_.emplace(b.digest, key);
  if (cert->round() == 0) return;
  uint64_t stake = 0;
  for (const Digest& p : cert->parents()) {
    auto pi = cert_index_.find(p);
    if (pi == cert_index_.end()) continue;  // accepted below someone's GC round
    if (pi->second.first != cert->round() - 1) {
      Violate("dag", now_us, absl::StrCat("certificate ", cert->digest.Short(), " of round ", cert->round(),
                                          " has a parent of round ", pi->second.first));
    }
    stake += committee_->Stake(pi->second.second);
  }
  if (cert->parents().size() > 0 && stake > 0 && stake < committee_->QuorumThreshold() &&
      cert->round() > 1) {
    // Only counts parents this checker saw; a shortfall is real only when all were seen.
    bool all_seen = std::all_of(cert->parents().begin(), cert->parents().end(),
                                [&](const Digest& p) { return cert_index_.contains(p); });
    if (all_seen) {
      Violate("dag", now_us, absl::StrCat("certificate ", cert->digest.Short(), " parents carry stake ",
                                          stake, " < quorum"));
    }
  }
}

void Checkers::OnVoteOnWire(AuthorityIndex voter, AuthorityIndex origin, Round round,
                            const Digest& header, TimeUs now_us) {
  if (!Honest(voter)) return;
  const uint64_t key = (uint64_t{voter} << 48) ^ (uint64_t{origin} << 32) ^ round;
  auto [it, inserted] = votes_.emplace(key, header);
  if (!inserted && it->second != header) {
    Violate("votes", now_us, absl::StrCat("authority ", voter, " voted for two headers of authority ",
                                          origin, " round ", round, ": ", it->second.Short(), " and ",
                                          header.Short()));
  }
}

void Checkers::FinishPerAuthority(TimeUs heal_us, TimeUs end_us, TimeUs liveness_bound_us,
                                  const absl::btree_set<AuthorityIndex>& up_at_end) {
  if (end_us - heal_us < liveness_bound_us) return;
  for (AuthorityIndex a : up_at_end) {
    if (!Honest(a)) continue;
    const auto it = author_commits_us_.find(a);
    bool committed = false;
    TimeUs last = -1;
    if (it != author_commits_us_.end()) {
      for (TimeUs t : it->second) {
        if (t <= heal_us + liveness_bound_us) last = t;
        committed |= t > heal_us && t <= heal_us + liveness_bound_us;
      }
    }
    if (!committed) {
      Violate("authority_liveness", end_us,
              absl::StrCat("no certificate of authority ", a, " was committed within ", liveness_bound_us / kMillisecondUs,
                           " ms after the heal at ", heal_us / kMillisecondUs, " ms (its last before then: ",
                           last < 0 ? std::string("none") : absl::StrCat(last / kMillisecondUs, " ms"),
                           "); the committee runs without it"));
    }
  }
}

void Checkers::Finish(TimeUs heal_us, TimeUs end_us, TimeUs liveness_bound_us) {
  std::vector<uint64_t> missing;
  for (uint64_t tx : accepted_tx_) {
    if (!committed_tx_.contains(tx)) missing.push_back(tx);
  }
  if (!missing.empty()) {
    std::sort(missing.begin(), missing.end());
    std::vector<uint64_t> head(missing.begin(), missing.begin() + std::min<size_t>(missing.size(), 10));
    std::string why;
    if (auto b = tx_batch_.find(missing.front()); b != tx_batch_.end()) {
      why = absl::StrCat("; transaction ", missing.front(), " is in batch ", b->second.Short());
      if (auto c = batch_certified_.find(b->second); c != batch_certified_.end()) {
        absl::StrAppend(&why, ", certified by authority ", c->second.second, " in round ", c->second.first,
                        " but that certificate was never committed");
      } else {
        absl::StrAppend(&why, ", which no certificate carries");
      }
    }
    Violate("availability", end_us, absl::StrCat(missing.size(), " accepted transactions never committed, e.g. ",
                                                 absl::StrJoin(head, ","), why));
  }
  if (end_us - heal_us >= liveness_bound_us) {
    bool resumed = false;
    for (const auto& [t, index] : timeline_) {
      if (t > heal_us && t <= heal_us + liveness_bound_us) resumed = true;
    }
    if (!resumed) {
      Violate("liveness", end_us, absl::StrCat("no commit within ", liveness_bound_us / kMillisecondUs,
                                               " ms after the heal at ", heal_us / kMillisecondUs, " ms"));
    }
  }
}

}  // namespace narwhal::sim
