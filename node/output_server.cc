#include "node/output_server.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/batch.h"
#include "glog/logging.h"

namespace narwhal::node {
namespace {
constexpr size_t kOwnBatchesMax = 200'000;
constexpr size_t kCommitTimesMax = 200'000;

uint32_t BatchCount(const std::string& batch) {
  uint32_t n = 0;
  if (batch.size() >= 4) {
    for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(batch[i]);
  }
  return n;
}
}  // namespace

absl::StatusOr<std::unique_ptr<OutputServer>> OutputServer::Create(void* context, EventLoop& loop,
                                                                   Store* store,
                                                                   BatchFetcher* fetcher,
                                                                   OutputServerOptions options) {
  auto next = store->NextCommitIndex();
  if (!next.ok()) return next.status();
  auto socket = ZmqSocket::Create(context, ZMQ_ROUTER);
  if (!socket.ok()) return socket.status();
  for (auto [opt, value] : {std::pair{ZMQ_ROUTER_MANDATORY, 1},
                            std::pair{ZMQ_SNDHWM, options.send_hwm_messages},
                            std::pair{ZMQ_RCVHWM, 1000}}) {
    if (absl::Status s = socket->SetInt(opt, value); !s.ok()) return s;
  }
  // A client cannot make us buffer more than this per message.
  if (absl::Status s = socket->SetInt64(ZMQ_MAXMSGSIZE, int64_t{1} << 20); !s.ok()) return s;
  if (absl::Status s = socket->Bind(options.address); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("output_address ", options.address, ": ", s.message()));
  }
  return std::unique_ptr<OutputServer>(
      new OutputServer(loop, store, fetcher, std::move(options), *std::move(socket), *next));
}

OutputServer::OutputServer(EventLoop& loop, Store* store, BatchFetcher* fetcher,
                           OutputServerOptions options, ZmqSocket socket, uint64_t next_commit_index)
    : loop_(loop),
      store_(store),
      fetcher_(fetcher),
      options_(std::move(options)),
      socket_(std::move(socket)),
      next_commit_index_(next_commit_index) {
  unix_offset_us_ = absl::ToUnixMicros(absl::Now()) - loop_.NowUs();
  fetcher_->SetOnProgress([this] { SchedulePump(); });
  watch_id_ = loop_.Watch(zmq::socket_ref(zmq::from_handle, socket_.handle()), [this] { OnReadable(); });
  heartbeat_timer_ = loop_.Schedule(options_.heartbeat_interval_us, [this] { Heartbeat(); });
}

OutputServer::~OutputServer() {
  fetcher_->SetOnProgress(nullptr);
  loop_.Unwatch(watch_id_);
  loop_.Cancel(heartbeat_timer_);
  if (pump_scheduled_) loop_.Cancel(pump_timer_);
  for (TimerId t : retry_timers_) loop_.Cancel(t);
}

void OutputServer::OnCommit(const CommittedSubDag& sub) {
  auto row = std::make_shared<Row>();
  row->index = sub.index;
  row->leader = sub.leader->digest;
  row->leader_round = sub.leader->round();
  std::vector<std::vector<BatchRef>> payloads;
  for (const CertificatePtr& c : sub.certificates) {
    row->certificates.push_back(CertInfo{c->digest, c->author(), c->round(), {}});
    payloads.push_back(c->header.payload);
  }
  AssignBatches(sub.batches, row->certificates, payloads);
  commit_times_[sub.index] = loop_.NowUs();
  while (commit_times_.size() > kCommitTimesMax) commit_times_.erase(commit_times_.begin());
  next_commit_index_ = std::max(next_commit_index_, sub.index + 1);
  // Fetch at once, subscribers or not: our worker may lack a batch (a
  // quorum formed without it), and it only synchronizes batches above the
  // garbage-collection round, so a committed batch must be asked for
  // before consensus moves gc_depth rounds on. Priorities keep these
  // prefetches behind whatever a subscriber waits for.
  if (options_.prefetch_on_commit) Prefetch(*row);
  rows_[sub.index] = std::move(row);
  while (rows_.size() > options_.rows_cached_max) rows_.erase(rows_.begin());
  SchedulePump();
}

