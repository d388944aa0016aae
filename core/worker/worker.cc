#include "core/worker/worker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

Worker::Worker(const Env& env, const Committee& committee, const Parameters& params,
               AuthorityIndex self, WorkerId id, ByzantineBehavior byzantine)
    : fail_stop_(env, absl::StrCat("worker ", self, ".", id)),
      env_(fail_stop_.env()),
      committee_(committee),
      params_(params),
      self_(self),
      id_(id),
      byzantine_(byzantine),
      messenger_(env_, MessengerOptions{params.retry, params.max_pending_requests_per_peer}),
      quorum_waiter_(&committee, self, [this](PendingBatch b) { OnQuorum(std::move(b)); }),
      synchronizer_(env_, &committee, &params, self, id, &messenger_,
                    [this](const Digest& d, std::string batch) {
                      auto stored = StoreForeignBatch(d, batch);
                      StoreFailed("storing a fetched batch", stored.status());
                    }) {
  CHECK(env.store != nullptr);
  messenger_.SetRequestHandler(
      [this](const Endpoint& from, const wire::Request& r, Messenger::Responder respond) {
        OnRequest(from, r, std::move(respond));
      });
}

Worker::~Worker() {
  if (batch_timer_armed_) env_.timers->Cancel(batch_timer_);
}

size_t Worker::MaxTransactionsPerBatch() const {
  // A sealed batch holds at most batch_size_bytes plus one transaction; each
  // transaction is at least 1 byte (plus its 4-byte length on the wire).
  return params_.batch_size_bytes + params_.max_transaction_size_bytes + 1;
}

bool Worker::StoreFailed(std::string_view operation, const absl::Status& s) {
  if (s.ok()) return false;
  fail_stop_.Halt(operation, s);
  return true;
}

absl::StatusOr<uint64_t> Worker::SubmitTransaction(std::string_view tx) {
  if (fail_stop_.halted()) return absl::UnavailableError(fail_stop_.status().message());
  if (tx.empty()) {
    ++stats_.transactions_refused;
    return absl::InvalidArgumentError("transaction is empty");
  }
  if (tx.size() > params_.max_transaction_size_bytes) {
    ++stats_.transactions_refused;
    return absl::InvalidArgumentError(absl::StrCat("transaction of ", tx.size(),
                                                   " bytes exceeds max_transaction_size_bytes (",
                                                   params_.max_transaction_size_bytes, ")"));
  }
  if (pending_bytes() + tx.size() > params_.max_pending_bytes) {
    ++stats_.transactions_refused;
    return absl::ResourceExhaustedError(absl::StrCat(
        "worker holds ", pending_bytes(), " bytes not yet at quorum (max_pending_bytes ",
        params_.max_pending_bytes, "); retry later"));
  }
  const bool opens_batch = builder_.count() == 0;
  if (opens_batch) {
    batch_first_seq_ = next_tx_seq_;
    batch_started_us_ = env_.clock->NowUs();
  }
  builder_.Add(tx);
  ++stats_.transactions_accepted_into_batches;
  const uint64_t seq = next_tx_seq_++;
  if (builder_.payload_bytes() >= params_.batch_size_bytes) {
    SealBatch(SealReason::kSize);
  } else if (opens_batch) {
    ArmBatchTimer(batch_started_us_ + MinBatchDelayUs());
  }
  return seq;
}

void Worker::ArmBatchTimer(TimeUs at_us) {
  if (batch_timer_armed_) env_.timers->Cancel(batch_timer_);
  batch_timer_armed_ = true;
  batch_timer_ = env_.timers->Schedule(std::max<TimeUs>(0, at_us - env_.clock->NowUs()), [this] {
    batch_timer_armed_ = false;
    OnBatchTimer();
  });
}

void Worker::OnBatchTimer() {
  if (builder_.count() == 0) return;
  const TimeUs deadline = batch_started_us_ + params_.max_batch_delay_us;
  if (env_.clock->NowUs() >= deadline) return SealBatch(SealReason::kDelay);
  if (MaybeSealEarly()) return;
  // Our previous batch is still being replicated: this one fills up until
  // that one reaches its quorum (OnQuorum) or max_batch_delay passes.
  ArmBatchTimer(deadline);
}

