#include "node/ingress.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "node/ingress_wire.h"

namespace narwhal::node {

absl::StatusOr<std::unique_ptr<Ingress>> Ingress::Create(void* context, EventLoop& loop,
                                                         Worker& worker, IngressOptions options) {
  auto socket = ZmqSocket::Create(context, ZMQ_ROUTER);
  if (!socket.ok()) return socket.status();
  for (auto [opt, value] : {std::pair{ZMQ_ROUTER_MANDATORY, 1},
                            std::pair{ZMQ_RCVHWM, options.receive_hwm_messages},
                            std::pair{ZMQ_SNDHWM, options.send_hwm_messages}}) {
    if (absl::Status s = socket->SetInt(opt, value); !s.ok()) return s;
  }
  // A client cannot make us buffer more than this per message.
  if (absl::Status s = socket->SetInt64(ZMQ_MAXMSGSIZE, options.max_message_bytes); !s.ok()) return s;
  if (absl::Status s = socket->Bind(options.address); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("transactions_address ", options.address, ": ", s.message()));
  }
  auto ingress = std::unique_ptr<Ingress>(new Ingress(loop, worker, *std::move(socket)));
  ingress->messages_per_wakeup_max_ = options.messages_per_wakeup_max;
  ingress->status_ = std::move(options.status);
  return ingress;
}

Ingress::Ingress(EventLoop& loop, Worker& worker, ZmqSocket socket)
    : loop_(loop), worker_(worker), socket_(std::move(socket)) {
  worker_.SetOnBatchAccepted([this](const SealedBatch& a) { OnBatchAccepted(a); });
  watch_id_ = loop_.Watch(zmq::socket_ref(zmq::from_handle, socket_.handle()), [this] { OnReadable(); });
}

Ingress::~Ingress() {
  worker_.SetOnBatchAccepted(nullptr);
  loop_.Unwatch(watch_id_);
}

void Ingress::OnReadable() {
  for (int i = 0; i < messages_per_wakeup_max_; ++i) {
    auto got = socket_.ReceiveParts(&parts_);
    if (!got.ok()) {
      LOG(WARNING) << "ingress receive: " << got.status();
      return;
    }
    if (!*got) return;
    if (parts_.size() != 2) {
      ++stats_.malformed;
      if (!parts_.empty()) {
        client::IngressMessage out;
        out.set_error(absl::StrCat("an IngressRequest is one frame; this message had ", parts_.size() - 1));
        SendTo(parts_[0].view(), out);
      }
      continue;
    }
    Handle(parts_[0].view(), parts_[1].view());
  }
  parts_.clear();
}

void Ingress::Handle(std::string_view identity, std::string_view payload) {
  if (std::optional<SubmitView> fast = ParseSubmitFast(payload, limits::kSubmitTransactionsPerRequestMax)) {
    HandleSubmit(identity, fast->request_id, fast->transactions);
    return;
  }
  client::IngressRequest request;
  client::IngressMessage out;
  const bool parsed = request.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
  if (parsed && request.has_status()) {
    if (status_) {
      *out.mutable_status() = status_();
    } else {
      out.set_error("this node does not report its status");
    }
    SendTo(identity, out);
    return;
  }
  if (!parsed || !request.has_submit()) {
    ++stats_.malformed;
    out.set_error("cannot parse an IngressRequest with a submit or a status");
    SendTo(identity, out);
    return;
  }
  const client::SubmitRequest& submit = request.submit();
  // Fields this version does not know: most likely an OutputRequest sent to
  // the wrong socket (its Subscribe parses as a SubmitRequest with unknown
  // fields), so refuse rather than answer an empty reply.
  if (!request.GetReflection()->GetUnknownFields(request).empty() ||
      !submit.GetReflection()->GetUnknownFields(submit).empty()) {
    ++stats_.malformed;
    out.set_error("not an IngressRequest (unknown fields): subscriptions go to a primary's output_address, "
                  "this is a worker's transactions_address");
    SendTo(identity, out);
    return;
  }
  if (submit.transactions_size() > limits::kSubmitTransactionsPerRequestMax) {
    ++stats_.malformed;
    out.set_error(absl::StrCat("at most ", limits::kSubmitTransactionsPerRequestMax, " transactions per request"));
    out.set_error_request_id(submit.request_id());
    SendTo(identity, out);
    return;
  }
  const std::vector<std::string_view> transactions(submit.transactions().begin(),
                                                   submit.transactions().end());
  HandleSubmit(identity, submit.request_id(), transactions);
}

