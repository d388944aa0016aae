// Primary, proposer: the Bullshark round-advance rule, header creation and
// re-proposal of batches from orphaned own certificates.
#include "core/primary/primary.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {
// ---------------------------------------------------------------- proposer

void Primary::OnRoundQuorum(Round round) {
  if (round + 1 <= proposer_round_ && proposed_round_ < proposer_round_) {
    TryPropose();
    return;
  }
  if (round + 1 <= proposer_round_) return;
  proposer_round_ = round + 1;
  round_reached_us_ = env_.clock->NowUs();
  leader_timer_fired_ = false;
  env_.timers->Cancel(leader_timer_);
  const Round target = proposer_round_;
  leader_timer_ = env_.timers->Schedule(params_.leader_timeout_us, [this, target] {
    if (proposer_round_ != target || proposed_round_ >= target) return;
    leader_timer_fired_ = true;
    if (!LeaderReady(target - 1)) ++stats_.leader_timeouts;
    TryPropose();
  });
  TryPropose();
}

bool Primary::LeaderReady(Round parents_round) const {
  if (params_.protocol != ConsensusKind::kBullshark || parents_round == 0) return true;
  const uint64_t stake_needed_yes = committee_.ValidityThreshold();
  const uint64_t stake_needed_no = committee_.QuorumThreshold();
  auto round_it = dag_.find(parents_round);
  if (parents_round % 2 == 0) {
    // Leader round: wait for the leader's certificate.
    return round_it != dag_.end() && round_it->second.contains(committee_.Leader(parents_round));
  }
  // Round after a leader round: f+1 votes for the leader, or 2f+1 not.
  auto leader_round = dag_.find(parents_round - 1);
  if (leader_round == dag_.end()) return true;  // below GC: nothing to wait for
  auto leader = leader_round->second.find(committee_.Leader(parents_round - 1));
  if (round_it == dag_.end()) return false;
  uint64_t yes = 0, no = 0;
  for (const auto& [author, cert] : round_it->second) {
    const bool votes = leader != leader_round->second.end() &&
                       std::binary_search(cert->parents().begin(), cert->parents().end(),
                                          leader->second->digest);
    (votes ? yes : no) += committee_.Stake(author);
  }
  return yes >= stake_needed_yes || no >= stake_needed_no;
}

void Primary::TryPropose() {
  const Round r = proposer_round_;
  if (proposed_round_ >= r) return;
  if (StakeOf(r - 1) < committee_.QuorumThreshold()) return;
  if (payload_queue_.size() < params_.header_size && !header_delay_passed_) return;
  if (!leader_timer_fired_ && !LeaderReady(r - 1)) return;
  Propose();
}