TimeUs Worker::MinBatchDelayUs() const {
  return std::min(params_.min_batch_delay_us, params_.max_batch_delay_us);
}

bool Worker::MaybeSealEarly() {
  if (builder_.count() == 0 || quorum_waiter_.pending() > 0) return false;
  if (env_.clock->NowUs() - batch_started_us_ < MinBatchDelayUs()) return false;
  SealBatch(SealReason::kEarly);
  return true;
}

void Worker::SealBatch(SealReason reason) {
  if (batch_timer_armed_) {
    env_.timers->Cancel(batch_timer_);
    batch_timer_armed_ = false;
  }
  PendingBatch pb;
  pb.tx_count = static_cast<uint32_t>(builder_.count());
  pb.first_tx_seq = batch_first_seq_;
  pb.created_at_us = batch_started_us_;
  pb.batch = builder_.Seal();
  pb.digest = BatchDigest(pb.batch);
  ++stats_.batches_sealed;
  switch (reason) {
    case SealReason::kSize: ++stats_.batches_sealed_by_size; break;
    case SealReason::kDelay: ++stats_.batches_sealed_by_delay; break;
    case SealReason::kEarly: ++stats_.batches_sealed_early; break;
  }

  if (on_sealed_) on_sealed_(SealedBatch{pb.digest, pb.first_tx_seq, pb.tx_count, pb.created_at_us});
  const uint64_t batch_id = next_batch_id_++;
  wire::Request req;
  // Lent to the request for its one serialization, then taken back.
  req.mutable_worker_batch()->mutable_batch()->swap(pb.batch);
  const PreparedRequest prepared(req);  // serialized once for every peer
  pb.batch.swap(*req.mutable_worker_batch()->mutable_batch());
  req.Clear();
  std::vector<RequestHandle> handles;
  for (AuthorityIndex a = 0; a < committee_.size(); ++a) {
    if (a == self_) continue;
    auto h = messenger_.SendReliable(
        Endpoint::Worker(a, id_), prepared,
        [this, batch_id](const Endpoint& peer, const absl::StatusOr<wire::Response>& r) {
          if (r.ok() && r->success()) quorum_waiter_.OnAck(batch_id, peer.authority);
        });
    if (!h.ok()) {
      // That peer is far behind; the others can still make the quorum.
      uint64_t held = 0;
      if (send_warnings_.Allow(a, env_.clock->NowUs(), &held)) {
        LOG(WARNING) << "batch " << pb.digest.Short() << " not sent to authority " << a << ": " << h.status()
                     << " (" << held << " more batches not sent to it in the last 10 s)";
      }
      continue;
    }
    handles.push_back(std::move(*h));
  }
  quorum_waiter_.Track(batch_id, std::move(pb), std::move(handles));
}

void Worker::OnQuorum(PendingBatch batch) {
  // Processor: store, report to our primary, then promise the client.
  ++stats_.batches_quorum;
  // A quorum holds it but we could not store it: the client is never told
  // "accepted" (that waits for our primary's ACK of the report below).
  if (StoreFailed(absl::StrCat("storing own batch ", batch.digest.Short()), PutBatch(batch.digest, batch.batch))) {
    return;
  }
  wire::Request req;
  auto* ours = req.mutable_our_batch();
  ours->set_digest(batch.digest.ToBytes());
  ours->set_worker_id(id_);
  ours->set_created_at_us(batch.created_at_us);
  ours->set_stored_round(cleanup_round_);
  // The client hears "accepted" only once our primary has the digest
  // durably (its ACK): a crash of this worker before then cannot lose a
  // transaction that was promised.
  SealedBatch accepted{batch.digest, batch.first_tx_seq, batch.tx_count, batch.created_at_us};
  unreported_.insert(batch.digest);
  auto h = messenger_.SendReliable(
      Endpoint::Primary(self_), std::move(req),
      [this, accepted](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
        if (!r.ok() || !r->success()) return;
        // From now on our primary keeps it (its own-payload pin).
        unreported_.erase(accepted.digest);
        if (on_accepted_) on_accepted_(accepted);
      });
  if (!h.ok()) {
    LOG(ERROR) << "cannot report batch " << batch.digest.Short() << " to our primary: " << h.status();
  } else {
    h->Detach();
  }
  // The pipeline may be free now: the open batch need not wait for its timer.
  MaybeSealEarly();
}

