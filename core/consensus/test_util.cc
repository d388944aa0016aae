#include "core/consensus/test_util.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

namespace narwhal::consensus_test {

Committee MakeCommittee(const std::vector<uint64_t>& stakes) {
  std::vector<PublicKey> keys(stakes.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    keys[i][0] = static_cast<uint8_t>(i + 1);
    keys[i][1] = static_cast<uint8_t>((i + 1) >> 8);
  }
  return Committee::ForTest(keys, stakes, 1);
}

Committee EqualCommittee(size_t n) { return MakeCommittee(std::vector<uint64_t>(n, 1)); }

CertificatePtr MakeCertificate(AuthorityIndex author, Round round, std::vector<Digest> parents) {
  auto certificate = std::make_shared<Certificate>();
  certificate->header.author = author;
  certificate->header.round = round;
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  certificate->header.parents = std::move(parents);
  certificate->Seal();
  return certificate;
}

DagBuilder::DagBuilder(const Committee& committee) : committee_(committee) {
  for (AuthorityIndex a = 0; a < committee_.size(); ++a) {
    by_slot_[{0, a}] = std::make_shared<Certificate>(Certificate::Genesis(a));
  }
}

CertificatePtr DagBuilder::Add(AuthorityIndex author, Round round,
                               const std::vector<AuthorityIndex>& parent_authors) {
  CHECK_GE(round, 1u);
  CHECK(!by_slot_.contains({round, author})) << "slot taken: " << round << "," << author;
  std::vector<Digest> parents;
  for (AuthorityIndex parent : parent_authors) {
    CertificatePtr p = Get(round - 1, parent);
    CHECK(p != nullptr) << "no parent " << round - 1 << "," << parent;
    parents.push_back(p->digest);
  }
  CertificatePtr certificate = MakeCertificate(author, round, std::move(parents));
  by_slot_[{round, author}] = certificate;
  all_.push_back(certificate);
  return certificate;
}

void DagBuilder::AddRounds(Round first, Round last, const std::vector<AuthorityIndex>& authors) {
  for (Round round = first; round <= last; ++round) {
    std::vector<AuthorityIndex> parents = AuthorsAt(round - 1);
    for (AuthorityIndex author : authors) Add(author, round, parents);
  }
}

CertificatePtr DagBuilder::Get(Round round, AuthorityIndex author) const {
  auto it = by_slot_.find({round, author});
  return it == by_slot_.end() ? nullptr : it->second;
}

std::vector<AuthorityIndex> DagBuilder::AuthorsAt(Round round) const {
  std::vector<AuthorityIndex> authors;
  for (auto it = by_slot_.lower_bound({round, 0});
       it != by_slot_.end() && it->first.first == round; ++it) {
    authors.push_back(it->first.second);
  }
  return authors;
}

std::vector<CertificatePtr> DagBuilder::Rounds(Round first, Round last) const {
  std::vector<CertificatePtr> out;
  for (const CertificatePtr& c : all_) {
    if (c->round() >= first && c->round() <= last) out.push_back(c);
  }
  return out;
}

std::vector<CommittedSubDag> Feed(Consensus& consensus,
                                  const std::vector<CertificatePtr>& certificates) {
  std::vector<CommittedSubDag> out;
  for (const CertificatePtr& certificate : certificates) {
    for (CommittedSubDag& sub_dag : consensus.ProcessCertificate(certificate)) {
      out.push_back(std::move(sub_dag));
    }
  }
  return out;
}

std::vector<Digest> Digests(const std::vector<CertificatePtr>& certificates) {
  std::vector<Digest> out;
  for (const CertificatePtr& c : certificates) out.push_back(c->digest);
  return out;
}

std::vector<std::string> Describe(const std::vector<CommittedSubDag>& sequence) {
  std::vector<std::string> lines;
  for (const CommittedSubDag& sub_dag : sequence) {
    std::string line = absl::StrCat(sub_dag.index, " leader(", sub_dag.leader->round(), ",",
                                    sub_dag.leader->author(), "):");
    for (const CertificatePtr& c : sub_dag.certificates) {
      absl::StrAppend(&line, " (", c->round(), ",", c->author(), ")", c->digest.Short());
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void ExpectValidSequence(const std::vector<CommittedSubDag>& sequence,
                         const std::vector<CertificatePtr>& universe, Round gc_depth,
                         uint64_t first_index) {
  absl::flat_hash_map<Digest, CertificatePtr> known;
  for (const CertificatePtr& c : universe) known[c->digest] = c;
  absl::flat_hash_set<Digest> committed;
  Round last_leader_round = 0;
  uint64_t expected_index = first_index;
  for (const CommittedSubDag& sub_dag : sequence) {
    ASSERT_EQ(sub_dag.index, expected_index++);
    ASSERT_NE(sub_dag.leader, nullptr);
    ASSERT_FALSE(sub_dag.certificates.empty());
    EXPECT_EQ(sub_dag.certificates.back(), sub_dag.leader) << "leader must come last";
    EXPECT_GT(sub_dag.leader->round(), last_leader_round) << "leader rounds must increase";
    EXPECT_EQ(sub_dag.leader->round() % 2, 0u) << "leaders live on even rounds";
    // The GC round the sub-DAG was ordered under: the previous leader's.
    const Round gc_round = last_leader_round > gc_depth ? last_leader_round - gc_depth : 0;
    last_leader_round = sub_dag.leader->round();
    for (size_t i = 0; i < sub_dag.certificates.size(); ++i) {
      const CertificatePtr& c = sub_dag.certificates[i];
      if (i > 0) {
        const CertificatePtr& prev = sub_dag.certificates[i - 1];
        EXPECT_LT(std::make_pair(prev->round(), prev->author()),
                  std::make_pair(c->round(), c->author()))
            << "sub-DAG " << sub_dag.index << " not sorted by (round, author)";
      }
      EXPECT_LE(c->round(), sub_dag.leader->round());
      EXPECT_GT(c->round(), gc_round) << "committed a garbage-collected round";
      EXPECT_TRUE(committed.insert(c->digest).second)
          << "certificate (" << c->round() << "," << c->author() << ") committed twice";
      for (const Digest& parent_digest : c->parents()) {
        auto it = known.find(parent_digest);
        if (it == known.end() || it->second->round() <= gc_round) continue;
        EXPECT_TRUE(committed.contains(parent_digest))
            << "certificate (" << c->round() << "," << c->author() << ") committed in sub-DAG "
            << sub_dag.index << " before its parent (" << it->second->round() << ","
            << it->second->author() << ")";
      }
    }
  }
}

}  // namespace narwhal::consensus_test
