#include "transport_sim/sim_transport.h"

#include "absl/strings/str_cat.h"

namespace narwhal::sim {

absl::Status SimTransport::Send(const Endpoint& to, std::string frame) {
  if (to.authority >= authorities_ || to.role > workers_) {
    return absl::InvalidArgumentError(absl::StrCat("unknown endpoint ", to.ToString()));
  }
  network_->Send(self_, to, std::move(frame));
  return absl::OkStatus();
}

absl::Status SimTransport::SendParts(const Endpoint& to, std::string prefix,
                                     std::shared_ptr<const std::string> body) {
  if (to.authority >= authorities_ || to.role > workers_) {
    return absl::InvalidArgumentError(absl::StrCat("unknown endpoint ", to.ToString()));
  }
  network_->SendParts(self_, to, std::move(prefix), std::move(body));
  return absl::OkStatus();
}

}  // namespace narwhal::sim
