// Issue 4, the DAG export (JSON Lines of what authority 0 saw and did):
//   - the format: a meta line first (protocol, nodes, stakes, gc_depth,
//     leader_schedule covering every even round 2..max), one certificate line
//     per accepted certificate (genesis included, no duplicates), one commit
//     line per commit in index order;
//   - internal consistency: every commit's leader is a certificate line of an
//     even round led by the scheduled authority, every committed certificate
//     appears, none is committed twice;
//   - it matches the commits: through RunSimulation against the run's
//     figures, and on a cluster driven here against authority 0's own commit
//     stream, its committed-output store rows, and every other node's commits.
// Lines are parsed with protobuf's JSON parser (google.protobuf.Struct), so
// the file is checked to be real JSON, not just the expected substrings.
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "core/store/memory_store.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "sim/cluster.h"
#include "sim/dag_export.h"
#include "sim/simulation.h"

namespace narwhal::sim {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

struct CertLine {
  std::string digest;
  int64_t round = -1;
  int64_t author = -1;
  std::vector<std::string> parents;
};
struct CommitLine {
  int64_t index = -1;
  std::string leader;
  std::vector<std::string> certificates;
};
struct ExportFile {
  std::string protocol;
  int64_t nodes = 0;
  std::vector<int64_t> stakes;
  int64_t gc_depth = -1;
  std::map<int64_t, int64_t> leader_schedule;  // round -> author
  std::vector<CertLine> certificates;
  std::vector<CommitLine> commits;
  std::map<std::string, size_t> cert_by_digest;  // digest -> index in certificates
};

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir ? dir : "/tmp", "/", name);
}

bool IsHexDigest(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Reads an integer field that must be present and integral.
int64_t Int(const Struct& s, const std::string& key, const std::string& where) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || it->second.kind_case() != Value::kNumberValue) {
    ADD_FAILURE() << where << ": missing or non-numeric field '" << key << "'";
    return -1;
  }
  const double v = it->second.number_value();
  EXPECT_EQ(v, static_cast<double>(static_cast<int64_t>(v))) << where << ": " << key << " not an integer";
  return static_cast<int64_t>(v);
}

std::string Str(const Struct& s, const std::string& key, const std::string& where) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || it->second.kind_case() != Value::kStringValue) {
    ADD_FAILURE() << where << ": missing or non-string field '" << key << "'";
    return "";
  }
  return it->second.string_value();
}

const google::protobuf::ListValue* List(const Struct& s, const std::string& key, const std::string& where) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || it->second.kind_case() != Value::kListValue) {
    ADD_FAILURE() << where << ": missing or non-array field '" << key << "'";
    return nullptr;
  }
  return &it->second.list_value();
}

std::vector<std::string> Digests(const Struct& s, const std::string& key, const std::string& where) {
  std::vector<std::string> out;
  const auto* list = List(s, key, where);
  if (list == nullptr) return out;
  for (const Value& v : list->values()) {
    EXPECT_EQ(v.kind_case(), Value::kStringValue) << where << ": " << key;
    EXPECT_TRUE(IsHexDigest(v.string_value())) << where << ": " << key << " entry '" << v.string_value() << "'";
    out.push_back(v.string_value());
  }
  return out;
}

