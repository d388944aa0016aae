#include "node/node_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"
#include "google/protobuf/util/json_util.h"

namespace narwhal::node {
namespace {

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// A strict JSON syntax check (RFC 8259) that says where the first error
// is, as line and column: protobuf's parser names fields well but reports a
// syntax error only as "the text from here", and it accepts some invalid
// JSON (a trailing comma).
class JsonSyntax {
 public:
  explicit JsonSyntax(absl::string_view text) : text_(text) {}
  // OK, or "line L, column C: <what was expected>".
  absl::Status Check() {
    SkipSpace();
    if (!Value(0)) return Error();
    SkipSpace();
    if (at_ != text_.size()) return Fail("unexpected text after the end of the JSON value"), Error();
    return absl::OkStatus();
  }

 private:
  static constexpr int kDepthMax = 64;
  bool Fail(const char* what) {
    if (error_.empty()) {
      error_ = what;
      error_at_ = at_;
    }
    return false;
  }
  absl::Status Error() const {
    int line = 1, column = 1;
    for (size_t i = 0; i < error_at_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ", column ", column, ": ", error_));
  }
  void SkipSpace() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }
  bool Eat(char c) {
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool Literal(absl::string_view word) {
    if (text_.substr(at_, word.size()) != word) return Fail("expected a JSON value");
    at_ += word.size();
    return true;
  }
  bool String() {
    const size_t start = at_;
    if (!Eat('"')) return Fail("expected a string in double quotes");
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return --at_, Fail("control character inside a string");
      if (c == '\\') {
        if (at_ >= text_.size()) break;
        const char e = text_[at_++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            if (at_ >= text_.size() || !absl::ascii_isxdigit(text_[at_])) return Fail("bad \\u escape");
            ++at_;
          }
        } else if (!absl::StrContains("\"\\/bfnrt", e)) {
          return --at_, Fail("bad escape in a string");
        }
      }
    }
    at_ = start;  // where the string began is what helps
    return Fail("unterminated string");
  }
  bool Number() {
    Eat('-');
    if (at_ >= text_.size() || !absl::ascii_isdigit(text_[at_])) return Fail("expected a JSON value");
    while (at_ < text_.size() && absl::ascii_isdigit(text_[at_])) ++at_;
    if (Eat('.')) {
      if (at_ >= text_.size() || !absl::ascii_isdigit(text_[at_])) return Fail("expected digits after '.'");
      while (at_ < text_.size() && absl::ascii_isdigit(text_[at_])) ++at_;
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (!Eat('+')) Eat('-');
      if (at_ >= text_.size() || !absl::ascii_isdigit(text_[at_])) return Fail("expected digits in the exponent");
      while (at_ < text_.size() && absl::ascii_isdigit(text_[at_])) ++at_;
    }
    return true;
  }
  bool Value(int depth) {
    if (depth > kDepthMax) return Fail("nested too deeply");
    if (at_ >= text_.size()) return Fail("unexpected end of the file");
    switch (text_[at_]) {
      case '{': {
        ++at_;
        SkipSpace();
        if (Eat('}')) return true;
        for (;;) {
          SkipSpace();
          if (!String()) return false;
          SkipSpace();
          if (!Eat(':')) return Fail("expected ':' after an object key");
          SkipSpace();
          if (!Value(depth + 1)) return false;
          SkipSpace();
          if (Eat('}')) return true;
          if (!Eat(',')) return Fail("expected ',' or '}' in an object");
          SkipSpace();
          if (at_ < text_.size() && text_[at_] == '}') return Fail("trailing ',' before '}'");
        }
      }
      case '[': {
        ++at_;
        SkipSpace();
        if (Eat(']')) return true;
        for (;;) {
          SkipSpace();
          if (!Value(depth + 1)) return false;
          SkipSpace();
          if (Eat(']')) return true;
          if (!Eat(',')) return Fail("expected ',' or ']' in an array");
          SkipSpace();
          if (at_ < text_.size() && text_[at_] == ']') return Fail("trailing ',' before ']'");
        }
      }
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  absl::string_view text_;
  size_t at_ = 0;
  std::string error_;
  size_t error_at_ = 0;
};

// protobuf's JSON parser (after the syntax check): its error text names the
// offending field.
absl::Status ParseJson(const std::string& path, const std::string& text,
                       google::protobuf::Message* message) {
  if (absl::Status syntax = JsonSyntax(text).Check(); !syntax.ok()) {
    return FileError(path, absl::StrCat("not valid JSON: ", syntax.message()));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(text, message, options);
  if (!st.ok()) {
    std::string why(st.message().data(), st.message().size());
    return FileError(path, absl::StrCat("invalid JSON for ", message->GetDescriptor()->name(),
                                        ": ", why));
  }
  return absl::OkStatus();
}

// "host:port" with a port in 1..65535.
absl::Status CheckAddress(absl::string_view address) {
  if (address.empty()) return absl::InvalidArgumentError("missing (host:port)");
  if (absl::StrContains(address, "://")) return absl::OkStatus();  // ipc://, tcp://...
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" is not host:port"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DecodeCurveKey(absl::string_view z85) {
  if (z85.size() != kCurveKeyZ85Chars) {
    return absl::InvalidArgumentError(absl::StrCat("must be ", kCurveKeyZ85Chars,
                                                   " Z85 characters (a 32-byte Curve key), got ",
                                                   z85.size()));
  }
  auto raw = Z85Decode(std::string(z85));
  if (!raw.ok()) return absl::InvalidArgumentError(absl::StrCat("not Z85: ", raw.status().message()));
  return raw;
}

absl::StatusOr<std::array<uint8_t, 32>> DecodeSeed(absl::string_view hex) {
  auto raw = HexDecode(std::string(hex));
  if (!raw.ok()) return absl::InvalidArgumentError(absl::StrCat("not hex: ", raw.status().message()));
  if (raw->size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "must be 32 bytes (64 hex digits), got ", raw->size(), " bytes (", hex.size(), " digits)"));
  }
  std::array<uint8_t, 32> seed{};
  std::memcpy(seed.data(), raw->data(), 32);
  return seed;
}

absl::Status ReadUrandom(void* out, size_t n) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  if (!in || !in.read(static_cast<char*>(out), n)) {
    return absl::UnavailableError("cannot read /dev/urandom");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open: ", std::strerror(err)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFile(const std::string& path, const std::string& content, int mode) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return absl::InternalError(absl::StrCat(path, ": write failed: ", std::strerror(errno)));
    }
    done += n;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return absl::InternalError(absl::StrCat(path, ": fsync/close failed: ", std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(path, ": rename failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedConfig> LoadConfig(const std::string& path) {
  LoadedConfig out;
  out.path = path;
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  if (absl::Status s = ParseJson(path, *text, &out.proto); !s.ok()) return s;
  if (!out.proto.has_committee()) return FileError(path, "committee: missing");
  auto committee = Committee::FromProto(out.proto.committee());
  if (!committee.ok()) return FileError(path, committee.status().message());
  out.committee = *std::move(committee);
  auto params = Parameters::FromProto(out.proto.parameters());
  if (!params.ok()) return FileError(path, params.status().message());
  out.parameters = *std::move(params);

  std::set<std::string> seen;
  auto check = [&](const std::string& where, const std::string& address) -> absl::Status {
    if (absl::Status s = CheckAddress(address); !s.ok()) {
      return FileError(path, absl::StrCat(where, ": ", s.message()));
    }
    if (!seen.insert(address).second) {
      return FileError(path, absl::StrCat(where, ": \"", address, "\" is used twice"));
    }
    return absl::OkStatus();
  };
  for (int i = 0; i < out.proto.committee().authorities_size(); ++i) {
    const auto& a = out.proto.committee().authorities(i);
    const std::string where = absl::StrCat("committee.authorities[", i, "]");
    if (auto s = check(where + ".primary_address", a.primary_address()); !s.ok()) return s;
    if (auto s = check(where + ".output_address", a.output_address()); !s.ok()) return s;
    for (int w = 0; w < a.workers_size(); ++w) {
      const std::string wwhere = absl::StrCat(where, ".workers[", w, "]");
      if (auto s = check(wwhere + ".address", a.workers(w).address()); !s.ok()) return s;
      if (auto s = check(wwhere + ".transactions_address", a.workers(w).transactions_address());
          !s.ok()) {
        return s;
      }
    }
    auto key = DecodeCurveKey(a.network_key());
    if (!key.ok()) return FileError(path, absl::StrCat(where, ".network_key: ", key.status().message()));
    for (const auto& [other, other_key] : out.curve_public_keys) {
      if (other_key == *key) {
        return FileError(path, absl::StrCat(where, ".network_key: same key as authorities[", other, "]"));
      }
    }
    out.curve_public_keys[i] = *std::move(key);
  }
  return out;
}

absl::StatusOr<NodeKeys> LoadKeys(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  // The key file holds this authority's secrets: others must not read it.
  if (struct stat st; ::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    LOG(WARNING) << path << ": key file is readable by others (mode " << std::oct << (st.st_mode & 0777)
                 << std::dec << "); it holds this authority's secret keys: chmod 600 " << path;
  }
  KeyFile file;
  if (absl::Status s = ParseJson(path, *text, &file); !s.ok()) return s;
  NodeKeys keys;
  keys.path = path;
  auto seed = DecodeSeed(file.ed25519_seed());
  if (!seed.ok()) return FileError(path, absl::StrCat("ed25519_seed: ", seed.status().message()));
  keys.signing = KeyPair::FromSeed(SignatureScheme::kEd25519, *seed);
  if (!file.ed25519_public_key().empty()) {
    auto pub = PublicKeyFromHex(file.ed25519_public_key());
    if (!pub.ok()) return FileError(path, absl::StrCat("ed25519_public_key: ", pub.status().message()));
    if (*pub != keys.signing.public_key) {
      return FileError(path, "ed25519_public_key: does not match the key derived from ed25519_seed");
    }
  }
  auto secret = DecodeCurveKey(file.curve_secret_key());
  if (!secret.ok()) return FileError(path, absl::StrCat("curve_secret_key: ", secret.status().message()));
  auto derived = CurvePublicFromSecret(*secret);
  if (!derived.ok()) return FileError(path, absl::StrCat("curve_secret_key: ", derived.status().message()));
  keys.curve.secret_key = *secret;
  keys.curve.public_key = *derived;
  if (!file.curve_public_key().empty()) {
    auto pub = DecodeCurveKey(file.curve_public_key());
    if (!pub.ok()) return FileError(path, absl::StrCat("curve_public_key: ", pub.status().message()));
    if (*pub != *derived) {
      return FileError(path, "curve_public_key: does not match the key derived from curve_secret_key");
    }
  }
  return keys;
}

absl::StatusOr<KeyFile> LoadPublicKeys(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  KeyFile file;
  if (absl::Status s = ParseJson(path, *text, &file); !s.ok()) return s;
  if (!file.ed25519_seed().empty() || !file.curve_secret_key().empty()) {
    // A whole key file: derive and check through the secret path.
    auto keys = LoadKeys(path);
    if (!keys.ok()) return keys.status();
    KeyFile pub;
    pub.set_ed25519_public_key(PublicKeyHex(keys->signing.public_key));
    auto z85 = Z85Encode(keys->curve.public_key);
    if (!z85.ok()) return z85.status();
    pub.set_curve_public_key(*z85);
    return pub;
  }
  if (file.ed25519_public_key().empty() || file.curve_public_key().empty()) {
    return FileError(path, "a public key file needs ed25519_public_key and curve_public_key");
  }
  if (auto pub = PublicKeyFromHex(file.ed25519_public_key()); !pub.ok()) {
    return FileError(path, absl::StrCat("ed25519_public_key: ", pub.status().message()));
  }
  if (auto pub = DecodeCurveKey(file.curve_public_key()); !pub.ok()) {
    return FileError(path, absl::StrCat("curve_public_key: ", pub.status().message()));
  }
  return file;
}

absl::StatusOr<KeyFile> PublicPart(const KeyFile& file) {
  if (file.ed25519_public_key().empty() || file.curve_public_key().empty()) {
    return absl::InvalidArgumentError("key file without its public keys");
  }
  KeyFile pub;
  pub.set_ed25519_public_key(file.ed25519_public_key());
  pub.set_curve_public_key(file.curve_public_key());
  return pub;
}

absl::Status CheckKeysMatch(const LoadedConfig& config, const NodeKeys& keys, int64_t authority) {
  const int64_t n = config.committee.size();
  if (authority < 0 || authority >= n) {
    return absl::InvalidArgumentError(absl::StrCat("--authority ", authority, ": out of range, ",
                                                   config.path, " has ", n, " authorities (0..",
                                                   n - 1, ")"));
  }
  const auto& entry = config.committee.authority(authority);
  if (entry.public_key != keys.signing.public_key) {
    return FileError(keys.path, absl::StrCat("ed25519 key is not committee.authorities[", authority,
                                             "].public_key of ", config.path));
  }
  if (config.curve_public_keys.at(authority) != keys.curve.public_key) {
    return FileError(keys.path, absl::StrCat("curve key is not committee.authorities[", authority,
                                             "].network_key of ", config.path));
  }
  return absl::OkStatus();
}

absl::StatusOr<RoleSpec> ParseRole(const std::string& role, const LoadedConfig& config,
                                   AuthorityIndex authority) {
  RoleSpec spec;
  const uint32_t workers = config.committee.workers_per_authority();
  if (role == "primary") {
    spec.primary = true;
    return spec;
  }
  if (role == "all") {
    spec.primary = true;
    for (WorkerId w = 0; w < workers; ++w) spec.workers.push_back(w);
    return spec;
  }
  if (absl::StartsWith(role, "worker:")) {
    int64_t k = -1;
    if (!absl::SimpleAtoi(role.substr(7), &k)) {
      return absl::InvalidArgumentError(absl::StrCat("--role ", role, ": worker id is not a number"));
    }
    if (k < 0 || k >= workers) {
      return absl::InvalidArgumentError(absl::StrCat("--role ", role, ": out of range, authority ",
                                                     authority, " has ", workers, " worker(s) (0..",
                                                     workers - 1, ") in ", config.path));
    }
    spec.workers.push_back(static_cast<WorkerId>(k));
    return spec;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--role ", role, ": must be primary, worker:K or all"));
}

absl::StatusOr<KeyFile> GenerateKeyFile() {
  std::array<uint8_t, 32> seed{};
  if (absl::Status s = ReadUrandom(seed.data(), seed.size()); !s.ok()) return s;
  KeyPair kp = KeyPair::FromSeed(SignatureScheme::kEd25519, seed);
  auto curve = GenerateCurveKeyPair();
  if (!curve.ok()) return curve.status();
  KeyFile file;
  file.set_ed25519_seed(HexEncode(std::string_view(reinterpret_cast<const char*>(seed.data()), 32)));
  file.set_ed25519_public_key(PublicKeyHex(kp.public_key));
  auto secret = Z85Encode(curve->secret_key);
  auto pub = Z85Encode(curve->public_key);
  if (!secret.ok()) return secret.status();
  if (!pub.ok()) return pub.status();
  file.set_curve_secret_key(*secret);
  file.set_curve_public_key(*pub);
  return file;
}

absl::StatusOr<config::NodeConfig> MakeCommittee(const CommitteeSpec& spec) {
  if (spec.nodes < 1) return absl::InvalidArgumentError("--nodes: must be at least 1");
  if (spec.workers < 1) return absl::InvalidArgumentError("--workers: must be at least 1");
  const int per = PortsPerAuthority(spec.workers);
  if (spec.base_port < 1 || spec.base_port + spec.nodes * per - 1 > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--base_port: ", spec.base_port, " + ",
                                                   spec.nodes * per, " ports does not fit in 1..65535"));
  }
  if (!spec.hosts.empty() && spec.hosts.size() != 1 && spec.hosts.size() != size_t(spec.nodes)) {
    return absl::InvalidArgumentError(absl::StrCat("--hosts: give 1 or ", spec.nodes, " hosts, got ",
                                                   spec.hosts.size()));
  }
  if (spec.keys.size() != size_t(spec.nodes)) {
    return absl::InvalidArgumentError("one key file per authority is needed");
  }
  config::NodeConfig out;
  for (int i = 0; i < spec.nodes; ++i) {
    const std::string host = spec.hosts.empty() ? "127.0.0.1"
                             : spec.hosts.size() == 1 ? spec.hosts[0] : spec.hosts[i];
    int port = spec.base_port + i * per;
    auto* a = out.mutable_committee()->add_authorities();
    a->set_public_key(spec.keys[i].ed25519_public_key());
    a->set_network_key(spec.keys[i].curve_public_key());
    a->set_stake(1);
    a->set_primary_address(absl::StrCat(host, ":", port++));
    a->set_output_address(absl::StrCat(host, ":", port++));
    for (int w = 0; w < spec.workers; ++w) {
      auto* wi = a->add_workers();
      wi->set_address(absl::StrCat(host, ":", port++));
      wi->set_transactions_address(absl::StrCat(host, ":", port++));
    }
  }
  *out.mutable_parameters() = spec.parameters;
  return out;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(message, &out, options);
  CHECK(st.ok()) << std::string(st.message().data(), st.message().size());
  return out;
}

}  // namespace narwhal::node
