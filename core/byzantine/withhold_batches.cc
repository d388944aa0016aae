// withhold_batches: the worker stores and ACKs batches like an honest one
// (so they reach a quorum) but answers every other authority's batch
// request with an empty success: availability must come from the others.
#include "core/byzantine/registry.h"

namespace narwhal::byzantine {
namespace {

class BatchWithholder : public Behavior {
 public:
  bool WithholdBatches(AuthorityIndex self, const Endpoint& from) override { return from.authority != self; }
};

}  // namespace

const Entry& WithholdBatchesEntry() {
  static const Entry e{"withhold_batches", "its worker ACKs batches but never serves them",
                       []() -> std::unique_ptr<Behavior> { return std::make_unique<BatchWithholder>(); }};
  return e;
}

}  // namespace narwhal::byzantine