// Parses and checks the format; the order of line types is meta, then
// certificates, then commits.
ExportFile ParseExport(const std::string& path) {
  ExportFile out;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::string line;
  int line_no = 0;
  int phase = 0;  // 0 meta expected, 1 certificates, 2 commits
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = absl::StrCat(path, ":", line_no);
    Struct s;
    auto status = google::protobuf::util::JsonStringToMessage(line, &s);
    if (!status.ok()) {
      ADD_FAILURE() << where << ": not JSON: " << status.ToString() << "\n" << line;
      continue;
    }
    const std::string type = Str(s, "type", where);
    if (line_no == 1) {
      EXPECT_EQ(type, "meta") << where << ": the first line must be the meta line";
      out.protocol = Str(s, "protocol", where);
      out.nodes = Int(s, "nodes", where);
      out.gc_depth = Int(s, "gc_depth", where);
      if (const auto* stakes = List(s, "stakes", where)) {
        for (const Value& v : stakes->values()) out.stakes.push_back(static_cast<int64_t>(v.number_value()));
      }
      if (const auto* sched = List(s, "leader_schedule", where)) {
        for (const Value& v : sched->values()) {
          if (v.kind_case() != Value::kListValue || v.list_value().values_size() != 2) {
            ADD_FAILURE() << where << ": leader_schedule entry is not a [round, author] pair";
            continue;
          }
          const int64_t round = static_cast<int64_t>(v.list_value().values(0).number_value());
          const int64_t author = static_cast<int64_t>(v.list_value().values(1).number_value());
          EXPECT_TRUE(out.leader_schedule.emplace(round, author).second) << where << ": round " << round << " twice";
        }
      }
      phase = 1;
      continue;
    }
    if (type == "certificate") {
      EXPECT_EQ(phase, 1) << where << ": certificate line after a commit line";
      CertLine c;
      c.digest = Str(s, "digest", where);
      EXPECT_TRUE(IsHexDigest(c.digest)) << where;
      c.round = Int(s, "round", where);
      c.author = Int(s, "author", where);
      c.parents = Digests(s, "parents", where);
      EXPECT_TRUE(out.cert_by_digest.emplace(c.digest, out.certificates.size()).second)
          << where << ": certificate " << c.digest << " listed twice";
      out.certificates.push_back(std::move(c));
    } else if (type == "commit") {
      phase = 2;
      CommitLine c;
      c.index = Int(s, "index", where);
      c.leader = Str(s, "leader", where);
      EXPECT_TRUE(IsHexDigest(c.leader)) << where;
      c.certificates = Digests(s, "certificates", where);
      out.commits.push_back(std::move(c));
    } else {
      ADD_FAILURE() << where << ": unknown line type '" << type << "'";
    }
  }
  EXPECT_GE(line_no, 1) << path << " is empty";
  return out;
}

// Everything the export must satisfy on its own.
void CheckConsistent(const ExportFile& e, size_t nodes, const std::string& protocol, Round gc_depth) {
  EXPECT_EQ(e.protocol, protocol);
  EXPECT_EQ(e.nodes, static_cast<int64_t>(nodes));
  EXPECT_EQ(e.stakes, std::vector<int64_t>(nodes, 1));
  EXPECT_EQ(e.gc_depth, static_cast<int64_t>(gc_depth));

  // Certificates: genesis of every authority, one per (round, author), parents
  // of the previous round and present in the file.
  int64_t max_round = 0;
  std::set<std::pair<int64_t, int64_t>> slots;
  int genesis = 0;
  for (const CertLine& c : e.certificates) {
    max_round = std::max(max_round, c.round);
    EXPECT_GE(c.author, 0);
    EXPECT_LT(c.author, static_cast<int64_t>(nodes));
    EXPECT_TRUE(slots.insert({c.round, c.author}).second)
        << "two certificates for author " << c.author << " round " << c.round;
    if (c.round == 0) {
      ++genesis;
      EXPECT_TRUE(c.parents.empty());
      continue;
    }
    EXPECT_GE(c.parents.size() * 3, 2 * nodes + 1) << "certificate " << c.digest << " has too few parents";
    for (const std::string& p : c.parents) {
      auto it = e.cert_by_digest.find(p);
      ASSERT_NE(it, e.cert_by_digest.end()) << "parent " << p << " of " << c.digest << " is not a certificate line";
      EXPECT_EQ(e.certificates[it->second].round, c.round - 1) << "parent round of " << c.digest;
    }
  }
  EXPECT_EQ(genesis, static_cast<int>(nodes)) << "genesis certificates";
  EXPECT_GT(max_round, 10);

  // leader_schedule: exactly the even rounds 2..max_round, each led in turn.
  std::vector<int64_t> expected_rounds, rounds;
  for (int64_t r = 2; r <= max_round; r += 2) expected_rounds.push_back(r);
  for (const auto& [r, a] : e.leader_schedule) {
    rounds.push_back(r);
    EXPECT_EQ(a, (r / 2) % static_cast<int64_t>(nodes)) << "leader of round " << r;
  }
  EXPECT_EQ(rounds, expected_rounds) << "leader_schedule must list every even round 2.." << max_round;

  // Commits: indexes 0.., leaders scheduled and last in their sub-DAG, every
  // committed certificate is a certificate line, none committed twice, and
  // leader rounds increase.
  std::set<std::string> committed;
  int64_t last_leader_round = 0;
  for (size_t i = 0; i < e.commits.size(); ++i) {
    const CommitLine& c = e.commits[i];
    EXPECT_EQ(c.index, static_cast<int64_t>(i)) << "commit lines out of order";
    auto leader = e.cert_by_digest.find(c.leader);
    ASSERT_NE(leader, e.cert_by_digest.end()) << "leader " << c.leader << " of commit " << i << " is not a certificate line";
    const CertLine& lc = e.certificates[leader->second];
    EXPECT_EQ(lc.round % 2, 0) << "leader of commit " << i << " in odd round " << lc.round;
    auto sched = e.leader_schedule.find(lc.round);
    ASSERT_NE(sched, e.leader_schedule.end()) << "round " << lc.round << " missing from leader_schedule";
    EXPECT_EQ(sched->second, lc.author) << "commit " << i << " leader is not the scheduled one";
    EXPECT_GT(lc.round, last_leader_round) << "commit " << i;
    last_leader_round = lc.round;
    ASSERT_FALSE(c.certificates.empty());
    EXPECT_EQ(c.certificates.back(), c.leader) << "the leader comes last in its sub-DAG";
    for (const std::string& d : c.certificates) {
      EXPECT_TRUE(e.cert_by_digest.contains(d)) << "committed certificate " << d << " is not a certificate line";
      EXPECT_TRUE(committed.insert(d).second) << "certificate " << d << " committed twice";
    }
  }
}