void OutputServer::OnOwnBatch(const Digest& digest, TimeUs created_at_us) {
  if (own_batches_.emplace(digest, created_at_us).second) {
    own_batches_order_.push_back(digest);
    if (own_batches_order_.size() > kOwnBatchesMax) {
      own_batches_.erase(own_batches_order_.front());
      own_batches_order_.pop_front();
    }
  }
}

void OutputServer::OnReadable() {
  for (int i = 0; i < 64; ++i) {
    auto msg = socket_.Receive();
    if (!msg.ok()) {
      LOG(WARNING) << "output receive: " << msg.status();
      return;
    }
    if (!msg->has_value()) return;
    const auto& parts = **msg;
    if (parts.size() != 2) {
      ++stats_.malformed;
      continue;
    }
    Handle(parts[0], parts[1]);
  }
}

void OutputServer::Handle(const std::string& identity, const std::string& payload) {
  client::OutputRequest request;
  if (!request.ParseFromString(payload)) {
    ++stats_.malformed;
    SendError(identity, "cannot parse an OutputRequest");
    return;
  }
  if (request.has_subscribe()) {
    if (!subscribers_.contains(identity) && subscribers_.size() >= options_.subscribers_max) {
      SendError(identity, absl::StrCat("too many subscribers (", options_.subscribers_max, ")"));
      return;
    }
    ++stats_.subscriptions;
    Subscriber& sub = subscribers_[identity];
    sub = Subscriber{request.subscribe(), request.subscribe().from_index(), loop_.NowUs(), false};
    LOG(INFO) << "output: subscription from index " << sub.next_index << " (next commit index "
              << next_commit_index_ << ")";
    SchedulePump();
  } else if (request.has_unsubscribe()) {
    subscribers_.erase(identity);
  } else {
    ++stats_.malformed;
    SendError(identity, "OutputRequest needs subscribe or unsubscribe");
  }
}

void OutputServer::SchedulePump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  pump_timer_ = loop_.Schedule(0, [this] {
    pump_scheduled_ = false;
    PumpAll();
  });
}

void OutputServer::PumpAll() {
  std::vector<std::string> identities;
  for (const auto& [identity, sub] : subscribers_) {
    if (!sub.blocked) identities.push_back(identity);
  }
  for (const std::string& identity : identities) {
    auto it = subscribers_.find(identity);
    if (it == subscribers_.end()) continue;
    if (!Pump(identity, it->second)) subscribers_.erase(identity);
  }
}

bool OutputServer::Pump(const std::string& identity, Subscriber& sub) {
  for (int sent = 0; sub.next_index < next_commit_index_; ++sent) {
    if (sent == options_.messages_per_turn_max) {
      SchedulePump();  // more next turn, after the others
      return true;
    }
    absl::StatusOr<RowPtr> row = GetRow(sub.next_index);
    if (!row.ok()) {
      SendError(identity, std::string(row.status().message()));
      ++stats_.subscribers_dropped;
      return false;
    }
    for (int j = 1; j <= options_.prefetch_sub_dags; ++j) {
      if (sub.next_index + j >= next_commit_index_) break;
      auto ahead = GetRow(sub.next_index + j);
      if (!ahead.ok()) break;
      Prefetch(**ahead);
    }
    std::optional<std::string> payload = Build(**row, sub.request);
    if (!payload.has_value()) return true;  // woken by the fetcher
    auto ok = socket_.Send({identity, *payload});
    if (!ok.ok()) {
      LOG(INFO) << "output: subscriber gone (" << ok.status() << "), dropped";
      ++stats_.subscribers_dropped;
      return false;
    }
    if (!*ok) {
      ++stats_.sends_blocked;
      sub.blocked = true;
      const std::string id = identity;
      auto holder = std::make_shared<TimerId>(0);
      *holder = loop_.Schedule(options_.blocked_retry_us, [this, id, holder] {
        retry_timers_.erase(*holder);
        auto it = subscribers_.find(id);
        if (it == subscribers_.end()) return;
        it->second.blocked = false;
        SchedulePump();
      });
      retry_timers_.insert(*holder);
      return true;
    }
    ++stats_.sub_dags_sent;
    sub.last_sent_us = loop_.NowUs();
    ++sub.next_index;
  }
  return true;
}