void Primary::Propose() {
  const Round r = proposer_round_;
  // Never two headers of ours for one round (equivocation), and only on a
  // quorum of round r - 1 (TryPropose's rule).
  CHECK_GT(r, proposed_round_) << "a second own header for round " << r;
  CHECK_GE(StakeOf(r - 1), committee_.QuorumThreshold()) << "proposing round " << r << " without a quorum below";
  if (own_.header()) uncertified_headers_ = own_.certified() ? 0 : uncertified_headers_ + 1;
  WarnIfStuck();
  // Our previous header never got its certificate (we move on without it):
  // its batches go back to the front of the queue so they are not lost.
  if (own_.header() && !own_.certified()) {
    for (auto it = own_.header()->payload.rbegin(); it != own_.header()->payload.rend(); ++it) {
      payload_queue_.PushFront(*it);
    }
  }
  // Our certificate of round r-2 that no certificate of round r-1 we hold
  // refers to is probably orphaned (it reached the others after they moved
  // on): propose its batches again now rather than after garbage
  // collection. If the old certificate is committed after all, execution
  // skips the second copy (FillBatches).
  RequeueUnreachableOwnBatches(r - 1);
  Header h;
  h.author = self_;
  h.round = r;
  for (const auto& [author, cert] : dag_.at(r - 1)) h.parents.push_back(cert->digest);
  std::sort(h.parents.begin(), h.parents.end());
  absl::btree_map<WorkerId, wire::Request> retag;
  for (const auto& [ref, queued_at_gc] : payload_queue_.Take(limits::kHeaderPayloadDigestsMax)) {
    h.payload.push_back(ref);
    if (queued_at_gc.has_value() && gc_round_ > *queued_at_gc + params_.gc_depth / 2) {
      auto* sync = retag[ref.worker_id].mutable_synchronize_batches();
      sync->add_digests(ref.digest.ToBytes());
      sync->set_author(self_);
      sync->set_round(r);
    }
  }
  for (auto& [worker, req] : retag) {
    auto handle = messenger_.SendReliable(Endpoint::Worker(self_, worker), std::move(req), nullptr);
    if (handle.ok()) handle->Detach();
  }
  h.Seal();
  h.signature = key_.Sign(SigningBytes(h.digest));
  byzantine_.OnOwnHeaderSigned(&h);
  // Durable before anyone sees it: after a restart we re-send this header,
  // never a different one for the same round.
  if (StoreFailed(absl::StrCat("storing own header of round ", r),
                  env_.store->PutOwnHeader(r, h.ToWire().SerializeAsString()))) {
    return;
  }
  proposed_round_ = r;
  own_.Start(h);
  ++stats_.headers_proposed;
  std::vector<AuthorityIndex> to;
  for (AuthorityIndex a = 0; a < committee_.size(); ++a) if (a != self_) to.push_back(a);
  std::vector<byzantine::HeaderSend> sends = {{h, std::move(to)}};
  byzantine_.PlanOwnHeaderBroadcast(ByzantineContext(), &sends);
  bool only_h = true;
  for (const byzantine::HeaderSend& send : sends) {
    BroadcastOwnHeader(send.header, send.to);
    only_h = only_h && send.header.digest == h.digest;
  }
  // Not for a header that equivocates: it would go to those who got its twin.
  if (only_h) ArmHeaderResend(r);
  byzantine_.AfterOwnHeaderBroadcast(ByzantineContext(), h);
  header_delay_passed_ = false;
  env_.timers->Cancel(header_timer_);
  header_timer_ = env_.timers->Schedule(params_.max_header_delay_us, [this] {
    header_delay_passed_ = true;
    TryPropose();
  });
  // A committee of one certifies alone.
  if (std::optional<Certificate> cert = own_.CertifyAlone(); cert.has_value()) {
    own_uncommitted_[h.round] = h.payload;
    ++stats_.certificates_formed;
    ProcessCertificate(std::make_shared<const Certificate>(*std::move(cert)), self_);
  }
}

void Primary::RequeueUnreachableOwnBatches(Round top) {
  if (own_uncommitted_.empty() || own_uncommitted_.begin()->first >= top) return;
  // Walk parents down from everything we hold of round `top`; our
  // certificates below `top` that the walk does not reach are (as far as we
  // can see) orphaned. Sets are for membership only (no ordered iteration
  // decides anything), so hash sets keep this cheap in large committees.
  const Round lowest = own_uncommitted_.begin()->first;
  absl::flat_hash_set<Digest> frontier;
  auto top_round = dag_.find(top);
  if (top_round == dag_.end()) return;
  for (const auto& [author, cert] : top_round->second) frontier.insert(cert->digest);
  absl::flat_hash_set<Digest> reached_own;
  for (Round round = top; round > lowest && !frontier.empty(); --round) {
    absl::flat_hash_set<Digest> next;
    for (const Digest& d : frontier) {
      const Certificate* held = dag_.Find(d);
      if (held == nullptr) continue;
      for (const Digest& p : held->parents()) next.insert(p);
    }
    auto below = dag_.find(round - 1);
    if (below != dag_.end()) {
      if (auto mine = below->second.find(self_); mine != below->second.end() && next.contains(mine->second->digest)) {
        reached_own.insert(mine->second->digest);
      }
    }
    frontier = std::move(next);
  }
  for (auto mine = own_uncommitted_.begin(); mine != own_uncommitted_.end() && mine->first < top;) {
    auto round_it = dag_.find(mine->first);
    const bool known = round_it != dag_.end() && round_it->second.contains(self_);
    if (!known || reached_own.contains(round_it->second.at(self_)->digest)) {
      ++mine;  // reachable, or garbage-collected (the GC rule handles it)
      continue;
    }
    for (auto b = mine->second.rbegin(); b != mine->second.rend(); ++b) {
      payload_queue_.PushFront(*b);
    }
    ++stats_.batches_reproposed;
    mine = own_uncommitted_.erase(mine);
  }
}