SimulationOptions ExportRun(const std::string& protocol, const std::string& path) {
  SimulationOptions o;
  o.cluster.seed = protocol == "tusk" ? 62 : 61;
  o.cluster.nodes = 4;
  o.cluster.params.protocol = *ParseConsensusKind(protocol);
  o.cluster.params.batch_size_bytes = 50'000;
  o.cluster.params.gc_depth = 10;  // garbage-collected rounds must stay in the file
  o.cluster.network.packet_loss_probability = 0.05;
  o.duration_us = 25 * kSecondUs;
  o.drain_us = 8 * kSecondUs;
  o.transactions_per_s = 1000;
  o.export_dag_path = path;
  return o;
}

class SimConsensusDagExportTest : public ::testing::TestWithParam<std::string> {};

// narwhal_sim's export (RunSimulation wiring) against the run's own figures.
TEST_P(SimConsensusDagExportTest, SimulationExportIsConsistentWithTheRun) {
  const std::string protocol = GetParam();
  const std::string path = TmpPath(absl::StrCat("dag_", protocol, ".jsonl"));
  const SimulationOptions o = ExportRun(protocol, path);
  const SimulationResult r = RunSimulation(o);
  ASSERT_TRUE(r.violations.empty()) << r.ToJson();
  const ExportFile e = ParseExport(path);
  CheckConsistent(e, 4, protocol, 10);

  // Authority 0 was up the whole run: it committed every index someone
  // committed (at most a couple still in flight at the end).
  ASSERT_GT(r.committed_sub_dags, 10u);
  EXPECT_LE(e.commits.size(), r.committed_sub_dags);
  EXPECT_GE(e.commits.size() + 2, r.committed_sub_dags) << r.ToJson();
  uint64_t certs = 0;
  for (const CommitLine& c : e.commits) certs += c.certificates.size();
  if (e.commits.size() == r.committed_sub_dags) {
    EXPECT_EQ(certs, r.committed_certificates);
    const CommitLine& last = e.commits.back();
    EXPECT_EQ(static_cast<uint64_t>(e.certificates[e.cert_by_digest.at(last.leader)].round),
              r.last_committed_round);
  }
  // Garbage collection ran (gc_depth 10), yet rounds far below the last
  // commit are still in the file.
  EXPECT_GT(r.last_committed_round, 40u);
  std::set<int64_t> rounds;
  for (const CertLine& c : e.certificates) rounds.insert(c.round);
  for (int64_t round = 0; round <= static_cast<int64_t>(r.last_committed_round); ++round) {
    EXPECT_TRUE(rounds.contains(round)) << "no certificate of round " << round << " in the export";
  }
}

