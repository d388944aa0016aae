// Transport over the simulated network: the same seam the node implements
// with ZeroMQ, so the core cannot tell the two worlds apart.
#ifndef NARWHAL_TRANSPORT_SIM_SIM_TRANSPORT_H_
#define NARWHAL_TRANSPORT_SIM_SIM_TRANSPORT_H_

#include "core/env.h"
#include "transport_sim/network.h"

namespace narwhal::sim {

class SimTransport final : public Transport {
 public:
  // `authorities` and `workers_per_authority` bound the valid endpoints.
  SimTransport(Network* network, Endpoint self, size_t authorities, uint32_t workers_per_authority)
      : network_(network), self_(self), authorities_(authorities), workers_(workers_per_authority) {}
  ~SimTransport() override { network_->Unregister(self_); }

  Endpoint self() const override { return self_; }
  absl::Status Send(const Endpoint& to, std::string frame) override;
  absl::Status SendParts(const Endpoint& to, std::string prefix,
                         std::shared_ptr<const std::string> body) override;
  void SetReceiver(Receiver receiver) override { network_->Register(self_, std::move(receiver)); }
  void SetPartsReceiver(PartsReceiver receiver) override {
    network_->RegisterParts(self_, std::move(receiver));
  }

 private:
  Network* network_;
  Endpoint self_;
  size_t authorities_;
  uint32_t workers_;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_TRANSPORT_SIM_SIM_TRANSPORT_H_
