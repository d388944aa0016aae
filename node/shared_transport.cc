#include "node/shared_transport.h"

#include "core/messages.pb.h"
#include "glog/logging.h"

namespace narwhal::node {

SharedTransport::SharedTransport(Transport* inner)
    : inner_(inner), main_(this, false), side_(this, true) {
  inner_->SetReceiver([this](const Endpoint& from, std::string_view frame) { OnFrame(from, frame); });
}

absl::Status SharedTransport::View::Send(const Endpoint& to, std::string frame) {
  if (is_side_) {
    wire::Frame parsed;
    if (parsed.ParseFromArray(frame.data(), frame.size()) && parsed.has_request()) {
      auto key = std::make_pair(to, parsed.request().request_id());
      if (owner_->side_requests_.insert(key).second) {
        owner_->side_order_.push_back(key);
        if (owner_->side_order_.size() > kSideRequestsMax) {
          owner_->side_requests_.erase(owner_->side_order_.front());
          owner_->side_order_.pop_front();
        }
      }
    }
  }
  return owner_->inner_->Send(to, std::move(frame));
}

void SharedTransport::OnFrame(const Endpoint& from, std::string_view frame) {
  const Endpoint self = inner_->self();
  if (!side_requests_.empty() && !from.is_primary() && from.authority == self.authority) {
    // Only responses can be for side(); parsing just the envelope's kind and
    // request id costs a copy of the frame, paid only while side() waits.
    wire::Frame parsed;
    if (parsed.ParseFromArray(frame.data(), frame.size()) && parsed.has_response()) {
      auto it = side_requests_.find(std::make_pair(from, parsed.response().request_id()));
      if (it != side_requests_.end()) {
        // A later duplicate goes to main(), which ignores unknown responses.
        side_requests_.erase(it);
        if (side_.receiver_) side_.receiver_(from, frame);
        return;
      }
    }
  }
  if (main_.receiver_) main_.receiver_(from, frame);
}

}  // namespace narwhal::node