void Ingress::HandleSubmit(std::string_view identity, uint64_t request_id,
                           const std::vector<std::string_view>& transactions) {
  client::IngressMessage out;
  ++stats_.requests;
  client::SubmitReply* reply = out.mutable_reply();
  reply->set_request_id(request_id);
  client::SubmitRange* run = nullptr;
  // Key in pending_ of the current run of sequenced transactions.
  std::optional<uint64_t> pending_key;
  // After one BACKPRESSURE refusal the rest of the request is refused too
  // (without asking the worker): a smaller transaction later in the request
  // would otherwise be sequenced ahead of a refused one, and a client that
  // retries the refused ones would lose its own order.
  bool backpressured = false;
  for (size_t i = 0; i < transactions.size(); ++i) {
    absl::StatusOr<uint64_t> seq =
        backpressured ? absl::StatusOr<uint64_t>(absl::ResourceExhaustedError(
                            "an earlier transaction of this request was refused (BACKPRESSURE); "
                            "the rest of the request is refused to keep its order"))
                      : worker_.SubmitTransaction(transactions[i]);
    client::Refusal refusal = client::NOT_REFUSED;
    if (!seq.ok()) {
      // The worker refuses with ResourceExhausted when it holds
      // max_pending_bytes, InvalidArgument for an oversized or empty one.
      refusal = seq.status().code() == absl::StatusCode::kResourceExhausted ? client::BACKPRESSURE
                : !transactions[i].empty()                                    ? client::OVERSIZED
                                                                             : client::INVALID;
      backpressured |= refusal == client::BACKPRESSURE;
    }
    // Seqs of one request are consecutive unless a refusal intervenes,
    // because nothing else runs on the loop between two submits.
    const bool extends = run != nullptr && run->refusal() == refusal &&
                         (refusal != client::NOT_REFUSED || *seq == run->first_seq() + run->count()) &&
                         (refusal == client::NOT_REFUSED ||
                          run->reason() == std::string(seq.status().message()));
    if (extends) {
      run->set_count(run->count() + 1);
    } else {
      run = reply->add_ranges();
      run->set_first(i);
      run->set_count(1);
      run->set_refusal(refusal);
      if (refusal == client::NOT_REFUSED) {
        run->set_first_seq(*seq);
      } else {
        run->set_reason(std::string(seq.status().message()));
      }
    }
    if (refusal == client::NOT_REFUSED) {
      ++stats_.transactions_sequenced;
      if (extends && pending_key.has_value()) {
        ++pending_[*pending_key].count;
      } else {
        pending_key = *seq;
        pending_[*seq] = Pending{std::string(identity), request_id, static_cast<uint32_t>(i), 1};
        if (pending_.size() > limits::kIngressPendingRangesMax) {
          // Acceptance that never came (e.g. our primary is down and the
          // report was given up): forget the oldest; its client only
          // misses the notice, never a transaction.
          ++stats_.notices_forgotten;
          pending_.erase(pending_.begin());
        }
      }
    } else {
      ++stats_.transactions_refused;
      ++(refusal == client::BACKPRESSURE ? stats_.refused_backpressure
         : refusal == client::OVERSIZED  ? stats_.refused_oversized
                                         : stats_.refused_invalid);
      pending_key.reset();
    }
  }
  SendTo(identity, out);
}

void Ingress::OnBatchAccepted(const SealedBatch& accepted) {
  const uint64_t begin = accepted.first_tx_seq;
  const uint64_t end = begin + accepted.tx_count;
  // The range holding `begin` may start before it (a request that spans
  // two batches, whose first part was accepted already). Collect first:
  // btree_map iterators do not survive inserts and erases.
  std::vector<std::pair<uint64_t, Pending>> hits;
  auto it = pending_.upper_bound(begin);
  if (it != pending_.begin()) --it;
  for (; it != pending_.end() && it->first < end; ++it) {
    if (it->first + it->second.count > begin) hits.push_back(*it);
  }
  for (const auto& [range_begin, p] : hits) {
    const uint64_t range_end = range_begin + p.count;
    pending_.erase(range_begin);
    // Keep what lies outside [begin, end).
    if (range_begin < begin) {
      pending_[range_begin] = Pending{p.identity, p.request_id, p.first, uint32_t(begin - range_begin)};
    }
    if (range_end > end) {
      const uint32_t skip = uint32_t(end - range_begin);
      pending_[end] = Pending{p.identity, p.request_id, p.first + skip, p.count - skip};
    }
    const uint64_t lo = std::max(begin, range_begin), hi = std::min(end, range_end);
    client::IngressMessage out;
    client::Accepted* a = out.mutable_accepted();
    a->set_request_id(p.request_id);
    a->set_first(p.first + uint32_t(lo - range_begin));
    a->set_count(uint32_t(hi - lo));
    a->set_first_seq(lo);
    a->set_batch_digest(accepted.digest.ToBytes());
    stats_.transactions_accepted += hi - lo;
    SendTo(p.identity, out);
  }
}

void Ingress::SendTo(std::string_view identity, const client::IngressMessage& message) {
  const std::string payload = message.SerializeAsString();
  auto sent = socket_.Send({identity, payload});
  if (!sent.ok() || !*sent) {
    ++stats_.replies_dropped;
    LOG_EVERY_N(WARNING, 1000) << "ingress: a reply to a client was dropped ("
                               << (sent.ok() ? "queue full" : sent.status().ToString()) << ")";
  }
}

}  // namespace narwhal::node
