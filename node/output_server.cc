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
                                                                   OutputServerOptions options) {
  auto next = store->NextExecutedIndex();
  if (!next.ok()) return next.status();
  auto socket = ZmqSocket::Create(context, ZMQ_ROUTER);
  if (!socket.ok()) return socket.status();
  for (auto [opt, value] : {std::pair{ZMQ_ROUTER_MANDATORY, 1},
                            std::pair{ZMQ_SNDHWM, options.send_hwm_messages},
                            std::pair{ZMQ_RCVHWM, 1000}}) {
    if (absl::Status s = socket->SetInt(opt, value); !s.ok()) return s;
  }
  // A client cannot make us buffer more than this per message. Above
  // limits::kOutputRequestBytesMax (and below this) it gets an error; beyond this ZeroMQ
  // drops the connection (docs/client_protocol.md).
  if (absl::Status s = socket->SetInt64(ZMQ_MAXMSGSIZE, limits::kOutputMessageBytesMax); !s.ok()) return s;
  if (absl::Status s = socket->Bind(options.address); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("output_address ", options.address, ": ", s.message()));
  }
  return std::unique_ptr<OutputServer>(
      new OutputServer(loop, store, std::move(options), *std::move(socket), *next));
}

OutputServer::OutputServer(EventLoop& loop, Store* store, OutputServerOptions options, ZmqSocket socket,
                           uint64_t next_index)
    : loop_(loop),
      store_(store),
      options_(std::move(options)),
      socket_(std::move(socket)),
      next_index_(next_index) {
  unix_offset_us_ = absl::ToUnixMicros(absl::Now()) - loop_.NowUs();
  watch_id_ = loop_.Watch(zmq::socket_ref(zmq::from_handle, socket_.handle()), [this] { OnReadable(); });
  heartbeat_timer_ = loop_.Schedule(options_.heartbeat_interval_us, [this] { Heartbeat(); });
}

OutputServer::~OutputServer() {
  loop_.Unwatch(watch_id_);
  loop_.Cancel(heartbeat_timer_);
  if (pump_scheduled_) loop_.Cancel(pump_timer_);
  if (publish_scheduled_) loop_.Cancel(publish_timer_);
  for (TimerId t : retry_timers_) loop_.Cancel(t);
}

void OutputServer::OnCommit(const CommittedSubDag& sub) {
  // Local metadata (committed_at_unix_us), not part of the durable row:
  // known for what this process committed.
  commit_times_[sub.index] = loop_.NowUs();
  while (commit_times_.size() > kCommitTimesMax) commit_times_.erase(commit_times_.begin());
}

void OutputServer::OnExecuted(const ExecutedRow& row) {
  // Served from the next event-loop pass on: the row is committed at the
  // end of this one (NodeProcess::EndPass), and a client must never read a
  // row that a crash could still take back.
  unpublished_.push_back(row);
  if (publish_scheduled_) return;
  publish_scheduled_ = true;
  publish_timer_ = loop_.Schedule(0, [this] {
    publish_scheduled_ = false;
    for (ExecutedRow& r : unpublished_) {
      next_index_ = std::max(next_index_, r.index + 1);
      CacheRow(r.index, std::move(r.row));
    }
    unpublished_.clear();
    SchedulePump();
  });
}

void OutputServer::CacheRow(uint64_t index, std::shared_ptr<const std::string> row) {
  auto [it, inserted] = rows_.emplace(index, std::move(row));
  if (inserted) rows_bytes_ += it->second->size();
  // Oldest first, but never the row just added.
  while (rows_bytes_ > options_.rows_cached_bytes_max && rows_.begin()->first != index) {
    rows_bytes_ -= rows_.begin()->second->size();
    rows_.erase(rows_.begin());
  }
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
      // [identity, payload]: anything else is a client that sent several
      // frames in one message (or none).
      ++stats_.malformed;
      if (!parts.empty()) {
        SendError(parts[0], absl::StrCat("an OutputRequest is one frame; this message had ", parts.size() - 1));
      }
      continue;
    }
    Handle(parts[0], parts[1]);
  }
}

