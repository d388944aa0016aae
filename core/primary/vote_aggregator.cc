#include "core/primary/vote_aggregator.h"

#include "glog/logging.h"

namespace narwhal {

void VoteAggregator::Start(const Header& header) {
  CHECK_EQ(header.author, self_);
  header_ = header;
  votes_.clear();
  votes_[self_] = header.signature;
  stake_ = committee_->Stake(self_);
  certified_ = false;
}

void VoteAggregator::MarkCertified() {
  CHECK(header_.has_value());
  certified_ = true;
}

VoteAggregator::Result VoteAggregator::Add(const Vote& v) {
  if (!header_ || v.header_digest != header_->digest || certified_) return {"stale_vote", std::nullopt};
  if (votes_.contains(v.author)) return {"duplicate_vote", std::nullopt};
  if (!Verify(scheme_, committee_->authority(v.author).public_key, SigningBytes(v.header_digest),
              v.signature)) {
    return {"bad_signature", std::nullopt};
  }
  votes_[v.author] = v.signature;
  stake_ += committee_->Stake(v.author);
  if (stake_ < committee_->QuorumThreshold()) return {};
  return {{}, Form()};
}

std::optional<Certificate> VoteAggregator::CertifyAlone() {
  if (!header_ || certified_ || stake_ < committee_->QuorumThreshold()) return std::nullopt;
  return Form();
}

Certificate VoteAggregator::Form() {
  CHECK(!certified_) << "a second certificate for our header of round " << header_->round;
  uint64_t stake = 0;
  for (const auto& [author, sig] : votes_) stake += committee_->Stake(author);
  CHECK_EQ(stake, stake_);
  CHECK_GE(stake, committee_->QuorumThreshold()) << "certificate without quorum stake";
  certified_ = true;
  Certificate cert;
  cert.header = *header_;
  for (const auto& [author, sig] : votes_) cert.votes.emplace_back(author, sig);
  cert.Seal();
  cert.Encode();
  return cert;
}

}  // namespace narwhal
