// What a node reads back from its own store (core/store/store.h) after a
// restart: the consensus state (core/consensus/commit_state.h), executed
// rows (wire::ExecutedSubDag, written by EncodeExecutedRow in
// core/execution, read by the output server and by peers' batch requests),
// and committed sub-DAG rows fed to the executor
// (Executor::OnCommittedRow). Stored certificates and headers are the
// `dag` harness's.
//
// Input: byte 0 picks the decoder (mod 6):
//  0  CommitState::Parse of the rest (committee size and gc_depth from
//     bytes 1-2): ok only for the exact text Serialize writes for a
//     consistent state; a refusal is InvalidArgument naming the state;
//  1  CommitState built from the input by the consensus calls
//     (RecordCertificate, RecordLeader), serialized, parsed: the same state;
//  2  an executed row from the rest: protobuf reads it; if its digests are
//     digests, EncodeExecutedRow writes exactly protobuf's bytes for it;
//  3  an executed row built by EncodeExecutedRow from the input: protobuf
//     reads back every field, and writes the same bytes;
//  4  a committed sub-DAG row from the rest, fed to a fresh Executor: OK or
//     DataLoss (never a crash); when OK and the row needs no batch, the
//     executed row names its certificates in order, leader last;
//  5  a primary's restart: a consensus state and stored certificates
//     (Certificate::Parse of length-prefixed chunks) given to
//     Consensus::Restore: on error nothing changed; on success the state
//     reads back as given (Restore never commits); then the certificates
//     fed again commit sub-DAGs with consecutive indexes from there, each
//     leader last and of the highest round.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "core/batch.h"
#include "core/committee.h"
#include "core/consensus/commit_state.h"
#include "core/consensus/consensus.h"
#include "core/consensus/make_consensus.h"
#include "core/dag.h"
#include "core/execution/executor.h"
#include "core/messages.pb.h"
#include "core/net/messenger.h"
#include "core/parameters.h"
#include "core/store/memory_store.h"
#include "fuzz/fake_env.h"
#include "fuzz/harness.h"
#include "glog/logging.h"
#include "google/protobuf/util/message_differencer.h"

namespace narwhal::fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;

void CheckSameState(const CommitState& a, const CommitState& b, size_t n) {
  CHECK_EQ(a.last_committed_round(), b.last_committed_round());
  CHECK_EQ(a.next_index(), b.next_index());
  CHECK_EQ(a.gc_round(), b.gc_round());
  for (AuthorityIndex author = 0; author < n; ++author) {
    CHECK_EQ(a.last_committed(author), b.last_committed(author));
    const Round top = a.last_committed_round() + 2;
    for (Round r = top > 200 ? top - 200 : 0; r <= top; ++r) {
      CHECK_EQ(a.IsCommitted(author, r), b.IsCommitted(author, r)) << "author " << author << " round " << r;
    }
  }
}

void RunParseState(Input& in) {
  const size_t n = 1 + in.U8() % 7;
  const Round gc_depth = 4 + in.U8() % 60;
  const std::string_view text = in.Rest();
  auto s = CommitState::Parse(text, n, gc_depth);
  if (!s.ok()) {
    CHECK(s.status().code() == absl::StatusCode::kInvalidArgument) << s.status();
    CHECK(absl::StartsWith(s.status().message(), "consensus state: ")) << s.status();
    return;
  }
  CHECK(s->Serialize() == text) << "accepted a state that is not in canonical form";
  CHECK_EQ(s->committee_size(), n);
  CHECK_LE(s->gc_round(), s->last_committed_round());
  for (AuthorityIndex a = 0; a < n; ++a) CHECK_LE(s->last_committed(a), s->last_committed_round());
  auto again = CommitState::Parse(s->Serialize(), n, gc_depth);
  CHECK(again.ok());
  CheckSameState(*s, *again, n);
}

