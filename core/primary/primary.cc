#include "core/consensus/make_consensus.h"
#include "core/primary/primary.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/wire_format.h"
#include "glog/logging.h"

namespace narwhal {
namespace {

// The wire form of a committed sub-DAG, with each certificate's stored bytes
// copied in rather than rebuilt field by field (every node writes every
// sub-DAG, and in the simulator n nodes share one thread). Fields go in
// number order as protobuf writes them, so the bytes are the same as
// serializing the whole message.
std::string EncodeCommittedSubDag(const CommittedSubDag& sub) {
  wire::CommittedSubDag head;
  head.set_index(sub.index);
  head.set_leader(sub.leader->digest.ToBytes());
  std::string out = head.SerializeAsString();
  for (const CertificatePtr& c : sub.certificates) {
    std::string serialized;
    const std::string& bytes = c->encoded ? *c->encoded : (serialized = c->Serialize());
    out.push_back(0x1a);  // CommittedSubDag.certificates (3), length-delimited
    AppendVarint(out, bytes.size());
    out.append(bytes);
  }
  wire::CommittedSubDag tail;
  for (const BatchRef& b : sub.batches) {
    auto* r = tail.add_batches();
    r->set_digest(b.digest.ToBytes());
    r->set_worker_id(b.worker_id);
  }
  tail.AppendToString(&out);
  return out;
}

}  // namespace

Primary::Primary(const Env& env, const Committee& committee, const Parameters& params,
                 AuthorityIndex self, const KeyPair& key, SignatureScheme scheme,
                 PrimaryHooks hooks, ByzantineBehavior byzantine,
                 ConsensusOptions consensus_options)
    : fail_stop_(env, absl::StrCat("primary ", self)),
      env_(fail_stop_.env()),
      committee_(committee),
      params_(params),
      self_(self),
      key_(key),
      scheme_(scheme),
      hooks_(std::move(hooks)),
      byzantine_(byzantine),
      messenger_(env_, MessengerOptions{params.retry, params.max_pending_requests_per_peer}),
      fetcher_(env_, &committee, &params, self, &messenger_,
               [this](const Endpoint& from, const std::string& bytes) {
                 OnCertificate(from, bytes);
               }),
      dag_(&committee),
      own_(&committee, scheme, self),
      waiting_(limits::kWaitingPerAuthorityMax * committee.size()),
      executed_(4 * params.gc_depth) {
  CHECK(env.store != nullptr);
  CHECK(committee.Contains(self));
  consensus_options.gc_depth = params.gc_depth;
  consensus_ = MakeConsensus(params.protocol, committee, consensus_options);
  executor_ = std::make_unique<Executor>(env_, committee, params, self, &messenger_);
  executor_->SetFailStop(&fail_stop_);
  if (hooks_.on_executed) executor_->SetOnExecuted(hooks_.on_executed);
  if (hooks_.local_batch_read) executor_->SetLocalRead(hooks_.local_batch_read);
  for (const Certificate& g : Certificate::GenesisSet(committee)) {
    dag_.Insert(std::make_shared<const Certificate>(g));
  }
  messenger_.SetRequestHandler(
      [this](const Endpoint& from, const wire::Request& r, Messenger::Responder respond) {
        OnRequest(from, r, std::move(respond));
      });
  // Headers and certificates skip the request parse: their bytes go from the
  // frame to the wire cache (OnRequest takes them too, if a frame is unusual).
  messenger_.SetRawHandler(wire::Request::kHeaderFieldNumber,
                           [this](const Endpoint& from, std::string_view bytes,
                                  Messenger::Responder respond) {
                             OnDagBytes(from, wire::Request::kHeader, bytes, std::move(respond));
                           });
  messenger_.SetRawHandler(wire::Request::kCertificateFieldNumber,
                           [this](const Endpoint& from, std::string_view bytes,
                                  Messenger::Responder respond) {
                             OnDagBytes(from, wire::Request::kCertificate, bytes, std::move(respond));
                           });
}

Primary::~Primary() {
  env_.timers->Cancel(header_timer_);
  env_.timers->Cancel(leader_timer_);
  env_.timers->Cancel(catch_up_timer_);
  env_.timers->Cancel(payload_resync_timer_);
}

absl::Status Primary::Start() {
  absl::Status s = Recover();
  if (!s.ok()) {
    fail_stop_.Halt("recovery", s);
    return fail_stop_.status();
  }
  header_timer_ = env_.timers->Schedule(params_.max_header_delay_us, [this] {
    header_delay_passed_ = true;
    TryPropose();
  });
  // Resume the proposer from the highest round with a quorum.
  for (auto it = dag_.rbegin(); it != dag_.rend(); ++it) {
    if (StakeOf(it->first) >= committee_.QuorumThreshold()) {
      OnRoundQuorum(it->first);
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status Primary::Recover() {
  if (absl::Status s = RecoverExecuted(); !s.ok()) return s;
  if (absl::Status s = RecoverExecutor(); !s.ok()) return s;
  auto state = env_.store->GetConsensusState();
  if (!state.ok()) return state.status();
  auto rows = env_.store->CertificatesInRounds(1, ~Round{0});
  if (!rows.ok()) return rows.status();
  std::vector<CertificatePtr> certs;
  for (const std::string& bytes : *rows) {
    auto c = WireCache<Certificate>::Get(bytes, &Certificate::Parse);
    if (!c.ok()) return absl::DataLossError(absl::StrCat("stored certificate: ", c.status().message()));
    certs.push_back((*c)->value);
  }
  if (state->has_value()) {
    absl::Status s = consensus_->Restore(**state, certs);
    if (!s.ok()) return s;
    gc_round_ = consensus_->gc_round();
  } else {
    for (const auto& c : certs) (void)consensus_->ProcessCertificate(c);  // nothing was committed
  }
  for (const auto& c : certs) {
    if (c->round() <= gc_round_) continue;
    dag_.Insert(c);
  }
  auto last = env_.store->LastOwnHeaderRound();
  if (!last.ok()) return last.status();
  if (*last > 0) {
    auto bytes = env_.store->GetOwnHeader(*last);
    if (!bytes.ok()) return bytes.status();
    wire::Header w;
    if (!bytes->has_value() || !w.ParseFromString(**bytes)) {
      return absl::DataLossError(absl::StrCat("own header of round ", *last, " unreadable"));
    }
    auto h = Header::FromWire(w);
    if (!h.ok()) return h.status();
    proposed_round_ = *last;
    proposer_round_ = std::max<Round>(proposer_round_, *last);
    own_.Start(*h);
    // One certificate per author and round: if ours is in the DAG, it is this header's.
    if (dag_.HasAuthorAt(*last, self_)) own_.MarkCertified();
    if (!own_.certified()) {
      std::vector<AuthorityIndex> all;
      for (AuthorityIndex a = 0; a < committee_.size(); ++a) if (a != self_) all.push_back(a);
      BroadcastOwnHeader(*h, all);  // the same header again: never a second one
      ArmHeaderResend(*last);
    }
  }
  // Own batches not yet committed (the own_payload table) go back in the
  // queue, except those still in flight: in the re-sent header, or in one of
  // our certificates above the GC round (committed later, or re-queued when
  // the GC round passes it).
  auto own_payload = env_.store->ListOwnPayload();
  if (!own_payload.ok()) return own_payload.status();
  absl::btree_set<BatchRef> pending;
  for (const OwnPayloadRow& row : *own_payload) {
    pending.insert({row.digest, row.worker});
    own_pending_tags_.emplace(BatchRef{row.digest, row.worker}, 0);  // tag unknown after a restart
  }
  absl::btree_set<BatchRef> in_flight;
  if (own_.header() && !own_.certified()) in_flight.insert(own_.header()->payload.begin(), own_.header()->payload.end());
  for (const auto& [round, authors] : dag_) {
    auto mine = authors.find(self_);
    if (round == 0 || mine == authors.end()) continue;
    std::vector<BatchRef> still;
    for (const BatchRef& b : mine->second->header.payload) {
      if (pending.contains(b)) still.push_back(b);
    }
    if (still.empty()) continue;
    in_flight.insert(still.begin(), still.end());
    own_uncommitted_[round] = std::move(still);
  }
  for (const OwnPayloadRow& row : *own_payload) {
    const BatchRef ref{row.digest, row.worker};
    if (in_flight.contains(ref)) continue;
    payload_queue_.PushBack(ref, 0);  // age unknown after a restart: re-tag when proposed
  }
  if (*last > 0) {
    LOG(INFO) << "primary " << self_ << " recovered: last own header round " << *last
              << ", " << dag_.size() << " certificates, last committed round "
              << consensus_->last_committed_round();
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- routing

void Primary::OnRequest(const Endpoint& from, const wire::Request& request,
                        Messenger::Responder respond) {
  const bool from_primary = from.is_primary() && from.authority != self_ &&
                            committee_.Contains(from.authority);
  const bool from_own_worker = !from.is_primary() && from.authority == self_ &&
                               from.worker_id() < committee_.workers_per_authority();
  switch (request.body_case()) {
    case wire::Request::kHeader:
      return OnDagBytes(from, request.body_case(), request.header(), std::move(respond));
    case wire::Request::kCertificate:
      return OnDagBytes(from, request.body_case(), request.certificate(), std::move(respond));
    case wire::Request::kVote:
      if (!from_primary) break;
      respond(true, "ACK", {});
      return OnVote(from, request.vote());
    case wire::Request::kCertificatesRequest:
      if (!from_primary) break;
      return OnCertificatesRequest(request.certificates_request(), std::move(respond));
    case wire::Request::kCommittedRequest:
      if (!from_primary) break;
      return OnCommittedRequest(request.committed_request(), std::move(respond));
    case wire::Request::kExecutedBatchesRequest:
      if (!from_primary) break;
      return executor_->OnBatchesRequest(from, request.executed_batches_request(), std::move(respond));
    case wire::Request::kOurBatch:
    case wire::Request::kOthersBatch: {
      if (!from_own_worker) break;
      const bool ours = request.body_case() == wire::Request::kOurBatch;
      const std::string& raw = ours ? request.our_batch().digest() : request.others_batch().digest();
      const WorkerId w = ours ? request.our_batch().worker_id() : request.others_batch().worker_id();
      auto d = Digest::FromBytes(raw);
      if (!d.ok() || w != from.worker_id()) {
        respond(false, "bad batch report", {});
        return;
      }
      absl::Status stored = OnWorkerBatch(from, *d, w, ours, ours ? request.our_batch().created_at_us() : 0,
                                          ours ? request.our_batch().stored_round() : 0);
      if (StoreFailed(absl::StrCat("recording batch ", d->Short()), stored)) {
        // No ACK: the worker retries (after our restart), and its client
        // is not told "accepted".
        respond(false, "store error", {});
        return;
      }
      respond(true, "ACK", {});  // after the store writes
      return;
    }
    default:
      break;
  }
  Reject("unexpected_request", absl::StrCat("kind ", request.body_case(), " from ", from.ToString()));
  respond(false, "request kind not served here, or not from an allowed sender", {});
}

void Primary::OnDagBytes(const Endpoint& from, wire::Request::BodyCase kind, std::string_view bytes,
                         Messenger::Responder respond) {
  const bool from_primary = from.is_primary() && from.authority != self_ &&
                            committee_.Contains(from.authority);
  if (!from_primary) {
    Reject("unexpected_request", absl::StrCat("kind ", kind, " from ", from.ToString()));
    respond(false, "request kind not served here, or not from an allowed sender", {});
    return;
  }
  respond(true, "ACK", {});
  if (kind == wire::Request::kHeader) return OnHeader(from, bytes);
  OnCertificate(from, bytes);
}

bool Primary::StoreFailed(std::string_view operation, const absl::Status& s) {
  if (s.ok()) return false;
  fail_stop_.Halt(operation, s);
  return true;
}

void Primary::Reject(std::string_view reason, const std::string& detail) {
  stats_.rejected[std::string(reason)]++;
  VLOG(1) << "primary " << self_ << " rejected (" << reason << "): " << detail;
}

// ---------------------------------------------------------------- validation

uint64_t Primary::StakeOf(Round round) const { return dag_.StakeAt(round); }

// ---------------------------------------------------------------- headers

void Primary::OnHeader(const Endpoint& from, std::string_view bytes) {
  auto entry = WireCache<Header>::Get(bytes, &Header::Parse);
  if (!entry.ok()) return Reject("malformed_header", std::string(entry.status().message()));
  const Header& h = *(*entry)->value;
  if (h.author != from.authority) {
    return Reject("relayed_header", absl::StrCat("header of ", h.author, " from ", from.ToString()));
  }
  if (h.round <= gc_round_) return Reject("stale_header", absl::StrCat("round ", h.round));
  if (h.round > proposer_round_ + params_.max_round_ahead) {
    return Reject("future_header", absl::StrCat("round ", h.round, " while at ", proposer_round_));
  }
  if (!(*entry)->CheckedBy(check_context())) {
    if (absl::Status s = CheckHeader(h, true); !s.ok()) {
      return Reject(s.code() == absl::StatusCode::kPermissionDenied ? "bad_signature" : "invalid_header",
                    std::string(s.message()));
    }
    (*entry)->MarkChecked(check_context());
  }
  ProcessHeader(h);
}

void Primary::ProcessHeader(const Header& header) {
  if (header.round <= gc_round_) return;
  // The header is copied only if it has to wait.
  WaitingHeader w;
  const absl::Status parents = CheckParents(header, &w.missing_parents);
  for (const BatchRef& b : header.payload) {
    auto has = env_.store->HasPayload(b.digest, b.worker_id);
    if (StoreFailed("reading payload availability", has.status())) return;
    if (!*has) w.missing_payload.insert(b);
  }
  if (!w.missing_parents.empty() || !w.missing_payload.empty()) {
    if (waiting_.HasHeader(header.digest)) return;
    if (waiting_.headers_full()) {
      return Reject("waiting_full", "too many headers waiting for parents or payload");
    }
    w.header = header;
    for (const Digest& p : w.missing_parents) fetcher_.Fetch(p, header.round - 1, header.author);
    RequestPayload(header, w.missing_payload);
    w.payload_requested_us = env_.clock->NowUs();
    const bool needs_batches = !w.missing_payload.empty();
    waiting_.AddHeader(std::move(w));
    if (needs_batches) ArmPayloadResync();
    return;
  }
  // All parents present: they must be round - 1 with a quorum of stake.
  if (!parents.ok()) {
    return Reject("bad_parents", absl::StrCat("header ", header.digest.Short(), ": ", parents.message()));
  }
  TryVote(header);
}

void Primary::TryVote(const Header& header) {
  if (header.author == self_) return;
  if (byzantine_.WithholdVote(header)) return;
  auto prior = env_.store->GetVote(header.author, header.round);
  if (StoreFailed("reading a vote", prior.status())) return;
  if (prior->has_value()) {
    if (**prior != header.digest) {
      return Reject("equivocation", absl::StrCat("authority ", header.author, " sent a second header for round ",
                                                 header.round, "; not voting for it"));
    }
    // The same header again (a retry or a restart): the same vote again.
  } else {
    // Durable before it is sent: after a restart we vote the same way.
    if (StoreFailed("storing a vote", env_.store->PutVote(header.author, header.round, header.digest))) return;
  }
  SendVote(header);
}

void Primary::SendVote(const Header& header) {
  Vote v{header.digest, header.round, header.author, self_, key_.Sign(SigningBytes(header.digest))};
  byzantine_.OnVoteSigned(&v);
  wire::Request req;
  *req.mutable_vote() = v.ToWire();
  auto handle = messenger_.SendReliable(Endpoint::Primary(header.author), std::move(req), nullptr);
  if (!handle.ok()) return;
  sends_by_round_[header.round].push_back(std::move(*handle));
  ++stats_.votes_sent;
}

void Primary::RequestPayload(const Header& header, const absl::btree_set<BatchRef>& missing) {
  absl::btree_map<WorkerId, wire::Request> sync;
  for (const BatchRef& b : missing) {
    auto& req = sync[b.worker_id];
    req.mutable_synchronize_batches()->add_digests(b.digest.ToBytes());
    req.mutable_synchronize_batches()->set_author(header.author);
    req.mutable_synchronize_batches()->set_round(header.round);
  }
  for (auto& [worker, req] : sync) {
    auto handle = messenger_.SendReliable(Endpoint::Worker(self_, worker), std::move(req), nullptr);
    if (handle.ok()) sends_by_round_[header.round].push_back(std::move(*handle));
  }
}

void Primary::ArmPayloadResync() {
  if (payload_resync_armed_) return;
  payload_resync_armed_ = true;
  payload_resync_timer_ = env_.timers->Schedule(params_.retry.max_interval_us, [this] {
    payload_resync_armed_ = false;
    std::vector<WaitingHeader*> waiting = waiting_.WaitingForPayload();
    if (waiting.empty()) return;
    // Only what has waited a whole interval since it was asked for: a
    // batch on its way needs no second request.
    const TimeUs now = env_.clock->NowUs();
    for (WaitingHeader* w : waiting) {
      if (now - w->payload_requested_us < params_.retry.max_interval_us) continue;
      RequestPayload(w->header, w->missing_payload);
      w->payload_requested_us = now;
    }
    ArmPayloadResync();
  });
}

void Primary::WakePayload(const BatchRef& ref) {
  for (Header& h : waiting_.PayloadArrived(ref)) ProcessHeader(std::move(h));
}

absl::Status Primary::OnWorkerBatch(const Endpoint& from, const Digest& digest, WorkerId worker,
                                   bool ours, TimeUs created_at_us, Round stored_round) {
  const BatchRef ref{digest, worker};
  if (ours && own_committed_recently_.contains(ref)) return absl::OkStatus();  // reported again: done already
  if (ours) {
    // Until it is committed, our worker must keep it (PruneBatchesBelow):
    // the lowest tag it was reported with.
    auto [it, inserted] = own_pending_tags_.emplace(ref, stored_round);
    if (!inserted) it->second = std::min(it->second, stored_round);
  }
  if (ours && !payload_queue_.Contains(ref)) {
    // Durable before the worker's ACK (and so before the client hears
    // "accepted"): after a crash the batch is still proposed. Written first
    // so that a failed write is retried whole by the worker.
    if (absl::Status s = env_.store->PutOwnPayload({digest, worker, created_at_us}); !s.ok()) return s;
  }
  auto has = env_.store->HasPayload(digest, worker);
  if (!has.ok()) return has.status();
  if (!*has) {
    if (absl::Status s = env_.store->PutPayload(digest, worker, proposer_round_); !s.ok()) return s;
  }
  if (ours && payload_queue_.PushBack(ref, gc_round_)) {
    if (hooks_.on_own_batch) hooks_.on_own_batch(digest, created_at_us);
  }
  WakePayload(ref);
  if (ours) TryPropose();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- votes

void Primary::OnVote(const Endpoint& from, const wire::Vote& msg) {
  ++stats_.votes_received;
  auto v = Vote::FromWire(msg);
  if (!v.ok()) return Reject("malformed_vote", std::string(v.status().message()));
  if (v->author != from.authority || v->origin != self_) {
    return Reject("misdirected_vote", absl::StrCat("vote by ", v->author, " from ", from.ToString()));
  }
  VoteAggregator::Result added = own_.Add(*v);
  if (added.rejected == "stale_vote") return Reject(added.rejected, absl::StrCat("vote for round ", v->round));
  if (added.rejected == "duplicate_vote") return Reject(added.rejected, absl::StrCat("by ", v->author));
  if (!added.rejected.empty()) return Reject(added.rejected, absl::StrCat("vote by ", v->author));
  if (!added.certificate.has_value()) return;
  Certificate& cert = *added.certificate;
  own_uncommitted_[cert.round()] = cert.header.payload;
  ++stats_.certificates_formed;
  wire::Request req;
  req.set_certificate(*cert.encoded);
  const PreparedRequest prepared(req);
  for (AuthorityIndex a = 0; a < committee_.size(); ++a) {
    if (a == self_) continue;
    auto handle = messenger_.SendReliable(Endpoint::Primary(a), prepared, nullptr);
    if (handle.ok()) sends_by_round_[cert.round()].push_back(std::move(*handle));
  }
  ProcessCertificate(std::make_shared<const Certificate>(std::move(cert)), self_);
}

// ---------------------------------------------------------------- certificates

void Primary::OnCertificate(const Endpoint& from, std::string_view bytes) {
  auto entry = WireCache<Certificate>::Get(bytes, &Certificate::Parse);
  if (!entry.ok()) return Reject("malformed_certificate", std::string(entry.status().message()));
  ProcessCertificate((*entry)->value, from.authority, *entry);
}

void Primary::ProcessCertificate(CertificatePtr cert, AuthorityIndex source,
                                 WireCache<Certificate>::Entry* cache_entry) {
  const Certificate& certificate = *cert;
  if (certificate.round() <= gc_round_) return;
  if (HasCertificate(certificate.digest) || waiting_.HasCertificate(certificate.digest)) return;
  if (cache_entry == nullptr || !cache_entry->CheckedBy(check_context())) {
    if (absl::Status s = CheckCertificate(certificate); !s.ok()) {
      return Reject(s.code() == absl::StatusCode::kPermissionDenied ? "bad_signature" : "invalid_certificate",
                    std::string(s.message()));
    }
    if (cache_entry != nullptr) cache_entry->MarkChecked(check_context());
  }
  MaybeStartCatchUp(certificate.round());
  // One certificate per (author, round): a quorum never certifies two headers
  // of one author and round, so a second one means more than f are faulty.
  if (dag_.HasAuthorAt(certificate.round(), certificate.author())) {
    return Reject("conflicting_certificate", absl::StrCat("second certificate of ", certificate.author(),
                                                          " in round ", certificate.round()));
  }
  const Certificate& c = *cert;
  // Wrong parents are reported by AcceptCertificate (it checks the released
  // waiters too); here only what is missing matters.
  absl::btree_set<Digest> missing_parents;
  (void)CheckParents(c.header, &missing_parents);
  if (!missing_parents.empty()) {
    if (waiting_.certificates_full()) {
      return Reject("waiting_full", "too many certificates waiting for parents");
    }
    for (const Digest& p : missing_parents) fetcher_.Fetch(p, c.round() - 1, source);
    waiting_.AddCertificate(cert, std::move(missing_parents));
    return;
  }
  absl::Status s = AcceptCertificate(cert);
  if (!s.ok() && !fail_stop_.halted()) Reject("bad_parents", std::string(s.message()));
}

absl::Status Primary::AcceptCertificate(const CertificatePtr& cert) {
  // Causal-order worklist: accepting one certificate may release others.
  std::deque<CertificatePtr> ready{cert};
  absl::Status first_error;
  while (!ready.empty()) {
    CertificatePtr c = ready.front();
    ready.pop_front();
    if (HasCertificate(c->digest) || c->round() <= gc_round_) continue;
    if (absl::Status parents = CheckParents(c->header, nullptr); !parents.ok()) {
      if (first_error.ok()) {
        first_error = absl::InvalidArgumentError(
            absl::StrCat("certificate ", c->digest.Short(), ": ", parents.message()));
      }
      continue;
    }
    if (dag_.HasAuthorAt(c->round(), c->author())) continue;  // conflicting: first one wins
    absl::Status s = c->encoded ? env_.store->PutSharedCertificate(c->digest, c->round(), c->author(), c->encoded)
                                : env_.store->PutCertificate(c->digest, c->round(), c->author(), c->Serialize());
    if (StoreFailed("storing a certificate", s)) return fail_stop_.status();
    dag_.Insert(c);
    fetcher_.Resolved(c->digest);
    ++stats_.certificates_accepted;
    if (hooks_.on_certificate_accepted) hooks_.on_certificate_accepted(c);
    OnCommitted(consensus_->ProcessCertificate(c));
    if (fail_stop_.halted()) return fail_stop_.status();
    if (c->round() + 1 >= proposer_round_ && StakeOf(c->round()) >= committee_.QuorumThreshold()) {
      OnRoundQuorum(c->round());
    } else if (c->round() + 1 == proposer_round_) {
      TryPropose();  // a leader or its support may have arrived
    }
    // Release waiters: certificates join the worklist, headers go on now.
    for (WaitingRoom::Released& r : waiting_.ParentArrived(c->digest)) {
      if (r.certificate) ready.push_back(std::move(r.certificate));
      if (r.header) ProcessHeader(*std::move(r.header));
    }
  }
  return first_error;
}

void Primary::OnCertificatesRequest(const wire::CertificatesRequest& msg,
                                    Messenger::Responder respond) {
  if (static_cast<size_t>(msg.digests_size()) > limits::kCertificatesPerRequestMax) {
    respond(false, absl::StrCat("at most ", limits::kCertificatesPerRequestMax, " digests per request"), {});
    return;
  }
  std::vector<std::string> items;
  for (const std::string& raw : msg.digests()) {
    auto d = Digest::FromBytes(raw);
    if (!d.ok()) continue;
    if (const Certificate* held = dag_.Find(*d); held != nullptr) {
      if (held->round() > 0) items.push_back(held->Serialize());
      continue;
    }
    auto stored = env_.store->GetCertificate(*d);
    if (StoreFailed("reading a certificate for a peer", stored.status())) return;
    if (stored->has_value()) items.push_back(std::move(**stored));
  }
  respond(true, "", std::move(items));
}

// ---------------------------------------------------------------- commit and GC

Round Primary::PruneBatchesBelow() const {
  // Workers tag a batch with the cleanup round (gc_round + 1) current when
  // they store it. A certificate carrying a batch is collected (and its
  // batches re-proposed if it was never committed) when the GC round passes
  // it; another 2 * gc_depth rounds leave the re-proposal time to re-tag
  // them. And a batch of a committed sub-DAG stays until our executor has
  // copied it: the floor of the oldest sub-DAG it has not executed.
  const Round cleanup = gc_round_ + 1;
  const Round margin = 2 * params_.gc_depth;
  Round below = cleanup > margin ? cleanup - margin : 0;
  if (std::optional<Round> floor = executor_->PruneFloor(); floor.has_value()) below = std::min(below, *floor);
  // And our own batches stay until they are committed, however long that
  // takes: an authority cut off for longer than 2 * gc_depth rounds of the
  // others proposes them again when it is back, and its peers can fetch
  // them only from our worker (theirs deleted them long ago).
  // scenarios/isolated_longer_than_gc.json.
  for (const auto& [ref, tag] : own_pending_tags_) below = std::min(below, tag);
  return below;
}

void Primary::PruneCommittedRows(uint64_t last_index) {
  // Signed certificate rows serve peers' state sync and our own restart
  // (RecoverExecuted reads 2 * gc_depth + 2 of them, and the executor the
  // ones it has not executed); the executed rows serve clients.
  if (last_index + 1 <= params_.state_sync_retention) return;
  const uint64_t below = std::min<uint64_t>(last_index + 1 - params_.state_sync_retention, executor_->next_index());
  // Every 64 commits: one range delete instead of one per commit.
  if (below == 0 || below % 64 != 0) return;
  StoreFailed(absl::StrCat("pruning committed rows below ", below), env_.store->PruneCommittedBelow(below));
}

absl::Status Primary::RecoverExecutor() {
  if (absl::Status s = executor_->Recover(); !s.ok()) return s;
  // Sub-DAGs committed but not executed before the restart go to the
  // executor again. Their batches' tags are unknown: floor 0 holds the
  // workers' pruning until they are executed.
  uint64_t from = executor_->next_index();
  for (;;) {
    auto rows = env_.store->CommittedFrom(from, 256);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) break;
    for (const CommittedSubDagRow& row : *rows) {
      if (absl::Status s = executor_->OnCommittedRow(row.sub_dag, 0); !s.ok()) return s;
    }
    from = rows->back().index + 1;
  }
  if (executor_->pending_sub_dags() > 0) {
    LOG(INFO) << "primary " << self_ << ": executing " << executor_->pending_sub_dags()
              << " committed sub-DAG(s) again from index " << executor_->next_index();
  }
  return absl::OkStatus();
}

absl::Status Primary::RecoverExecuted() {
  auto next = env_.store->NextCommitIndex();
  if (!next.ok()) return next.status();
  consensus_next_index_ = *next;
  const uint64_t keep = 2 * params_.gc_depth + 2;  // each commit advances >= 2 rounds
  const uint64_t from = *next > keep ? *next - keep : 0;
  auto rows = env_.store->CommittedFrom(from, keep);
  if (!rows.ok()) return rows.status();
  for (const CommittedSubDagRow& row : *rows) {
    wire::CommittedSubDag w;
    if (!w.ParseFromString(row.sub_dag)) {
      return absl::DataLossError(absl::StrCat("committed sub-DAG ", row.index, " unreadable"));
    }
    Round round = 0;
    for (const auto& c : w.certificates()) round = std::max<Round>(round, c.header().round());
    for (const auto& b : w.batches()) {
      auto d = Digest::FromBytes(b.digest());
      if (!d.ok()) return absl::DataLossError("committed sub-DAG: bad batch digest");
      executed_.Remember(*d, round);
    }
  }
  return absl::OkStatus();
}

void Primary::OnCommitted(const std::vector<CommittedSubDag>& committed_in) {
  std::vector<CommittedSubDag> committed = committed_in;
  for (CommittedSubDag& sub : committed) {
    executed_.Fill(sub);
    const std::string state = consensus_->SerializeState();
    // Consensus has moved on in memory; if its output is not durable, the
    // memory is what must go (a restart replays from the store).
    if (StoreFailed(absl::StrCat("appending committed sub-DAG ", sub.index),
                    env_.store->AppendCommitted({sub.index, EncodeCommittedSubDag(sub)}, state))) {
      return;
    }
    // Durable, hence committed: reported now, before the housekeeping
    // writes below. If one of those fails the role halts, and its restart
    // goes on from the next index: a commit reported only after them would
    // never be reported at all.
    consensus_next_index_ = sub.index + 1;
    ++stats_.sub_dags_committed;
    stats_.certificates_committed += sub.certificates.size();
    if (hooks_.on_commit) hooks_.on_commit(sub);
    PruneCommittedRows(sub.index);
    if (fail_stop_.halted()) return;
    for (const CertificatePtr& c : sub.certificates) {
      if (c->author() != self_) continue;
      last_own_committed_round_ = std::max(last_own_committed_round_, c->round());
      ForgetOwnPayload(c->header.payload);
      own_uncommitted_.erase(c->round());
    }
    if (fail_stop_.halted()) return;
    // After the commit is durable and reported: the executor may append its
    // row at once (every batch read locally).
    executor_->OnCommitted(sub, prune_batches_sent_);
    if (fail_stop_.halted()) return;
  }
  if (!committed.empty() && consensus_->gc_round() > gc_round_) GarbageCollect(consensus_->gc_round());
}

void Primary::GarbageCollect(Round new_gc_round) {
  gc_round_ = new_gc_round;
  // Our certificates at or below the GC round that were not committed never
  // will be (every honest node has the same GC round at the same consensus
  // index): their batches go back to the front of the queue. Re-proposing
  // earlier could commit a batch twice.
  for (auto it = own_uncommitted_.begin(); it != own_uncommitted_.end() && it->first <= gc_round_;) {
    for (auto b = it->second.rbegin(); b != it->second.rend(); ++b) {
      payload_queue_.PushFront(*b);
      payload_queue_.MarkOld(*b);  // re-tag before proposing
    }
    ++stats_.batches_reproposed;
    it = own_uncommitted_.erase(it);
  }
  dag_.Prune(gc_round_);
  // Dropping the handles stops retrying messages nobody needs any more.
  sends_by_round_.erase(sends_by_round_.begin(), sends_by_round_.upper_bound(gc_round_));
  fetcher_.Cleanup(gc_round_);
  for (const WaitingHeader& w : waiting_.DropUpTo(gc_round_)) {
    uint64_t held = 0;
    if (!w.missing_payload.empty() && warnings_.Allow(3, env_.clock->NowUs(), &held)) {
      // It waited until garbage collection for batches nobody served: we
      // never voted for it.
      LOG(WARNING) << "primary " << self_ << ": dropped the header of authority " << w.header.author
                   << " round " << w.header.round << " after waiting for " << w.missing_payload.size()
                   << " batch(es) it names, e.g. " << w.missing_payload.begin()->digest.Short() << " of worker "
                   << w.missing_payload.begin()->worker_id << ", that no worker served [" << held
                   << " similar warnings held back]";
    }
  }
  if (StoreFailed("pruning rounds", env_.store->PruneRoundsBelow(gc_round_ + 1))) return;
  if (gc_round_ >= cleanup_sent_round_ + 1) {
    cleanup_sent_round_ = gc_round_;
    prune_batches_sent_ = std::max(prune_batches_sent_, PruneBatchesBelow());
    wire::Request req;
    req.mutable_cleanup()->set_round(gc_round_ + 1);
    req.mutable_cleanup()->set_prune_batches_below(prune_batches_sent_);
    for (WorkerId w = 0; w < committee_.workers_per_authority(); ++w) {
      auto handle = messenger_.SendReliable(Endpoint::Worker(self_, w), req, nullptr);
      if (handle.ok()) handle->Detach();
    }
  }
}

}  // namespace narwhal
namespace narwhal {

namespace {

std::string FirstWaiting(const WaitingHeader* w) {
  if (w == nullptr) return "";
  return absl::StrCat(" first_waiting{author ", w->header.author, " round ", w->header.round, " missing_parents ",
                      w->missing_parents.size(), " missing_payload ", w->missing_payload.size(),
                      w->missing_payload.empty() ? std::string()
                                                 : absl::StrCat(" e.g. ", w->missing_payload.begin()->digest.Short()),
                      "}");
}

}  // namespace

std::string Primary::DebugString() const {
  std::string rejected;
  for (const auto& [reason, n] : stats_.rejected) absl::StrAppend(&rejected, reason, "=", n, " ");
  return absl::StrCat("authority ", self_, ": round ", proposer_round_, " proposed ", proposed_round_,
                      " committed ", consensus_->last_committed_round(), " gc ", gc_round_, " dag ",
                      dag_.size(), " waiting_headers ", waiting_.headers(),
                      " waiting_certificates ", waiting_.certificates(), " fetching ",
                      fetcher_.pending(), " payload_queue ", payload_queue_.size(), " own_certified ",
                      own_.certified(), " leader_timeouts ", stats_.leader_timeouts, " reproposed ",
                      stats_.batches_reproposed, " rejected {", rejected, "}",
                      FirstWaiting(waiting_.first_header()));
}

}  // namespace narwhal