absl::StatusOr<OutputServer::RowPtr> OutputServer::GetRow(uint64_t index) {
  if (auto it = rows_.find(index); it != rows_.end()) return it->second;
  auto stored = store_->CommittedFrom(index, options_.rows_per_read);
  if (!stored.ok()) return stored.status();
  if (stored->empty() || stored->front().index != index) {
    return absl::OutOfRangeError(absl::StrCat(
        "sub-DAG ", index, " is no longer stored (committed_output_retention)",
        stored->empty() ? std::string() : absl::StrCat("; earliest is ", stored->front().index)));
  }
  RowPtr wanted;
  for (const CommittedSubDagRow& r : *stored) {
    wire::CommittedSubDag w;
    if (!w.ParseFromString(r.sub_dag)) {
      return absl::DataLossError(absl::StrCat("stored sub-DAG ", r.index, " does not parse"));
    }
    auto row = std::make_shared<Row>();
    row->index = r.index;
    std::vector<std::vector<BatchRef>> payloads;
    for (const wire::Certificate& wc : w.certificates()) {
      auto c = Certificate::FromWire(wc);
      if (!c.ok()) {
        return absl::DataLossError(absl::StrCat("stored sub-DAG ", r.index, ": ", c.status().message()));
      }
      row->certificates.push_back(CertInfo{c->digest, c->author(), c->round(), {}});
      payloads.push_back(c->header.payload);
    }
    std::vector<BatchRef> executed;
    for (const wire::BatchRef& b : w.batches()) {
      auto d = Digest::FromBytes(b.digest());
      if (!d.ok()) return absl::DataLossError(absl::StrCat("stored sub-DAG ", r.index, ": bad batch digest"));
      executed.push_back(BatchRef{*d, b.worker_id()});
    }
    AssignBatches(executed, row->certificates, payloads);
    if (!row->certificates.empty()) {
      // The leader is last (commit order).
      row->leader = row->certificates.back().digest;
      row->leader_round = row->certificates.back().round;
    }
    if (r.index == index) wanted = row;
    rows_.emplace(r.index, std::move(row));
  }
  while (rows_.size() > options_.rows_cached_max) {
    // Drop the oldest rows except the one being returned.
    if (rows_.begin()->first == index) break;
    rows_.erase(rows_.begin());
  }
  return wanted;
}

void OutputServer::AssignBatches(const std::vector<BatchRef>& executed, std::vector<CertInfo>& certs,
                                 const std::vector<std::vector<BatchRef>>& payloads) {
  // `executed` is the payloads in certificate order minus duplicates, so a
  // merge walk gives each executed batch to the first certificate with it.
  size_t next = 0;
  for (size_t i = 0; i < certs.size(); ++i) {
    for (const BatchRef& ref : payloads[i]) {
      if (next < executed.size() && executed[next] == ref) {
        certs[i].payload.push_back(ref);
        ++next;
      }
    }
  }
  CHECK_EQ(next, executed.size()) << "executed batches are not a subsequence of the payloads";
}

void OutputServer::Prefetch(const Row& row) {
  for (const CertInfo& c : row.certificates) {
    for (const BatchRef& ref : c.payload) (void)fetcher_->Get(ref, c.author, c.round, row.index, nullptr);
  }
}