void RunBuildState(Input& in) {
  const size_t n = 1 + in.U8() % 7;
  const Round gc_depth = 4 + in.U8() % 60;
  CommitState s(n, gc_depth);
  for (int sub_dags = 0; sub_dags < 64 && !in.empty(); ++sub_dags) {
    // One sub-DAG: certificates above the GC round, not committed before,
    // at or below the new leader's round; then the leader.
    const Round leader_round = s.last_committed_round() + 1 + in.U8() % 6;
    const Round gc = s.gc_round();
    const int certificates = in.U8() % 8;
    for (int i = 0; i < certificates; ++i) {
      const AuthorityIndex author = in.U8() % n;
      const Round round = gc + 1 + in.U8() % (leader_round - gc);
      if (s.IsCommitted(author, round)) continue;
      s.RecordCertificate(author, round);
      CHECK(s.IsCommitted(author, round));
    }
    const uint64_t index = s.next_index();
    CHECK_EQ(s.RecordLeader(leader_round), index);
    CHECK_EQ(s.last_committed_round(), leader_round);
  }
  const std::string text = s.Serialize();
  auto parsed = CommitState::Parse(text, n, gc_depth);
  CHECK(parsed.ok()) << "a state the consensus made does not parse: " << parsed.status() << "\n" << text;
  CheckSameState(s, *parsed, n);
  CHECK(parsed->Serialize() == text);
  CHECK(!CommitState::Parse(text, n + 1, gc_depth).ok()) << "a state for another committee size was accepted";
}

// The views EncodeExecutedRow takes, for a parsed row; false if a digest
// field is not a digest.
bool Views(const wire::ExecutedSubDag& row, Digest* leader, std::vector<ExecutedCertificateView>* out) {
  auto l = Digest::FromBytes(row.leader());
  if (!l.ok()) return false;
  *leader = *l;
  for (const wire::ExecutedCertificate& c : row.certificates()) {
    auto d = Digest::FromBytes(c.digest());
    if (!d.ok()) return false;
    ExecutedCertificateView v{*d, c.author(), c.round(), {}};
    for (const wire::ExecutedBatch& b : c.batches()) {
      auto bd = Digest::FromBytes(b.digest());
      if (!bd.ok()) return false;
      v.batches.push_back({BatchRef{*bd, b.worker_id()}, std::make_shared<const std::string>(b.batch())});
    }
    out->push_back(std::move(v));
  }
  return true;
}

