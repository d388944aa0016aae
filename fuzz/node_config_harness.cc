// The node's committee/config file and key file (node/node_config.h:
// LoadConfig, LoadKeys, with their strict JSON syntax check) and --role.
//
// Input: byte 0 picks the file kind (bit 0: 0 config, 1 key file; the next
// bits pick the --role tried on a loaded config), the rest is the file.
// Checks:
//  - a refused file gets InvalidArgument (or NotFound/PermissionDenied for
//    I/O) whose message starts with the file's path; a JSON syntax error
//    names a line and column that exist in the file;
//  - a loaded config is what the node relies on: a committee of at least one
//    authority, positive stakes whose total fits and whose quorum threshold
//    is more than 2/3 of the total (and at most the total), the same number
//    of workers everywhere, addresses present and distinct, 32-byte network
//    keys, one per authority and distinct; every parameter means what the
//    file says (Parameters::ToProto gives back each value set, so no unit
//    conversion overflowed), and the retry schedule it implies has waits
//    between 1 us and retry_max_interval_ms (+ jitter);
//  - a loaded config printed as JSON (ToJson) loads back to the same
//    config; the same for a key file;
//  - a loaded key file's public keys are the ones its secrets derive, and
//    it signs and verifies.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <cmath>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/net/retry.h"
#include "core/random.h"
#include "fuzz/harness.h"
#include "glog/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "node/node_config.h"

namespace narwhal::fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;
using node::LoadConfig;
using node::LoadedConfig;
using node::LoadKeys;
using node::NodeKeys;

const std::string& Dir() {
  static const std::string dir = [] {
    // Memory-backed when there is a choice: every input is written to a file.
    const char* base = std::getenv("TEST_TMPDIR");
    struct stat st;
    const std::string root = base != nullptr ? base : stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
    std::string d = absl::StrCat(root, "/narwhal-fuzz-config-", getpid());
    CHECK(mkdir(d.c_str(), 0700) == 0 || errno == EEXIST) << d;
    return d;
  }();
  return dir;
}

std::string WriteInput(const std::string& name, std::string_view content) {
  const std::string path = absl::StrCat(Dir(), "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  CHECK(out.good()) << path;
  out.close();
  CHECK_EQ(chmod(path.c_str(), 0600), 0);  // key files must not be readable by others
  return path;
}

void CheckRefusal(const absl::Status& s, const std::string& path, std::string_view text) {
  CHECK(!s.ok());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument) << s;
  CHECK(absl::StartsWith(s.message(), path + ": ")) << "error does not name the file: " << s;
  const std::string syntax = path + ": not valid JSON: line ";
  if (!absl::StartsWith(s.message(), syntax)) return;
  // "line L, column C: ..." must point into the file.
  std::vector<absl::string_view> words = absl::StrSplit(s.message().substr(syntax.size()), ' ');
  CHECK_GE(words.size(), 3u) << s;
  int line = 0, column = 0;
  CHECK(absl::SimpleAtoi(absl::StripSuffix(words[0], ","), &line) && absl::SimpleAtoi(absl::StripSuffix(words[2], ":"), &column)) << s;
  std::vector<absl::string_view> lines = absl::StrSplit(absl::string_view(text.data(), text.size()), '\n');
  CHECK(line >= 1 && static_cast<size_t>(line) <= lines.size()) << s;
  CHECK(column >= 1 && static_cast<size_t>(column) <= lines[line - 1].size() + 1) << s;
}

unsigned __int128 Wide(uint64_t v) { return v; }