void Worker::ReportToPrimary(wire::Request request) {
  auto h = messenger_.SendReliable(Endpoint::Primary(self_), std::move(request), nullptr);
  if (!h.ok()) {
    LOG(ERROR) << "cannot report a batch to our primary: " << h.status();
    return;
  }
  h->Detach();  // retried until our primary ACKs it
}

void Worker::OnRequest(const Endpoint& from, const wire::Request& request,
                       Messenger::Responder respond) {
  const bool from_own_primary = from == Endpoint::Primary(self_);
  const bool from_peer_worker = !from.is_primary() && from.worker_id() == id_ && from.authority != self_;
  switch (request.body_case()) {
    case wire::Request::kWorkerBatch:
      if (!from_peer_worker) break;
      return OnWorkerBatch(from, request.worker_batch(), std::move(respond));
    case wire::Request::kBatchRequest:
      if (!from_peer_worker && !from_own_primary) break;
      return OnBatchRequest(from, request.batch_request(), std::move(respond));
    case wire::Request::kSynchronizeBatches:
      if (!from_own_primary) break;
      return OnSynchronize(request.synchronize_batches(), std::move(respond));
    case wire::Request::kCleanup:
      if (!from_own_primary) break;
      return OnCleanup(request.cleanup(), std::move(respond));
    default:
      break;
  }
  LOG(WARNING) << "worker " << id_ << " refused a request of kind " << request.body_case()
               << " from " << from.ToString();
  respond(false, "request kind not served here, or not from an allowed sender", {});
}

absl::StatusOr<bool> Worker::StoreForeignBatch(const Digest& digest, std::string_view batch) {
  auto existing = env_.store->GetBatch(digest);
  if (!existing.ok()) return existing.status();
  synchronizer_.Resolved(digest);
  if (existing->has_value()) return false;
  absl::Status s = PutBatch(digest, batch);
  if (!s.ok()) return s;
  wire::Request req;
  req.mutable_others_batch()->set_digest(digest.ToBytes());
  req.mutable_others_batch()->set_worker_id(id_);
  ReportToPrimary(std::move(req));
  return true;
}

void Worker::OnWorkerBatch(const Endpoint& from, const wire::WorkerBatch& msg,
                           Messenger::Responder respond) {
  auto txs = DecodeBatch(msg.batch(), params_.max_transaction_size_bytes, MaxTransactionsPerBatch());
  if (!txs.ok() || msg.batch().size() > params_.batch_size_bytes + params_.max_transaction_size_bytes + 4 * txs->size() + 4) {
    ++stats_.batches_rejected;
    std::string why = txs.ok() ? "batch larger than batch_size_bytes allows" : std::string(txs.status().message());
    LOG(WARNING) << "rejected a batch from " << from.ToString() << ": " << why;
    respond(false, why, {});
    return;
  }
  const Digest digest = BatchDigest(msg.batch());
  auto stored = StoreForeignBatch(digest, msg.batch());
  if (StoreFailed(absl::StrCat("storing batch ", digest.Short()), stored.status())) {
    respond(false, "store error", {});  // never ACK what is not durable
    return;
  }
  ++(*stored ? stats_.batches_received : stats_.batches_received_duplicate);
  // ACK only now that the batch is durable.
  respond(true, "ACK", {});
}

void Worker::OnBatchRequest(const Endpoint& from, const wire::BatchRequest& msg,
                            Messenger::Responder respond) {
  constexpr int kMaxDigestsPerRequest = 1000;
  if (byzantine_.WithholdBatches(self_, from)) {
    respond(true, "", {});  // claims to serve, serves nothing
    return;
  }
  if (msg.digests_size() > kMaxDigestsPerRequest) {
    respond(false, absl::StrCat("at most ", kMaxDigestsPerRequest, " digests per request"), {});
    return;
  }
  std::vector<std::string> found;
  for (const std::string& raw : msg.digests()) {
    auto d = Digest::FromBytes(raw);
    if (!d.ok()) {
      respond(false, std::string(d.status().message()), {});
      return;
    }
    auto batch = env_.store->GetBatch(*d);
    if (StoreFailed("reading a batch for a peer", batch.status())) {
      respond(false, "store error", {});
      return;
    }
    // A damaged read is the store's DataLoss (ChecksummedStore), and a
    // peer checks what it is served against the digest anyway.
    if (batch->has_value()) found.push_back(std::move(**batch));
  }
  ++stats_.batch_requests_served;
  respond(true, "", std::move(found));
}

