#include "core/execution/executor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/batch.h"
#include "core/wire_format.h"
#include "glog/logging.h"

namespace narwhal {
namespace {

// The batches of `executed` (a subsequence of the certificates' payloads in
// order: re-proposed duplicates left out) given to the first certificate
// that carries each.
void AssignBatches(const std::vector<BatchRef>& executed,
                   const std::vector<std::vector<BatchRef>>& payloads,
                   std::vector<std::vector<BatchRef>>& out) {
  size_t next = 0;
  out.assign(payloads.size(), {});
  for (size_t i = 0; i < payloads.size(); ++i) {
    for (const BatchRef& ref : payloads[i]) {
      if (next < executed.size() && executed[next] == ref) {
        out[i].push_back(ref);
        ++next;
      }
    }
  }
  // The primary builds `executed` from these payloads: anything else is a bug.
  CHECK_EQ(next, executed.size()) << "executed batches are not a subsequence of the payloads";
}

// Whether AssignBatches can place every batch of `executed`: a stored row
// is checked with this before it is fed (a corrupt row is DataLoss, not a
// CHECK failure).
bool FollowsPayloads(const std::vector<BatchRef>& executed, const std::vector<CertificatePtr>& certificates) {
  size_t next = 0;
  for (const CertificatePtr& c : certificates) {
    for (const BatchRef& ref : c->header.payload) {
      if (next < executed.size() && executed[next] == ref) ++next;
    }
  }
  return next == executed.size();
}

// Field helpers for EncodeExecutedRow: protobuf's encoding, proto3 rules
// (a zero scalar is left out), in field-number order.
size_t VarintFieldSize(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }
size_t BytesFieldSize(size_t n) { return 1 + VarintSize(n) + n; }
void AppendVarintField(std::string& out, char tag, uint64_t v) {
  if (v == 0) return;
  out.push_back(tag);
  AppendVarint(out, v);
}
void AppendBytesField(std::string& out, char tag, std::string_view bytes) {
  out.push_back(tag);
  AppendVarint(out, bytes.size());
  out.append(bytes);
}

}  // namespace

std::string EncodeExecutedRow(uint64_t index, const Digest& leader, Round leader_round,
                              const std::vector<ExecutedCertificateView>& certificates) {
  // Sizes first, so that every batch is copied once, straight into the row
  // (n nodes x every committed byte in the simulator; 1 MB batches in the
  // node).
  std::vector<size_t> batch_sizes;
  std::vector<size_t> cert_sizes;
  size_t total = VarintFieldSize(index) + BytesFieldSize(Digest::kSize) + VarintFieldSize(leader_round);
  for (const ExecutedCertificateView& c : certificates) {
    size_t cert = BytesFieldSize(Digest::kSize) + VarintFieldSize(c.author) + VarintFieldSize(c.round);
    for (const auto& [ref, bytes] : c.batches) {
      // proto3 leaves an empty bytes field out (a canonical batch is never
      // empty, but the encoding must be protobuf's for any input).
      const size_t batch = BytesFieldSize(Digest::kSize) + VarintFieldSize(ref.worker_id) +
                           (bytes->empty() ? 0 : BytesFieldSize(bytes->size()));
      batch_sizes.push_back(batch);
      cert += BytesFieldSize(batch);
    }
    cert_sizes.push_back(cert);
    total += BytesFieldSize(cert);
  }
  std::string out;
  out.reserve(total);
  AppendVarintField(out, 0x08, index);                 // ExecutedSubDag.index = 1
  AppendBytesField(out, 0x12, leader.ToBytes());       // .leader = 2
  AppendVarintField(out, 0x18, leader_round);          // .leader_round = 3
  size_t b = 0;
  for (size_t i = 0; i < certificates.size(); ++i) {
    const ExecutedCertificateView& c = certificates[i];
    out.push_back(0x22);                                // .certificates = 4
    AppendVarint(out, cert_sizes[i]);
    AppendBytesField(out, 0x0a, c.digest.ToBytes());   // ExecutedCertificate.digest = 1
    AppendVarintField(out, 0x10, c.author);            // .author = 2
    AppendVarintField(out, 0x18, c.round);             // .round = 3
    for (const auto& [ref, bytes] : c.batches) {
      out.push_back(0x22);                              // .batches = 4
      AppendVarint(out, batch_sizes[b++]);
      AppendBytesField(out, 0x0a, ref.digest.ToBytes());  // ExecutedBatch.digest = 1
      AppendVarintField(out, 0x10, ref.worker_id);        // .worker_id = 2
      if (!bytes->empty()) AppendBytesField(out, 0x1a, *bytes);  // .batch = 3
    }
  }
  CHECK_EQ(out.size(), total) << "executed row size";
  return out;
}

Executor::Executor(const Env& env, const Committee& committee, const Parameters& params,
                   AuthorityIndex self, Messenger* messenger, ExecutorOptions options)
    : env_(env),
      committee_(committee),
      params_(params),
      self_(self),
      messenger_(messenger),
      options_(options) {
  CHECK(env_.store != nullptr);
  CHECK(messenger_ != nullptr);
  own_fail_stop_ = std::make_unique<FailStop>(env_, absl::StrCat("executor of ", self));
  fail_stop_ = own_fail_stop_.get();
  CHECK_GE(options_.window_sub_dags, 1u);
  CHECK_GE(options_.digests_per_request_max, 1u);
}

Executor::~Executor() {
  *alive_ = false;
  if (tick_armed_) env_.timers->Cancel(tick_timer_);
}

absl::Status Executor::Recover() {
  auto next = env_.store->NextExecutedIndex();
  if (!next.ok()) return next.status();
  auto sizes = env_.store->ExecutedSizes();
  if (!sizes.ok()) return sizes.status();
  next_index_ = *next;
  queued_next_ = *next;
  have_any_ = *next > 0 || !sizes->empty();
  sizes_.assign(sizes->begin(), sizes->end());
  kept_bytes_ = 0;
  for (const auto& [index, size] : sizes_) kept_bytes_ += size;
  // Rows are appended in order with no gap: the sizes prove what is kept.
  CHECK(sizes_.empty() || sizes_.back().first + 1 == next_index_)
      << "executed rows end at " << sizes_.back().first << " but the next index is " << next_index_;
  return absl::OkStatus();
}

void Executor::OnCommitted(const CommittedSubDag& sub, Round prune_floor) {
  if (have_any_ && sub.index < queued_next_) return;  // executed before a restart
  Pending p;
  p.index = sub.index;
  p.leader = sub.leader->digest;
  p.leader_round = sub.leader->round();
  p.prune_floor = prune_floor;
  std::vector<std::vector<BatchRef>> payloads;
  for (const CertificatePtr& c : sub.certificates) {
    p.certificates.push_back(CertInfo{c->digest, c->author(), c->round(), {}});
    payloads.push_back(c->header.payload);
  }
  std::vector<std::vector<BatchRef>> assigned;
  AssignBatches(sub.batches, payloads, assigned);
  for (size_t i = 0; i < assigned.size(); ++i) p.certificates[i].batches = std::move(assigned[i]);
  Enqueue(std::move(p));
}

absl::Status Executor::OnCommittedRow(const std::string& bytes, Round prune_floor) {
  wire::CommittedSubDag row;
  if (!row.ParseFromString(bytes)) return absl::DataLossError("a stored committed sub-DAG does not parse");
  CommittedSubDag sub;
  sub.index = row.index();
  for (const wire::Certificate& w : row.certificates()) {
    auto c = Certificate::FromWire(w);
    if (!c.ok()) return absl::DataLossError(absl::StrCat("stored sub-DAG ", row.index(), ": ", c.status().message()));
    sub.certificates.push_back(std::make_shared<const Certificate>(std::move(*c)));
  }
  if (sub.certificates.empty()) return absl::DataLossError(absl::StrCat("stored sub-DAG ", row.index(), " is empty"));
  sub.leader = sub.certificates.back();  // commit order: the leader is last
  for (const wire::BatchRef& b : row.batches()) {
    auto d = Digest::FromBytes(b.digest());
    if (!d.ok()) return absl::DataLossError(absl::StrCat("stored sub-DAG ", row.index(), ": bad batch digest"));
    sub.batches.push_back({*d, b.worker_id()});
  }
  if (!FollowsPayloads(sub.batches, sub.certificates)) {
    return absl::DataLossError(absl::StrCat("stored sub-DAG ", row.index(),
                                            ": its batches are not from its certificates' payloads, in order"));
  }
  OnCommitted(sub, prune_floor);
  return absl::OkStatus();
}

void Executor::Enqueue(Pending p) {
  if (have_any_) {
    // The primary feeds every index once, in order; a gap would leave a hole
    // in every client's stream.
    CHECK_EQ(p.index, queued_next_) << "executor fed sub-DAG " << p.index << ", expected " << queued_next_;
  } else {
    next_index_ = p.index;  // the first row may start anywhere (state sync)
  }
  have_any_ = true;
  queued_next_ = p.index + 1;
  p.since_us = env_.clock->NowUs();
  for (const CertInfo& c : p.certificates) {
    for (const BatchRef& ref : c.batches) {
      if (p.have.contains(ref)) continue;
      p.missing.insert(ref);
    }
  }
  const uint64_t index = p.index;
  auto [it, inserted] = pending_.emplace(index, std::move(p));
  CHECK(inserted);
  for (const BatchRef& ref : it->second.missing) missing_[ref.digest].insert(index);
  // Only the window ahead is fetched now; the rest when it moves up.
  if (std::distance(pending_.begin(), it) < static_cast<ptrdiff_t>(options_.window_sub_dags)) {
    Attempt(it->second);
  }
  ExecuteReady();
  ArmTick();
}

void Executor::Attempt(Pending& p) {
  if (p.missing.empty()) return;
  p.requested = true;
  // Local reads are cheap and final: try them every time.
  if (local_read_) {
    std::vector<BatchRef> wanted(p.missing.begin(), p.missing.end());
    const uint64_t index = p.index;
    for (const BatchRef& ref : wanted) {
      std::optional<std::string> bytes = local_read_(ref.worker_id, ref.digest);
      if (!bytes.has_value()) continue;
      ++stats_.batches_read_locally;
      Deliver(ref.digest, std::make_shared<const std::string>(std::move(*bytes)));
      if (!pending_.contains(index)) return;  // cannot happen before ExecuteReady, but be safe
    }
    if (p.missing.empty()) return;
  }
  AskOwnWorkers(p);
  if (p.attempts >= options_.peers_from_attempt) AskPeers(p);
  const int shift = static_cast<int>(std::min<uint64_t>(p.attempts, 20));
  p.next_attempt_us = env_.clock->NowUs() + std::min(options_.first_retry_us << shift, params_.sync_retry_delay_us);
  ++p.attempts;
}

void Executor::AskOwnWorkers(Pending& p) {
  // One digest per request: the answer holds the batch or nothing, so it
  // needs no hashing to know which batch it is (our own worker is trusted).
  std::weak_ptr<bool> alive = alive_;
  absl::btree_map<WorkerId, wire::Request> sync;
  for (const BatchRef& ref : p.missing) {
    wire::Request req;
    req.mutable_batch_request()->add_digests(ref.digest.ToBytes());
    const Digest digest = ref.digest;
    ++stats_.requests_sent;
    (void)messenger_->SendUnreliable(
        Endpoint::Worker(self_, ref.worker_id), req,
        [this, alive, digest](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
          if (alive.expired() || !*alive.lock()) return;
          if (!r.ok() || !r->success() || r->items_size() != 1) return;
          ++stats_.batches_from_own_workers;
          Deliver(digest, std::make_shared<const std::string>(r->items(0)));
          ExecuteReady();
        },
        params_.sync_retry_delay_us);
    // Which certificate carries it: the worker's synchronizer asks that
    // author's worker first.
    for (const CertInfo& c : p.certificates) {
      if (std::find(c.batches.begin(), c.batches.end(), ref) == c.batches.end()) continue;
      wire::Request& s = sync[ref.worker_id];
      s.mutable_synchronize_batches()->add_digests(ref.digest.ToBytes());
      s.mutable_synchronize_batches()->set_author(c.author);
      s.mutable_synchronize_batches()->set_round(c.round);
      break;
    }
  }
  for (auto& [worker, req] : sync) {
    (void)messenger_->SendUnreliable(Endpoint::Worker(self_, worker), req, nullptr, params_.sync_retry_delay_us);
  }
}

void Executor::AskPeers(Pending& p) {
  if (committee_.size() < 2) return;
  if (p.peer_requests_in_flight > 0) return;  // the last round is still out
  std::vector<Digest> digests;
  for (const BatchRef& ref : p.missing) digests.push_back(ref.digest);
  std::weak_ptr<bool> alive = alive_;
  for (size_t k = 0; k < options_.peers_per_attempt && k + 1 < committee_.size(); ++k) {
    // Rotation over the other authorities, so that f silent ones cost time,
    // never progress.
    AuthorityIndex peer = static_cast<AuthorityIndex>((self_ + 1 + peer_rotation_++ % (committee_.size() - 1)) %
                                                      committee_.size());
    CHECK_NE(peer, self_);
    for (size_t start = 0; start < digests.size(); start += options_.digests_per_request_max) {
      const size_t end = std::min(digests.size(), start + options_.digests_per_request_max);
      std::vector<Digest> asked(digests.begin() + start, digests.begin() + end);
      wire::Request req;
      req.mutable_executed_batches_request()->set_index(p.index);
      for (const Digest& d : asked) req.mutable_executed_batches_request()->add_digests(d.ToBytes());
      ++stats_.requests_sent;
      const uint64_t index = p.index;
      if (p.peer_timeout_us == 0) p.peer_timeout_us = params_.sync_retry_delay_us;
      absl::Status sent = messenger_->SendUnreliable(
          Endpoint::Primary(peer), req,
          [this, alive, index, asked](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
            if (alive.expired() || !*alive.lock()) return;
            if (auto it = pending_.find(index); it != pending_.end()) {
              Pending& q = it->second;
              --q.peer_requests_in_flight;
              if (!r.ok() && r.status().code() == absl::StatusCode::kDeadlineExceeded) {
                q.peer_timeout_us = std::min(2 * q.peer_timeout_us, 16 * params_.sync_retry_delay_us);
              }
            }
            OnPeerAnswer(index, asked, r);
          },
          p.peer_timeout_us);
      if (sent.ok()) ++p.peer_requests_in_flight;
    }
  }
}

void Executor::OnPeerAnswer(uint64_t index, const std::vector<Digest>& asked,
                            const absl::StatusOr<wire::Response>& response) {
  if (!response.ok() || !response->success()) return;
  const size_t n = std::min<size_t>(asked.size(), response->items_size());
  for (size_t i = 0; i < n; ++i) {
    const std::string& bytes = response->items(i);
    if (bytes.empty() || !missing_.contains(asked[i])) continue;
    // A peer may be Byzantine: only the digest vouches for the bytes.
    if (BatchDigest(bytes) != asked[i]) {
      ++stats_.batches_rejected;
      LOG(WARNING) << "executor: a peer sent bytes that do not match batch " << asked[i].Short()
                   << " of sub-DAG " << index << "; ignored";
      continue;
    }
    ++stats_.batches_from_peers;
    Deliver(asked[i], std::make_shared<const std::string>(bytes));
  }
  ExecuteReady();
}

void Executor::Deliver(const Digest& digest, const Batch& bytes) {
  auto it = missing_.find(digest);
  if (it == missing_.end()) return;
  for (uint64_t index : it->second) {
    auto p = pending_.find(index);
    if (p == pending_.end()) continue;
    for (auto ref = p->second.missing.begin(); ref != p->second.missing.end();) {
      if (ref->digest == digest) {
        p->second.have[*ref] = bytes;
        ref = p->second.missing.erase(ref);
      } else {
        ++ref;
      }
    }
  }
  missing_.erase(it);
}

void Executor::ExecuteReady() {
  if (fail_stop_->halted()) return;
  bool advanced = false;
  while (!pending_.empty() && pending_.begin()->second.missing.empty()) {
    Pending& p = pending_.begin()->second;
    CHECK_EQ(p.index, next_index_);
    // The store-failure policy of the core: a write that did not happen
    // cannot be skipped (a hole in the output) nor retried blindly; stop.
    if (absl::Status s = Append(p); !s.ok()) {
      fail_stop_->Halt(absl::StrCat("appending executed sub-DAG ", p.index), s);
      return;
    }
    pending_.erase(pending_.begin());
    advanced = true;
  }
  if (!advanced) return;
  Prune();
  if (fail_stop_->halted()) return;
  // The window moved: fetch what came into it.
  size_t k = 0;
  for (auto& [index, p] : pending_) {
    if (k++ >= options_.window_sub_dags) break;
    if (!p.requested) Attempt(p);
  }
  // Local reads may have completed more.
  if (!pending_.empty() && pending_.begin()->second.missing.empty()) ExecuteReady();
  ArmTick();
}

absl::Status Executor::Append(Pending& p) {
  std::vector<ExecutedCertificateView> certificates;
  certificates.reserve(p.certificates.size());
  uint64_t batches = 0;
  for (const CertInfo& c : p.certificates) {
    ExecutedCertificateView view{c.digest, c.author, c.round, {}};
    for (const BatchRef& ref : c.batches) {
      auto have = p.have.find(ref);
      CHECK(have != p.have.end()) << "executing sub-DAG " << p.index << " without batch " << ref.digest.Short();
      view.batches.emplace_back(ref, have->second);
      ++batches;
    }
    certificates.push_back(std::move(view));
  }
  auto bytes = std::make_shared<const std::string>(EncodeExecutedRow(p.index, p.leader, p.leader_round, certificates));
  if (absl::Status s = env_.store->AppendExecuted(p.index, bytes); !s.ok()) return s;
  sizes_.emplace_back(p.index, bytes->size());
  kept_bytes_ += bytes->size();
  next_index_ = p.index + 1;
  ++stats_.sub_dags_executed;
  stats_.batches_executed += batches;
  if (on_executed_) on_executed_(ExecutedRow{p.index, bytes});
  return absl::OkStatus();
}

void Executor::Prune() {
  uint64_t drop_below = 0;
  // The last row stays: it proves the next index to a reader.
  while (sizes_.size() > 1 && (sizes_.size() > params_.committed_output_retention ||
                               kept_bytes_ > params_.committed_output_retention_bytes)) {
    kept_bytes_ -= sizes_.front().second;
    drop_below = sizes_.front().first + 1;
    sizes_.pop_front();
    ++stats_.rows_pruned;
  }
  if (drop_below == 0) return;
  if (absl::Status s = env_.store->PruneExecutedBelow(drop_below); !s.ok()) {
    fail_stop_->Halt(absl::StrCat("pruning executed rows below ", drop_below), s);
  }
}

void Executor::ArmTick() {
  if (pending_.empty()) return;
  // The soonest attempt due in the window (at most one retry delay away:
  // also the pace of the stall warning).
  const TimeUs now = env_.clock->NowUs();
  TimeUs at = now + params_.sync_retry_delay_us;
  size_t k = 0;
  for (const auto& [index, p] : pending_) {
    if (k++ >= options_.window_sub_dags) break;
    if (!p.missing.empty() && p.requested) at = std::min(at, std::max(p.next_attempt_us, now));
  }
  if (tick_armed_) {
    if (tick_at_us_ <= at) return;
    env_.timers->Cancel(tick_timer_);
  }
  tick_armed_ = true;
  tick_at_us_ = at;
  tick_timer_ = env_.timers->Schedule(at - now, [this] {
    tick_armed_ = false;
    Tick();
  });
}

void Executor::Tick() {
  const TimeUs now = env_.clock->NowUs();
  size_t k = 0;
  for (auto& [index, p] : pending_) {
    if (k++ >= options_.window_sub_dags) break;
    if (!p.requested || now >= p.next_attempt_us) Attempt(p);
  }
  if (!pending_.empty()) {
    Pending& oldest = pending_.begin()->second;
    if (!oldest.missing.empty() && now - oldest.since_us >= options_.warn_after_us &&
        now - oldest.warned_us >= options_.warn_after_us) {
      oldest.warned_us = now;
      ++stats_.stall_warnings;
      LOG(WARNING) << "executor " << self_ << ": sub-DAG " << oldest.index << " has waited "
                   << (now - oldest.since_us) / kMillisecondUs << " ms for " << oldest.missing.size()
                   << " batch(es), e.g. " << oldest.missing.begin()->digest.Short() << " of worker "
                   << oldest.missing.begin()->worker_id << "; " << pending_.size()
                   << " sub-DAG(s) wait behind it";
    }
  }
  ExecuteReady();
  ArmTick();
}

std::optional<Round> Executor::PruneFloor() const {
  std::optional<Round> floor;
  for (const auto& [index, p] : pending_) {
    floor = floor.has_value() ? std::min(*floor, p.prune_floor) : p.prune_floor;
  }
  return floor;
}

std::optional<std::string> Executor::Lookup(uint64_t index, const Digest& digest) {
  for (const auto& [i, p] : pending_) {
    for (const auto& [ref, bytes] : p.have) {
      if (ref.digest == digest) return *bytes;
    }
    if (i >= index) break;
  }
  if (const auto* batches = RowBatches(index)) {
    auto it = batches->find(digest.ToBytes());
    if (it != batches->end()) return it->second;
  }
  return std::nullopt;
}

const absl::flat_hash_map<std::string, std::string>* Executor::RowBatches(uint64_t index) {
  if (index >= next_index_ || index < first_kept_index()) return nullptr;
  if (row_cache_index_ == index) return &row_cache_;
  row_cache_index_.reset();
  row_cache_.clear();
  ++stats_.rows_read_for_peers;
  auto rows = env_.store->ExecutedFrom(index, 1);
  if (!rows.ok()) {
    fail_stop_->Halt(absl::StrCat("reading executed row ", index, " for a peer"), rows.status());
    return nullptr;
  }
  if (rows->empty() || rows->front().index != index) return nullptr;
  wire::ExecutedSubDag row;
  if (!row.ParseFromString(*rows->front().row)) {
    fail_stop_->Halt("reading an executed row for a peer",
                     absl::DataLossError(absl::StrCat("executed row ", index, " unreadable")));
    return nullptr;
  }
  for (auto& c : *row.mutable_certificates()) {
    for (auto& b : *c.mutable_batches()) row_cache_[b.digest()] = std::move(*b.mutable_batch());
  }
  row_cache_index_ = index;
  return &row_cache_;
}

void Executor::OnBatchesRequest(const Endpoint& from, const wire::ExecutedBatchesRequest& request,
                                Messenger::Responder respond) {
  if (static_cast<size_t>(request.digests_size()) > options_.digests_per_request_max) {
    respond(false, absl::StrCat("at most ", options_.digests_per_request_max, " digests per request"), {});
    return;
  }
  ++stats_.peer_requests_served;
  std::vector<std::string> items;
  for (const std::string& raw : request.digests()) {
    auto d = Digest::FromBytes(raw);
    if (!d.ok()) {
      respond(false, "bad digest", {});
      return;
    }
    std::optional<std::string> bytes = Lookup(request.index(), *d);
    if (!bytes.has_value() && local_read_) {
      // Any of our workers may hold it; the digest says nothing of which.
      for (WorkerId w = 0; w < committee_.workers_per_authority() && !bytes.has_value(); ++w) {
        bytes = local_read_(w, *d);
      }
    }
    items.push_back(bytes.value_or(std::string()));
  }
  respond(true, "", std::move(items));
}

}  // namespace narwhal