void CheckParameters(const config::Parameters& file, const Parameters& p) {
  const config::Parameters back = p.ToProto();
  // Every field the file sets (non-zero) must come back as written.
  const auto* d = file.GetDescriptor();
  const auto* r = file.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (!r->HasField(file, f)) continue;
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        CHECK_EQ(r->GetUInt64(file, f), r->GetUInt64(back, f)) << "parameters." << f->name() << " is not what the file says";
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE: {
        const double a = r->GetDouble(file, f), b = r->GetDouble(back, f);
        CHECK(a == b) << "parameters." << f->name() << ": " << a << " became " << b;
        break;
      }
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
        CHECK_EQ(r->GetString(file, f), r->GetString(back, f)) << "parameters." << f->name();
        break;
      default:
        break;
    }
  }
  CHECK_GE(p.max_batch_delay_us, 0);
  CHECK_GE(p.max_header_delay_us, 0);
  CHECK_GE(p.sync_retry_delay_us, 0);
  CHECK_GE(p.leader_timeout_us, 0);
  CHECK_GE(p.gc_depth, 4u);
  CHECK(Wide(p.state_sync_retention) >= 2 * Wide(p.gc_depth) + 2) << "state_sync_retention check overflowed";
  CHECK(Wide(p.max_transaction_size_bytes) <= Wide(p.batch_size_bytes) * 4 + 1024 * 1024)
      << "max_transaction_size_bytes check overflowed";
  // The retry schedule these parameters give.
  const RetryConfig& retry = p.retry;
  CHECK_GT(retry.initial_interval_us, 0);
  CHECK_GE(retry.max_interval_us, retry.initial_interval_us);
  CHECK(std::isfinite(retry.multiplier) && retry.multiplier >= 1) << retry.multiplier;
  CHECK(std::isfinite(retry.randomization_factor) && retry.randomization_factor >= 0 && retry.randomization_factor < 1);
  if (retry.max_elapsed_us.has_value()) CHECK_GE(*retry.max_elapsed_us, 0);
  Backoff backoff(retry);
  Random random(1);
  const double most = static_cast<double>(retry.max_interval_us) * (1 + retry.randomization_factor) + 1;
  for (int i = 0; i < 80; ++i) {
    const TimeUs wait = backoff.Next(random);
    CHECK(wait >= 1 && static_cast<double>(wait) <= most) << "retry wait " << wait << " at attempt " << i;
  }
}

void CheckConfig(const LoadedConfig& c) {
  const config::Committee& proto = c.proto.committee();
  const Committee& committee = c.committee;
  CHECK_GE(committee.size(), 1u);
  CHECK_EQ(committee.size(), static_cast<size_t>(proto.authorities_size()));
  unsigned __int128 total = 0;
  std::set<std::string> addresses;
  for (AuthorityIndex i = 0; i < committee.size(); ++i) {
    const AuthorityEntry& a = committee.authority(i);
    CHECK_GT(a.stake, 0u);
    total += a.stake;
    CHECK_EQ(a.workers.size(), committee.workers_per_authority());
    for (const std::string& address : {a.primary_address, a.output_address}) {
      CHECK(!address.empty() && addresses.insert(address).second) << address;
    }
    for (const auto& w : a.workers) {
      CHECK(!w.address().empty() && addresses.insert(w.address()).second);
      CHECK(!w.transactions_address().empty() && addresses.insert(w.transactions_address()).second);
    }
    CHECK_EQ(c.curve_public_keys.at(i).size(), 32u);
    for (AuthorityIndex j = 0; j < i; ++j) CHECK(c.curve_public_keys.at(i) != c.curve_public_keys.at(j));
  }
  CHECK_EQ(c.curve_public_keys.size(), committee.size());
  CHECK(total == committee.TotalStake()) << "total stake overflowed";
  // Any two quorums must share more than a third of the stake.
  const unsigned __int128 quorum = committee.QuorumThreshold();
  CHECK(3 * quorum > 2 * total && quorum <= total)
      << "quorum threshold " << committee.QuorumThreshold() << " for a total stake of " << committee.TotalStake();
  const unsigned __int128 validity = committee.ValidityThreshold();
  CHECK(3 * validity >= total && validity <= total) << "validity threshold " << committee.ValidityThreshold();
  CheckParameters(c.proto.parameters(), c.parameters);
}

void RunConfig(std::string_view text, uint8_t role_byte) {
  const std::string path = WriteInput("committee.json", text);
  absl::StatusOr<LoadedConfig> c = LoadConfig(path);
  if (!c.ok()) {
    CheckRefusal(c.status(), path, text);
    return;
  }
  CheckConfig(*c);
  // Printed and read back: the same config.
  const std::string path2 = WriteInput("committee-again.json", node::ToJson(c->proto));
  absl::StatusOr<LoadedConfig> again = LoadConfig(path2);
  CHECK(again.ok()) << "a loaded config does not load after ToJson: " << again.status();
  CHECK(MessageDifferencer::Equals(c->proto, again->proto));
  CHECK(c->curve_public_keys == again->curve_public_keys);
  CHECK(MessageDifferencer::Equals(c->parameters.ToProto(), again->parameters.ToProto()));
  // --role on it: never a crash, a worker id in range when accepted.
  const std::string roles[] = {"primary", "all", absl::StrCat("worker:", role_byte >> 2), "worker:-1", "worker:x", "workers"};
  const std::string& role = roles[(role_byte >> 1) % 6];
  auto spec = node::ParseRole(role, *c, 0);
  if (spec.ok()) {
    for (WorkerId w : spec->workers) CHECK_LT(w, c->committee.workers_per_authority());
  }
}

