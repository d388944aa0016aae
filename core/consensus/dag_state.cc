#include "core/consensus/dag_state.h"

#include <algorithm>

#include "glog/logging.h"

namespace narwhal {
namespace {

const CertificatePtr& NoCertificate() {
  static const CertificatePtr* const kNone = new CertificatePtr();
  return *kNone;
}

bool IsLeaderRound(Round round) { return round >= 2 && round % 2 == 0; }

}  // namespace

DagState::DagState(const Committee& committee) : committee_(committee) {
  CHECK_GT(committee_.size(), 0u);
}

DagState::InsertResult DagState::Insert(CertificatePtr certificate) {
  CHECK(certificate != nullptr);
  const Round round = certificate->round();
  const AuthorityIndex author = certificate->author();
  if (round <= gc_round_) return InsertResult::kGarbageCollected;
  if (!committee_.Contains(author)) {
    LOG(WARNING) << "consensus: ignoring certificate " << certificate->digest.Short()
                 << " from unknown author " << author;
    return InsertResult::kUnknownAuthor;
  }
  if (index_.contains(certificate->digest)) return InsertResult::kDuplicate;
  RoundSlots& slots = rounds_[round];
  if (slots.by_author.empty()) slots.by_author.resize(committee_.size());
  CertificatePtr& slot = slots.by_author[author];
  if (slot != nullptr) {
    // Two certificates for one (author, round) need more than f Byzantine
    // voters. Keeping the first keeps each node's DAG a function of its own
    // input; nothing better is possible here.
    LOG(WARNING) << "consensus: equivocation by " << author << " at round " << round
                 << ": keeping " << slot->digest.Short() << ", ignoring "
                 << certificate->digest.Short();
    return InsertResult::kEquivocation;
  }
  DCHECK(std::is_sorted(certificate->parents().begin(), certificate->parents().end()));
  index_.emplace(certificate->digest, std::make_pair(round, author));
  slot = std::move(certificate);
  CountLeaderSupport(*slot);
  return InsertResult::kInserted;
}

void DagState::CountLeaderSupport(const Certificate& certificate) {
  const Round leader_round = certificate.round() - 1;
  if (!IsLeaderRound(leader_round)) return;
  auto it = rounds_.find(leader_round);
  if (it == rounds_.end()) return;
  const CertificatePtr& leader = it->second.by_author[committee_.Leader(leader_round)];
  if (leader == nullptr) return;
  // Parents are sorted and distinct (Header's contract, checked on parse).
  const auto& parents = certificate.parents();
  if (std::binary_search(parents.begin(), parents.end(), leader->digest)) {
    it->second.leader_support += committee_.Stake(certificate.author());
  }
}

const CertificatePtr& DagState::Get(Round round, AuthorityIndex author) const {
  auto it = rounds_.find(round);
  if (it == rounds_.end() || author >= it->second.by_author.size()) return NoCertificate();
  return it->second.by_author[author];
}

const CertificatePtr& DagState::Find(const Digest& digest) const {
  auto it = index_.find(digest);
  if (it == index_.end()) return NoCertificate();
  const CertificatePtr& found = Get(it->second.first, it->second.second);
  DCHECK(found != nullptr && found->digest == digest);
  return found;
}

uint64_t DagState::LeaderSupport(Round leader_round) const {
  auto it = rounds_.find(leader_round);
  return it == rounds_.end() ? 0 : it->second.leader_support;
}

void DagState::GarbageCollect(Round gc_round) {
  CHECK_GE(gc_round, gc_round_) << "the GC round never goes down";
  gc_round_ = gc_round;
  while (!rounds_.empty() && rounds_.begin()->first <= gc_round_) {
    for (const CertificatePtr& certificate : rounds_.begin()->second.by_author) {
      if (certificate != nullptr) CHECK_EQ(index_.erase(certificate->digest), 1u);
    }
    rounds_.erase(rounds_.begin());
  }
}

void DagState::Clear(Round gc_round) {
  rounds_.clear();
  index_.clear();
  gc_round_ = gc_round;
}

}  // namespace narwhal
