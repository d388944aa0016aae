// Lets two Messengers speak as one endpoint over one Transport. The
// primary's executor (node/executor.h) must ask the primary's own workers
// for batches as the primary (workers answer batch requests only from their
// own primary or a peer worker), but the primary's Messenger already owns
// the transport's receiver. SharedTransport hands out two views:
//
//   - main():  everything the wrapped transport receives goes here, except
//   - side():  responses from our own workers to requests that were sent
//              through side() (the first response per request).
//
// Routing is by (peer, request_id) of the requests side() sent; each
// Messenger starts its ids at a random 63-bit value, so the two id streams
// do not meet in practice, and a response is routed to side() only if side()
// sent a request with that id to that peer and has not had its answer.
//
// Single-threaded, like the transport it wraps.
#ifndef NARWHAL_NODE_SHARED_TRANSPORT_H_
#define NARWHAL_NODE_SHARED_TRANSPORT_H_

#include <cstdint>
#include <deque>
#include <utility>

#include "absl/container/btree_set.h"
#include "core/env.h"

namespace narwhal::node {

class SharedTransport {
 public:
  // `inner` must outlive this and not have its receiver set by anyone else.
  explicit SharedTransport(Transport* inner);
  Transport* main() { return &main_; }
  Transport* side() { return &side_; }

 private:
  class View final : public Transport {
   public:
    View(SharedTransport* owner, bool is_side) : owner_(owner), is_side_(is_side) {}
    Endpoint self() const override { return owner_->inner_->self(); }
    absl::Status Send(const Endpoint& to, std::string frame) override;
    void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }
    Receiver receiver_;

   private:
    SharedTransport* owner_;
    bool is_side_;
  };

  void OnFrame(const Endpoint& from, std::string_view frame);

  // Most side requests outstanding that we remember; the oldest are
  // forgotten first (their late responses then go to main(), which ignores
  // unknown responses).
  static constexpr size_t kSideRequestsMax = 100'000;

  Transport* inner_;
  View main_;
  View side_;
  absl::btree_set<std::pair<Endpoint, uint64_t>> side_requests_;
  std::deque<std::pair<Endpoint, uint64_t>> side_order_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_SHARED_TRANSPORT_H_