void RunKeys(std::string_view text) {
  const std::string path = WriteInput("key.json", text);
  absl::StatusOr<NodeKeys> k = LoadKeys(path);
  if (!k.ok()) {
    CheckRefusal(k.status(), path, text);
    return;
  }
  CHECK(k->signing.scheme == SignatureScheme::kEd25519);
  std::array<uint8_t, 32> seed{};
  std::copy(k->signing.secret_key.begin(), k->signing.secret_key.begin() + 32, seed.begin());
  CHECK(KeyPair::FromSeed(SignatureScheme::kEd25519, seed).public_key == k->signing.public_key);
  const Signature sig = k->signing.Sign("narwhal fuzz");
  CHECK(Verify(SignatureScheme::kEd25519, k->signing.public_key, "narwhal fuzz", sig));
  CHECK_EQ(k->curve.secret_key.size(), 32u);
  auto derived = CurvePublicFromSecret(k->curve.secret_key);
  CHECK(derived.ok() && *derived == k->curve.public_key);
  // Written out as a key file and loaded again: the same keys.
  node::KeyFile file;
  file.set_ed25519_seed(HexEncode(std::string_view(reinterpret_cast<const char*>(seed.data()), 32)));
  file.set_ed25519_public_key(PublicKeyHex(k->signing.public_key));
  file.set_curve_secret_key(*Z85Encode(k->curve.secret_key));
  file.set_curve_public_key(*Z85Encode(k->curve.public_key));
  const std::string path2 = WriteInput("key-again.json", node::ToJson(file));
  absl::StatusOr<NodeKeys> again = LoadKeys(path2);
  CHECK(again.ok()) << again.status();
  CHECK(again->signing.public_key == k->signing.public_key);
  CHECK(again->signing.secret_key == k->signing.secret_key);
  CHECK(again->curve.secret_key == k->curve.secret_key && again->curve.public_key == k->curve.public_key);
}

void Run(std::string_view data) {
  Input in(data);
  const uint8_t kind = in.U8();
  const std::string_view text = in.Rest();
  if (kind & 1) {
    RunKeys(text);
  } else {
    RunConfig(text, kind);
  }
}

// ---- seeds: files as `narwhal_node keygen` and `committee` write them ----

node::KeyFile MakeKeyFile(uint8_t i) {
  std::array<uint8_t, 32> seed{};
  seed[0] = i;
  const KeyPair kp = KeyPair::FromSeed(SignatureScheme::kEd25519, seed);
  const std::string curve_secret(32, static_cast<char>('A' + i));
  node::KeyFile f;
  f.set_ed25519_seed(HexEncode(std::string_view(reinterpret_cast<const char*>(seed.data()), 32)));
  f.set_ed25519_public_key(PublicKeyHex(kp.public_key));
  f.set_curve_secret_key(*Z85Encode(curve_secret));
  f.set_curve_public_key(*Z85Encode(*CurvePublicFromSecret(curve_secret)));
  return f;
}

std::vector<Seed> Seeds() {
  std::vector<Seed> out;
  node::CommitteeSpec spec;
  spec.nodes = 4;
  spec.workers = 1;
  spec.base_port = 21000;
  for (uint8_t i = 0; i < 4; ++i) spec.keys.push_back(MakeKeyFile(i));
  out.push_back({"committee4", std::string(1, '\0') + node::ToJson(*node::MakeCommittee(spec))});
  spec.nodes = 1;
  spec.workers = 2;
  spec.keys.resize(1);
  spec.parameters.set_gc_depth(10);
  spec.parameters.set_max_batch_delay_ms(5);
  spec.parameters.set_retry_multiplier(2.0);
  spec.parameters.set_protocol("tusk");
  out.push_back({"committee1_params", std::string(1, '\4') + node::ToJson(*node::MakeCommittee(spec))});
  out.push_back({"key0", std::string(1, '\1') + node::ToJson(MakeKeyFile(0))});
  node::KeyFile no_public = MakeKeyFile(1);
  no_public.clear_curve_public_key();
  no_public.clear_ed25519_public_key();
  out.push_back({"key1_secrets_only", std::string(1, '\1') + node::ToJson(no_public)});
  out.push_back({"trailing_comma", std::string(1, '\0') + "{\"committee\": {\"authorities\": [],}}"});
  return out;
}

}  // namespace

extern const Harness kNodeConfigHarness = {"node_config", &Run, &Seeds};

}  // namespace narwhal::fuzz
