#include "sim/dag_export.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace narwhal::sim {

void DagExport::SetMeta(const Committee& committee, const Parameters& params) {
  committee_ = &committee;
  protocol_ = std::string(ConsensusKindName(params.protocol));
  gc_depth_ = params.gc_depth;
  nodes_ = committee.size();
  for (AuthorityIndex a = 0; a < committee.size(); ++a) stakes_.push_back(committee.Stake(a));
}

void DagExport::OnCertificate(const CertificatePtr& c) {
  std::vector<std::string> parents;
  for (const Digest& p : c->parents()) parents.push_back(absl::StrCat("\"", p.Hex(), "\""));
  certificate_lines_.push_back(absl::StrCat("{\"type\":\"certificate\",\"digest\":\"", c->digest.Hex(),
                                            "\",\"round\":", c->round(), ",\"author\":", c->author(),
                                            ",\"parents\":[", absl::StrJoin(parents, ","), "]}"));
  max_round_ = std::max(max_round_, c->round());
}

void DagExport::OnCommit(const CommittedSubDag& sub) {
  std::vector<std::string> certs;
  for (const CertificatePtr& c : sub.certificates) certs.push_back(absl::StrCat("\"", c->digest.Hex(), "\""));
  commit_lines_.push_back(absl::StrCat("{\"type\":\"commit\",\"index\":", sub.index, ",\"leader\":\"",
                                       sub.leader->digest.Hex(), "\",\"certificates\":[",
                                       absl::StrJoin(certs, ","), "]}"));
}

absl::Status DagExport::Write(const std::string& path) const {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot open ", path, " for writing"));
  std::vector<std::string> schedule;
  for (Round r = 2; r <= max_round_; r += 2) {
    schedule.push_back(absl::StrCat("[", r, ",", committee_->Leader(r), "]"));
  }
  out << "{\"type\":\"meta\",\"protocol\":\"" << protocol_ << "\",\"nodes\":" << nodes_
      << ",\"stakes\":[" << absl::StrJoin(stakes_, ",") << "],\"gc_depth\":" << gc_depth_
      << ",\"leader_schedule\":[" << absl::StrJoin(schedule, ",") << "]}\n";
  for (const auto& l : certificate_lines_) out << l << "\n";
  for (const auto& l : commit_lines_) out << l << "\n";
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("writing ", path, " failed"));
  return absl::OkStatus();
}

}  // namespace narwhal::sim
