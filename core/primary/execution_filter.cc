#include "core/primary/execution_filter.h"

#include "glog/logging.h"

namespace narwhal {

bool ExecutionFilter::Remember(const Digest& digest, Round round) {
  if (!rounds_.emplace(digest, round).second) return false;
  by_round_[round].push_back(digest);
  return true;
}

void ExecutionFilter::Fill(CommittedSubDag& sub) {
  const Round round = sub.leader->round();
  // Commits come in leader-round order: the window only moves forward.
  CHECK_GE(round, last_fill_round_) << "sub-DAG " << sub.index << " committed out of order";
  last_fill_round_ = round;
  for (const CertificatePtr& c : sub.certificates) {
    for (const BatchRef& b : c->header.payload) {
      if (Remember(b.digest, round)) sub.batches.push_back(b);
    }
  }
  while (!by_round_.empty() && by_round_.begin()->first + window_rounds_ < round) {
    for (const Digest& d : by_round_.begin()->second) rounds_.erase(d);
    by_round_.erase(by_round_.begin());
  }
}

}  // namespace narwhal