void RunExecutedRow(std::string_view bytes) {
  wire::ExecutedSubDag row;
  if (!row.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  // What the output server does with each batch: decode it or refuse.
  for (const auto& c : row.certificates()) {
    for (const auto& b : c.batches()) {
      auto txs = DecodeBatch(b.batch(), b.batch().size(), b.batch().size());
      if (!txs.ok()) CHECK(!txs.status().message().empty());
    }
  }
  Digest leader;
  std::vector<ExecutedCertificateView> views;
  if (!Views(row, &leader, &views)) return;
  wire::ExecutedSubDag known = row;
  known.DiscardUnknownFields();
  const std::string encoded = EncodeExecutedRow(row.index(), leader, row.leader_round(), views);
  CHECK(encoded == known.SerializeAsString()) << "EncodeExecutedRow does not write what protobuf writes";
  wire::ExecutedSubDag back;
  CHECK(back.ParseFromString(encoded));
  CHECK(MessageDifferencer::Equals(back, known));
}

void RunEncodeExecuted(Input& in) {
  const uint64_t index = in.U64();
  const Round leader_round = in.U8() == 0 ? 0 : in.U64();
  const Digest leader = BatchDigest(in.ShortBytes());
  std::vector<ExecutedCertificateView> views(in.U8() % 5);
  for (auto& v : views) {
    v.digest = BatchDigest(in.ShortBytes());
    v.author = in.U8() % 3 == 0 ? 0 : in.U32();
    v.round = in.U8() % 3 == 0 ? 0 : in.U64();
    const int batches = in.U8() % 4;
    for (int i = 0; i < batches; ++i) {
      auto bytes = std::make_shared<const std::string>(in.ShortBytes());
      v.batches.push_back({BatchRef{BatchDigest(*bytes), in.U8() % 2 == 0 ? 0 : in.U32()}, bytes});
    }
  }
  const std::string encoded = EncodeExecutedRow(index, leader, leader_round, views);
  wire::ExecutedSubDag row;
  CHECK(row.ParseFromString(encoded));
  CHECK_EQ(row.index(), index);
  CHECK(row.leader() == leader.ToBytes());
  CHECK_EQ(row.leader_round(), leader_round);
  CHECK_EQ(row.certificates_size(), static_cast<int>(views.size()));
  for (size_t i = 0; i < views.size(); ++i) {
    const auto& c = row.certificates(static_cast<int>(i));
    CHECK(c.digest() == views[i].digest.ToBytes());
    CHECK_EQ(c.author(), views[i].author);
    CHECK_EQ(c.round(), views[i].round);
    CHECK_EQ(c.batches_size(), static_cast<int>(views[i].batches.size()));
    for (size_t j = 0; j < views[i].batches.size(); ++j) {
      const auto& b = c.batches(static_cast<int>(j));
      CHECK(b.digest() == views[i].batches[j].first.digest.ToBytes());
      CHECK_EQ(b.worker_id(), views[i].batches[j].first.worker_id);
      CHECK(b.batch() == *views[i].batches[j].second);
    }
  }
  CHECK(row.SerializeAsString() == encoded);
}

Committee FourEqual() {
  std::vector<PublicKey> keys(4);
  for (size_t i = 0; i < keys.size(); ++i) keys[i][0] = static_cast<uint8_t>(i + 1);
  return Committee::ForTest(keys, std::vector<uint64_t>(4, 1), 1);
}

void RunCommittedRow(std::string_view bytes) {
  static const Committee committee = FourEqual();
  static const Parameters params;
  FakeEnv fe(Endpoint::Primary(0), 3);
  MemoryStore store;
  Env env = fe.env(&store);
  Messenger messenger(env, MessengerOptions{});
  Executor executor(env, committee, params, /*self=*/0, &messenger);
  CHECK(executor.Recover().ok());
  const absl::Status s = executor.OnCommittedRow(std::string(bytes), /*prune_floor=*/0);
  if (!s.ok()) {
    CHECK(s.code() == absl::StatusCode::kDataLoss) << s;
    CHECK_EQ(executor.pending_sub_dags(), 0u);
    return;
  }
  wire::CommittedSubDag row;
  CHECK(row.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  CHECK_GT(row.certificates_size(), 0);
  if (row.batches_size() > 0) return;  // waits for batches it cannot get here
  CHECK_EQ(executor.pending_sub_dags(), 0u);
  auto rows = store.ExecutedFrom(0, 10);
  CHECK(rows.ok() && rows->size() == 1u);
  CHECK_EQ((*rows)[0].index, row.index());
  wire::ExecutedSubDag executed;
  CHECK(executed.ParseFromString(*(*rows)[0].row));
  CHECK_EQ(executed.index(), row.index());
  CHECK_EQ(executed.certificates_size(), row.certificates_size());
  for (int i = 0; i < row.certificates_size(); ++i) {
    auto c = Certificate::FromWire(row.certificates(i));
    CHECK(c.ok());
    CHECK(executed.certificates(i).digest() == c->digest.ToBytes());
    CHECK_EQ(executed.certificates(i).author(), c->author());
    CHECK_EQ(executed.certificates(i).round(), c->round());
    if (i + 1 == row.certificates_size()) {
      CHECK(executed.leader() == c->digest.ToBytes()) << "the leader is the last certificate";
      CHECK_EQ(executed.leader_round(), c->round());
    }
  }
}

void RunRestore(Input& in) {
  static const Committee committee = FourEqual();
  const ConsensusKind kind = in.Bool() ? ConsensusKind::kTusk : ConsensusKind::kBullshark;
  ConsensusOptions options;
  options.gc_depth = 4 + in.U8() % 20;
  const size_t state_size = in.U8() | (size_t{in.U8()} << 8);
  const std::string state(in.Bytes(state_size));
  std::vector<CertificatePtr> certificates;
  while (!in.empty()) {
    const size_t size = in.U8() | (size_t{in.U8()} << 8);
    auto c = Certificate::Parse(in.Bytes(size));
    if (c.ok()) certificates.push_back(std::make_shared<const Certificate>(*std::move(c)));
  }
  std::unique_ptr<Consensus> consensus = MakeConsensus(kind, committee, options);
  const std::string fresh = consensus->SerializeState();
  const absl::Status restored = consensus->Restore(state, certificates);
  if (!restored.ok()) {
    CHECK(!restored.message().empty());
    CHECK(consensus->SerializeState() == fresh) << "a failed Restore changed the state";
    return;
  }
  CHECK(consensus->SerializeState() == state) << "Restore committed something, or the state is not canonical";
  auto parsed = CommitState::Parse(state, committee.size(), options.gc_depth);
  CHECK(parsed.ok());
  uint64_t next = parsed->next_index();
  Round last = parsed->last_committed_round();
  for (const CertificatePtr& c : certificates) {
    for (const CommittedSubDag& sub : consensus->ProcessCertificate(c)) {
      CHECK_EQ(sub.index, next) << "committed indexes must follow the restored state";
      ++next;
      CHECK(sub.leader != nullptr && !sub.certificates.empty() && sub.certificates.back() == sub.leader);
      CHECK_GT(sub.leader->round(), last) << "leaders commit in increasing rounds";
      last = sub.leader->round();
      for (const CertificatePtr& x : sub.certificates) CHECK_LE(x->round(), sub.leader->round());
    }
  }
  CHECK_EQ(consensus->last_committed_round(), last);
}

void Run(std::string_view data) {
  Input in(data);
  switch (in.U8() % 6) {
    case 0: return RunParseState(in);
    case 1: return RunBuildState(in);
    case 2: return RunExecutedRow(in.Rest());
    case 3: return RunEncodeExecuted(in);
    case 4: return RunCommittedRow(in.Rest());
    default: return RunRestore(in);
  }
}

// ---- seeds ----

std::string Tagged(uint8_t tag, std::string_view rest) { return std::string(1, static_cast<char>(tag)) + std::string(rest); }

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  CommitState s(4, 10);
  s.RecordCertificate(0, 1);
  s.RecordCertificate(1, 2);
  s.RecordCertificate(2, 2);
  s.RecordLeader(2);
  s.RecordCertificate(3, 4);
  s.RecordCertificate(0, 4);
  s.RecordLeader(4);
  out.push_back({"state_parse", Tagged(0, std::string("\x03\x06", 2) + s.Serialize())});  // n = 4, gc_depth = 10
  out.push_back({"state_parse_fresh", Tagged(0, std::string("\x03\x06", 2) + CommitState(4, 10).Serialize())});
  out.push_back({"state_build", Tagged(1, std::string("\x03\x06\x01\x03\x00\x00\x01\x01\x02\x04\x02\x00\x03\x01", 14))});
  // Executed rows as the executor writes them.
  BatchBuilder b;
  b.Add("tx one");
  b.Add("tx two");
  auto batch = std::make_shared<const std::string>(b.Seal());
  std::vector<ExecutedCertificateView> views(2);
  views[0] = {BatchDigest("c0"), 1, 3, {{BatchRef{BatchDigest(*batch), 0}, batch}}};
  views[1] = {BatchDigest("c1"), 2, 4, {}};
  out.push_back({"executed_row", Tagged(2, EncodeExecutedRow(7, BatchDigest("c1"), 4, views))});
  out.push_back({"executed_row_empty", Tagged(2, EncodeExecutedRow(0, BatchDigest("c"), 2, {}))});
  out.push_back({"executed_encode", Tagged(3, "\x07\x01\x02\x03\x04\x05\x06\x07\x08\x05" "leader\x02\x02" "c0\x07\x09\x02\x05" "hello")});
  // Committed rows as the primary stores them.
  Certificate c;
  c.header.author = 1;
  c.header.round = 2;
  c.header.payload.push_back({BatchDigest(*batch), 0});
  for (AuthorityIndex a = 0; a < 4; ++a) c.header.parents.push_back(Certificate::Genesis(a).digest);
  std::sort(c.header.parents.begin(), c.header.parents.end());
  c.votes = {{0, Signature{}}, {2, Signature{}}, {3, Signature{}}};
  c.Seal();
  wire::CommittedSubDag row;
  row.set_index(5);
  row.set_leader(c.digest.ToBytes());
  *row.add_certificates() = c.ToWire();
  out.push_back({"committed_row_no_batches", Tagged(4, row.SerializeAsString())});
  auto* ref = row.add_batches();
  ref->set_digest(BatchDigest(*batch).ToBytes());
  out.push_back({"committed_row", Tagged(4, row.SerializeAsString())});
  // A restart: the state after nothing was committed, and rounds 1-3 of a
  // full DAG (round 2's leader gets its votes at round 3).
  const CommitState empty(4, 10);
  std::string restore = std::string("\x00\x06", 2);  // bullshark, gc_depth 10
  const std::string text = empty.Serialize();
  restore += std::string{static_cast<char>(text.size() & 0xff), static_cast<char>(text.size() >> 8)} + text;
  std::vector<Digest> previous;
  for (AuthorityIndex a = 0; a < 4; ++a) previous.push_back(Certificate::Genesis(a).digest);
  for (Round r = 1; r <= 3; ++r) {
    std::vector<Digest> current;
    for (AuthorityIndex a = 0; a < 4; ++a) {
      Certificate x;
      x.header.author = a;
      x.header.round = r;
      x.header.parents = previous;
      std::sort(x.header.parents.begin(), x.header.parents.end());
      x.Seal();
      current.push_back(x.digest);
      const std::string bytes = x.ToWire().SerializeAsString();
      restore += std::string{static_cast<char>(bytes.size() & 0xff), static_cast<char>(bytes.size() >> 8)} + bytes;
    }
    previous = current;
  }
  out.push_back({"restore", Tagged(5, restore)});
  return out;
}

}  // namespace

extern const Harness kStoreRowsHarness = {"store_rows", &Run, &Seeds};

}  // namespace narwhal::fuzz
