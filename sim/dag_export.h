// Writes what authority 0 saw and did as JSON Lines (docs/dag_export.md):
// a meta line, one line per accepted certificate (genesis included), one
// line per commit in commit order.
#ifndef NARWHAL_SIM_DAG_EXPORT_H_
#define NARWHAL_SIM_DAG_EXPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/committee.h"
#include "core/consensus/consensus.h"
#include "core/parameters.h"

namespace narwhal::sim {

class DagExport {
 public:
  void SetMeta(const Committee& committee, const Parameters& params);
  void OnCertificate(const CertificatePtr& cert);
  void OnCommit(const CommittedSubDag& sub);
  absl::Status Write(const std::string& path) const;

 private:
  std::string protocol_;
  std::vector<uint64_t> stakes_;
  Round gc_depth_ = 0;
  size_t nodes_ = 0;
  std::vector<AuthorityIndex> leaders_;  // committee.Leader for round 2k at index k
  Round max_round_ = 0;
  std::vector<std::string> certificate_lines_;
  std::vector<std::string> commit_lines_;
  const Committee* committee_ = nullptr;
};

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_DAG_EXPORT_H_