// A cluster driven here with the same DagExport fed from authority 0's
// observers, and authority 2 crashed and restarted on the way (briefly: a
// node down for more rounds than gc_depth does not catch up, see
// sim_durability_recovery_test's catch-up tests): the export's
// commit lines equal authority 0's commit stream, the committed output in its
// store, and (on the common prefix) every other node's commits.
TEST_P(SimConsensusDagExportTest, ExportEqualsEveryNodesCommitsAndTheStore) {
  const std::string protocol = GetParam();
  ClusterOptions co;
  co.seed = protocol == "tusk" ? 72 : 71;
  co.nodes = 4;
  co.params.protocol = *ParseConsensusKind(protocol);
  co.params.gc_depth = 10;
  co.network.packet_loss_probability = 0.05;

  std::unique_ptr<Cluster> cluster;
  DagExport dag_export;
  std::map<AuthorityIndex, std::vector<CommitLine>> seen;  // per node, from on_commit
  Cluster::Observers obs;
  obs.on_commit = [&](AuthorityIndex a, const CommittedSubDag& sub) {
    if (a == 0) dag_export.OnCommit(sub);
    CommitLine c;
    c.index = static_cast<int64_t>(sub.index);
    c.leader = sub.leader->digest.Hex();
    for (const CertificatePtr& cert : sub.certificates) c.certificates.push_back(cert->digest.Hex());
    seen[a].push_back(std::move(c));
  };
  obs.on_certificate = [&](AuthorityIndex a, const CertificatePtr& c) {
    if (a == 0) dag_export.OnCertificate(c);
  };
  cluster = std::make_unique<Cluster>(co, [] { return std::make_unique<MemoryStore>(); }, obs);
  dag_export.SetMeta(cluster->committee(), co.params);
  cluster->Start();
  for (const Certificate& g : Certificate::GenesisSet(cluster->committee())) {
    dag_export.OnCertificate(std::make_shared<const Certificate>(g));
  }
  // A light load so that sub-DAGs carry batches.
  uint64_t tx_id = 0;
  std::function<void()> tick = [&] {
    for (AuthorityIndex a = 0; a < 4; ++a) {
      if (!cluster->IsUp(a)) continue;
      std::string tx(200, 'x');
      for (int i = 0; i < 8; ++i) tx[i] = static_cast<char>(tx_id >> (8 * i));
      ++tx_id;
      (void)cluster->worker(a, 0)->SubmitTransaction(tx);
    }
    if (cluster->scheduler().NowUs() < 15 * kSecondUs) cluster->scheduler().Schedule(20 * kMillisecondUs, tick);
  };
  tick();
  cluster->scheduler().ScheduleAt(6 * kSecondUs, [&] { cluster->Crash(2); });
  cluster->scheduler().ScheduleAt(6 * kSecondUs + 400 * kMillisecondUs, [&] { cluster->Restart(2); });
  cluster->scheduler().RunUntil(25 * kSecondUs);

  const std::string path = TmpPath(absl::StrCat("dag_cluster_", protocol, ".jsonl"));
  ASSERT_TRUE(dag_export.Write(path).ok());
  const ExportFile e = ParseExport(path);
  CheckConsistent(e, 4, protocol, 10);
  ASSERT_GT(e.commits.size(), 10u);

  auto same = [](const CommitLine& x, const CommitLine& y) {
    return x.index == y.index && x.leader == y.leader && x.certificates == y.certificates;
  };
  // Authority 0's commit stream.
  ASSERT_EQ(e.commits.size(), seen[0].size());
  for (size_t i = 0; i < e.commits.size(); ++i) EXPECT_TRUE(same(e.commits[i], seen[0][i])) << "index " << i;

  // Authority 0's committed output in its store, decoded.
  auto rows = cluster->primary_store(0)->CommittedFrom(0, 1 << 20);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), e.commits.size());
  for (size_t i = 0; i < rows->size(); ++i) {
    wire::CommittedSubDag w;
    ASSERT_TRUE(w.ParseFromString((*rows)[i].sub_dag)) << "row " << i;
    CommitLine c;
    c.index = static_cast<int64_t>(w.index());
    EXPECT_EQ((*rows)[i].index, w.index());
    auto leader = Digest::FromBytes(w.leader());
    ASSERT_TRUE(leader.ok());
    c.leader = leader->Hex();
    for (const wire::Certificate& wc : w.certificates()) {
      auto cert = Certificate::FromWire(wc);
      ASSERT_TRUE(cert.ok()) << cert.status();
      c.certificates.push_back(cert->digest.Hex());
    }
    EXPECT_TRUE(same(e.commits[i], c)) << "store row " << i << " differs from the export";
  }

  // Every node, the restarted one included, on the common prefix; each made
  // real progress.
  for (AuthorityIndex a = 1; a < 4; ++a) {
    const auto& s = seen[a];
    EXPECT_GE(s.size() + 3, e.commits.size()) << "authority " << a << " fell behind";
    for (size_t i = 0; i < std::min(s.size(), e.commits.size()); ++i) {
      EXPECT_EQ(s[i].index, static_cast<int64_t>(i)) << "authority " << a;
      EXPECT_TRUE(same(e.commits[i], s[i])) << "authority " << a << " index " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Protocols, SimConsensusDagExportTest, ::testing::Values("bullshark", "tusk"));

}  // namespace
}  // namespace narwhal::sim