void Primary::WarnIfStuck() {
  const TimeUs now = env_.clock->NowUs();
  uint64_t held = 0;
  // Five headers in a row without a quorum of votes: peers do not vote for
  // them (most often: they cannot fetch a batch the headers name).
  if (uncertified_headers_ >= 5 && own_.header() && warnings_.Allow(1, now, &held)) {
    std::string voters;
    for (const auto& [author, sig] : own_.votes()) absl::StrAppend(&voters, voters.empty() ? "" : ",", author);
    LOG(WARNING) << "primary " << self_ << ": its last " << uncertified_headers_
                 << " headers got no quorum of votes (round " << own_.header()->round << ": votes from {" << voters
                 << "} of " << committee_.size() << ")"
                 << (own_.header()->payload.empty()
                         ? std::string()
                         : absl::StrCat("; it names ", own_.header()->payload.size(), " batch(es), e.g. ",
                                        own_.header()->payload.front().digest.Short(), " of worker ",
                                        own_.header()->payload.front().worker_id,
                                        ", which peers without it must fetch before voting"))
                 << " [" << held << " similar warnings held back]";
  }
  // Our certificates not committed for gc_depth rounds while others' are:
  // the committee runs without us.
  const Round committed = consensus_->last_committed_round();
  if (last_own_committed_round_ > 0 && committed > last_own_committed_round_ + params_.gc_depth &&
      !own_pending_tags_.empty() && warnings_.Allow(2, now, &held)) {
    LOG(WARNING) << "primary " << self_ << ": none of its certificates committed since round "
                 << last_own_committed_round_ << " (the committee is at round " << committed << "); "
                 << own_pending_tags_.size() << " own batch(es) accepted and waiting, e.g. "
                 << own_pending_tags_.begin()->first.digest.Short() << " [" << held
                 << " similar warnings held back]";
  }
}

void Primary::ForgetOwnPayload(const std::vector<BatchRef>& committed) {
  const TimeUs now = env_.clock->NowUs();
  while (!own_committed_order_.empty() && own_committed_order_.front().first + kOwnCommittedMemoryUs < now) {
    own_committed_recently_.erase(own_committed_order_.front().second);
    own_committed_order_.pop_front();
  }
  for (const BatchRef& b : committed) {
    if (own_committed_recently_.insert(b).second) own_committed_order_.emplace_back(now, b);
    own_pending_tags_.erase(b);
    if (StoreFailed("removing committed own payload", env_.store->RemoveOwnPayload(b.digest, b.worker_id))) return;
  }
}

void Primary::ArmHeaderResend(Round round) {
  // A peer that ACKed our header and then lost it (it crashed, or halted on
  // a store error, while the header waited for parents or payload) never
  // votes for it, and an ACKed header is not sent again: with f others
  // faulty the round would stall for good. So once the longest retry
  // interval passes without a certificate, the header goes again to those
  // who have not voted (the same header: a voter that has it votes the same
  // way again, at most). Found by the storage-fault swarm (seed 80).
  env_.timers->Cancel(header_resend_timer_);
  header_resend_timer_ = env_.timers->Schedule(params_.retry.max_interval_us, [this, round] {
    if (!own_.header() || own_.certified() || own_.header()->round != round || round <= gc_round_) return;
    std::vector<AuthorityIndex> to;
    for (AuthorityIndex a = 0; a < committee_.size(); ++a) {
      if (a != self_ && !own_.votes().contains(a)) to.push_back(a);
    }
    BroadcastOwnHeader(*own_.header(), to);
    ArmHeaderResend(round);
  });
}

void Primary::BroadcastOwnHeader(const Header& header, const std::vector<AuthorityIndex>& to) {
  wire::Request req;
  req.set_header(header.ToWire().SerializeAsString());
  const PreparedRequest prepared(req);
  for (AuthorityIndex a : to) {
    auto handle = messenger_.SendReliable(Endpoint::Primary(a), prepared, nullptr);
    if (handle.ok()) sends_by_round_[header.round].push_back(std::move(*handle));
  }
}

byzantine::PrimaryContext Primary::ByzantineContext() {
  return {committee_, params_, self_, key_, messenger_, *env_.store, dag_.rounds()};
}

}  // namespace narwhal