void OutputServer::Handle(const std::string& identity, const std::string& payload) {
  client::OutputRequest request;
  if (payload.size() > limits::kOutputRequestBytesMax) {
    ++stats_.malformed;
    SendError(identity, absl::StrCat("an OutputRequest is at most ", limits::kOutputRequestBytesMax, " bytes, got ", payload.size()));
    return;
  }
  if (!request.ParseFromString(payload)) {
    ++stats_.malformed;
    SendError(identity, "cannot parse an OutputRequest");
    return;
  }
  // Fields this version does not know: most likely another message sent to
  // the wrong socket (a SubmitRequest parses as an OutputRequest with
  // unknown fields), so refuse rather than guess.
  if (!request.GetReflection()->GetUnknownFields(request).empty() ||
      (request.has_subscribe() &&
       !request.subscribe().GetReflection()->GetUnknownFields(request.subscribe()).empty())) {
    ++stats_.malformed;
    SendError(identity,
              "not an OutputRequest (unknown fields): transactions go to a worker's transactions_address, "
              "this is a primary's output_address");
    return;
  }
  if (request.has_subscribe()) {
    if (!client::TransactionDetail_IsValid(request.subscribe().detail())) {
      ++stats_.malformed;
      SendError(identity, absl::StrCat("unknown detail ", request.subscribe().detail(),
                                       ": ALL_TRANSACTIONS (0), NO_TRANSACTIONS (1) or PREFIXED_TRANSACTIONS (2)"));
      return;
    }
    if (!subscribers_.contains(identity) && subscribers_.size() >= options_.subscribers_max) {
      SendError(identity, absl::StrCat("too many subscribers (", options_.subscribers_max, ")"));
      return;
    }
    ++stats_.subscriptions;
    Subscriber& sub = subscribers_[identity];
    sub = Subscriber{request.subscribe(), request.subscribe().from_index(), loop_.NowUs(), false};
    LOG(INFO) << "output: subscription from index " << sub.next_index << " (next index " << next_index_
              << ")";
    SchedulePump();
  } else if (request.has_status()) {
    client::OutputMessage m;
    if (options_.status) {
      *m.mutable_status() = options_.status();
    } else {
      m.set_error("this node does not report its status");
    }
    (void)SendTo(identity, m);
  } else if (request.has_unsubscribe()) {
    if (!request.unsubscribe()) {
      ++stats_.malformed;
      SendError(identity, "unsubscribe must be true (to end the subscription)");
      return;
    }
    subscribers_.erase(identity);
  } else {
    ++stats_.malformed;
    SendError(identity, "OutputRequest needs subscribe, unsubscribe or status");
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
  for (int sent = 0; sub.next_index < next_index_; ++sent) {
    if (sent == options_.messages_per_turn_max) {
      SchedulePump();  // more next turn, after the others
      return true;
    }
    absl::StatusOr<std::shared_ptr<const std::string>> row = GetRow(sub.next_index);
    absl::StatusOr<std::string> payload =
        row.ok() ? Build(**row, sub.request) : absl::StatusOr<std::string>(row.status());
    if (!payload.ok()) {
      SendError(identity, std::string(payload.status().message()));
      ++stats_.subscribers_dropped;
      return false;
    }
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

absl::StatusOr<std::shared_ptr<const std::string>> OutputServer::GetRow(uint64_t index) {
  if (auto it = rows_.find(index); it != rows_.end()) return it->second;
  auto stored = store_->ExecutedFrom(index, options_.rows_per_read);
  if (!stored.ok()) return stored.status();
  if (stored->empty() || stored->front().index != index) {
    return absl::OutOfRangeError(absl::StrCat(
        "sub-DAG ", index, " is no longer kept (parameters.committed_output_retention); the oldest available index is ",
        stored->empty() ? next_index_ : stored->front().index));
  }
  std::shared_ptr<const std::string> wanted = stored->front().row;
  // Read-ahead rows go to the cache for the next turns (never evicting the
  // one asked for: it is held by `wanted` anyway).
  for (ExecutedRow& r : *stored) CacheRow(r.index, std::move(r.row));
  return wanted;
}

absl::StatusOr<std::string> OutputServer::Build(const std::string& bytes, const client::Subscribe& request) {
  wire::ExecutedSubDag row;
  if (!row.ParseFromString(bytes)) return absl::DataLossError("a stored executed sub-DAG does not parse");
  client::OutputMessage message;
  client::SubDag* out = message.mutable_sub_dag();
  out->set_index(row.index());
  out->set_leader(row.leader());
  out->set_leader_round(row.leader_round());
  if (auto it = commit_times_.find(row.index()); it != commit_times_.end()) {
    out->set_committed_at_unix_us(ToUnixUs(it->second));
  }
  const std::string& prefix = request.transaction_prefix();
  for (const wire::ExecutedCertificate& c : row.certificates()) {
    client::CommittedCertificate* cert = out->add_certificates();
    cert->set_digest(c.digest());
    cert->set_author(c.author());
    cert->set_round(c.round());
    for (const wire::ExecutedBatch& eb : c.batches()) {
      client::CommittedBatch* b = cert->add_batches();
      b->set_digest(eb.digest());
      b->set_worker_id(eb.worker_id());
      auto digest = Digest::FromBytes(eb.digest());
      if (digest.ok()) {
        if (auto it = own_batches_.find(*digest); it != own_batches_.end()) {
          b->set_created_at_unix_us(ToUnixUs(it->second));
        }
      }
      if (request.detail() == client::NO_TRANSACTIONS) {
        b->set_transaction_count(BatchCount(eb.batch()));
        continue;
      }
      auto txs = DecodeBatch(eb.batch(), eb.batch().size(), eb.batch().size());
      if (!txs.ok()) {
        return absl::DataLossError(absl::StrCat("executed sub-DAG ", row.index(), ": a batch does not decode"));
      }
      b->set_transaction_count(txs->size());
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
    m.mutable_heartbeat()->set_next_index(next_index_);
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