void Worker::OnSynchronize(const wire::SynchronizeBatches& msg, Messenger::Responder respond) {
  if (!committee_.Contains(msg.author())) {
    respond(false, "unknown author", {});
    return;
  }
  for (const std::string& raw : msg.digests()) {
    auto d = Digest::FromBytes(raw);
    if (!d.ok()) continue;
    auto have = env_.store->GetBatch(*d);
    if (StoreFailed("reading a batch to synchronize", have.status())) return;
    if (have->has_value() && msg.author() == self_) {
      // Our own batch, proposed again long after it was stored: re-tag it
      // with the current round so that garbage collection keeps it until
      // the new header is settled.
      if (StoreFailed("re-tagging a batch", env_.store->PutBatch(*d, **have, cleanup_round_))) return;
      continue;
    }
    if (have->has_value()) {
      // Our primary may have missed the report (e.g. it restarted): repeat it.
      wire::Request req;
      req.mutable_others_batch()->set_digest(d->ToBytes());
      req.mutable_others_batch()->set_worker_id(id_);
      ReportToPrimary(std::move(req));
      continue;
    }
    if (msg.round() >= cleanup_round_) synchronizer_.Fetch(*d, msg.author(), msg.round());
  }
  respond(true, "ACK", {});
}

void Worker::Retag(const Digest& digest, Round round) {
  auto have = env_.store->GetBatch(digest);
  if (StoreFailed("reading a batch to re-tag", have.status())) return;
  if (!have->has_value()) return;  // pruned already, or never stored
  StoreFailed("re-tagging a batch", env_.store->PutBatch(digest, **have, round));
}

absl::Status Worker::PutBatch(const Digest& digest, std::string_view batch) {
  absl::Status s = env_.store->PutBatch(digest, batch, cleanup_round_);
  if (s.ok() && !cleanup_known_) untagged_.push_back(digest);
  return s;
}

void Worker::OnCleanup(const wire::Cleanup& msg, Messenger::Responder respond) {
  if (!cleanup_known_ && msg.round() > 0) {
    // Until this worker (re)started and heard its primary, it tagged batches
    // with round 0; the first bound it gets could delete them all, including
    // batches a committed sub-DAG needs (a whole-committee restart lost
    // every copy that way, scenarios/whole_committee_restart.json). They
    // get the current round, as if stored now.
    cleanup_known_ = true;
    for (const Digest& d : untagged_) Retag(d, msg.round());
    untagged_.clear();
    if (fail_stop_.halted()) return;
  }
  if (msg.round() > cleanup_round_) {
    cleanup_round_ = msg.round();
    // Our own batches whose report our primary has not acknowledged yet
    // (it was down, or is just back and has not heard of them) are not
    // covered by its bound: the bound was computed without them. They get
    // the current round, so this prune cannot take them (found by
    // scenarios/split_crashes.json, seed 9: a primary restarted alone sent
    // its first bound before the worker's retried reports arrived, and
    // accepted batches were deleted).
    for (const Digest& d : unreported_) Retag(d, cleanup_round_);
    if (fail_stop_.halted()) return;
    synchronizer_.Cleanup(cleanup_round_);
    // The primary says how far: 2 * gc_depth behind the cleanup round, and
    // never past a batch its executor has not copied yet
    // (Primary::PruneBatchesBelow).
    const Round prune_below = std::min<Round>(msg.prune_batches_below(), cleanup_round_);
    if (StoreFailed("pruning batches", env_.store->PruneBatchesBelow(prune_below))) return;
  }
  respond(true, "ACK", {});
}

}  // namespace narwhal