std::optional<std::string> OutputServer::Build(const Row& row, const client::Subscribe& request) {
  // First make sure every batch is here, so nothing is built twice.
  std::vector<BatchFetcher::Batch> batches;
  std::vector<bool> unavailable;
  bool pending = false;
  for (const CertInfo& c : row.certificates) {
    for (const BatchRef& ref : c.payload) {
      BatchFetcher::Batch b;
      auto state = fetcher_->Get(ref, c.author, c.round, row.index, &b);
      pending |= state == BatchFetcher::State::kPending;
      batches.push_back(std::move(b));
      unavailable.push_back(state == BatchFetcher::State::kUnavailable);
    }
  }
  if (pending) return std::nullopt;

  client::OutputMessage message;
  client::SubDag* out = message.mutable_sub_dag();
  out->set_index(row.index);
  out->set_leader(row.leader.ToBytes());
  out->set_leader_round(row.leader_round);
  if (auto it = commit_times_.find(row.index); it != commit_times_.end()) {
    out->set_committed_at_unix_us(ToUnixUs(it->second));
  }
  size_t k = 0;
  for (const CertInfo& c : row.certificates) {
    client::CommittedCertificate* cert = out->add_certificates();
    cert->set_digest(c.digest.ToBytes());
    cert->set_author(c.author);
    cert->set_round(c.round);
    for (const BatchRef& ref : c.payload) {
      client::CommittedBatch* b = cert->add_batches();
      b->set_digest(ref.digest.ToBytes());
      b->set_worker_id(ref.worker_id);
      if (auto it = own_batches_.find(ref.digest); it != own_batches_.end()) {
        b->set_created_at_unix_us(ToUnixUs(it->second));
      }
      const bool gone = unavailable[k];
      const BatchFetcher::Batch& bytes = batches[k++];
      if (gone) {
        b->set_unavailable(true);
        continue;
      }
      if (request.detail() == client::NO_TRANSACTIONS) {
        b->set_transaction_count(BatchCount(*bytes));
        continue;
      }
      auto txs = DecodeBatch(*bytes, bytes->size(), bytes->size());
      CHECK(txs.ok()) << "a batch whose digest matched does not decode: " << txs.status();
      b->set_transaction_count(txs->size());
      const std::string& prefix = request.transaction_prefix();
      for (std::string_view tx : *txs) {
        if (request.detail() == client::PREFIXED_TRANSACTIONS &&
            (tx.size() < prefix.size() || std::memcmp(tx.data(), prefix.data(), prefix.size()) != 0)) {
          continue;
        }
        b->add_transactions(tx.data(), tx.size());
      }
    }
  }
  return message.SerializeAsString();
}

absl::StatusOr<bool> OutputServer::SendTo(const std::string& identity,
                                          const client::OutputMessage& message) {
  return socket_.Send({identity, message.SerializeAsString()});
}

void OutputServer::SendError(const std::string& identity, const std::string& error) {
  client::OutputMessage m;
  m.set_error(error);
  (void)SendTo(identity, m);
}

void OutputServer::Heartbeat() {
  heartbeat_timer_ = loop_.Schedule(options_.heartbeat_interval_us, [this] { Heartbeat(); });
  const TimeUs now = loop_.NowUs();
  std::vector<std::string> gone;
  for (auto& [identity, sub] : subscribers_) {
    if (sub.blocked || now - sub.last_sent_us < options_.heartbeat_interval_us) continue;
    client::OutputMessage m;
    m.mutable_heartbeat()->set_next_index(next_commit_index_);
    auto ok = SendTo(identity, m);
    if (!ok.ok()) {
      gone.push_back(identity);
      continue;
    }
    if (*ok) {
      ++stats_.heartbeats_sent;
      sub.last_sent_us = now;
    }
  }
  for (const std::string& identity : gone) {
    ++stats_.subscribers_dropped;
    subscribers_.erase(identity);
  }
}

}  // namespace narwhal::node
