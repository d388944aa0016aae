// Config and key files: each kind of error names the file and the field, in
// the words of the JSON, and `narwhal_node run` refuses to start at all.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/local_cluster.h"
#include "node/node_config.h"

namespace narwhal::node {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string TempDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d ? d : "/tmp";
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(TempDir(), "/", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    mkdir(dir_.c_str(), 0755);
    CommitteeSpec spec;
    spec.nodes = 4;
    spec.workers = 1;
    spec.base_port = 30000;
    for (int i = 0; i < 4; ++i) {
      auto k = GenerateKeyFile();
      ASSERT_TRUE(k.ok()) << k.status();
      keys_.push_back(*k);
      ASSERT_TRUE(WriteFile(KeyPath(i), ToJson(*k)).ok());
    }
    spec.keys = keys_;
    auto config = MakeCommittee(spec);
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    config_path_ = Write("committee.json", ToJson(config_));
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path) << text;
    return path;
  }
  std::string KeyPath(int i) const { return absl::StrCat(dir_, "/key-", i, ".json"); }
  std::string ConfigError(const config::NodeConfig& config) {
    const std::string path = Write("bad.json", ToJson(config));
    auto loaded = LoadConfig(path);
    return loaded.ok() ? "OK" : std::string(loaded.status().message());
  }
  std::string KeyError(const KeyFile& key) {
    const std::string path = Write("bad-key.json", ToJson(key));
    auto loaded = LoadKeys(path);
    return loaded.ok() ? "OK" : std::string(loaded.status().message());
  }

  std::string dir_;
  std::vector<KeyFile> keys_;
  config::NodeConfig config_;
  std::string config_path_;
};

TEST_F(ConfigTest, GoodConfigAndKeysLoadAndMatch) {
  auto config = LoadConfig(config_path_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->committee.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    auto keys = LoadKeys(KeyPath(i));
    ASSERT_TRUE(keys.ok()) << keys.status();
    EXPECT_TRUE(CheckKeysMatch(*config, *keys, i).ok());
  }
}

TEST_F(ConfigTest, MissingFile) {
  auto c = LoadConfig(dir_ + "/nope.json");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.status().message(), dir_ + "/nope.json: no such file");
  auto k = LoadKeys(dir_ + "/nokey.json");
  EXPECT_EQ(k.status().message(), dir_ + "/nokey.json: no such file");
}

TEST_F(ConfigTest, BadJson) {
  const std::string path = Write("syntax.json", "{\"committee\": {\"authorities\": [");
  auto c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), StartsWith(path + ": not valid JSON: line 1, column 32: unexpected end"));
}

TEST_F(ConfigTest, JsonSyntaxErrorsNameLineAndColumn) {
  struct Case {
    std::string text, want;
  };
  for (const Case& c : std::vector<Case>{
           {"{\n  \"committee\": {\n    \"authorities\": [\n      {\"stake\" 1}\n", "line 4, column 16: expected ':'"},
           {"{\"parameters\": {\"gc_depth\": 5,}}", "line 1, column 31: trailing ',' before '}'"},
           {"{\"parameters\": {\"protocol\": \"tusk}}", "line 1, column 29: unterminated string"},
           {"{\"committee\": {}}\n}", "line 2, column 1: unexpected text after the end"},
       }) {
    const std::string path = Write("syntax2.json", c.text);
    auto loaded = LoadConfig(path);
    ASSERT_FALSE(loaded.ok()) << c.text;
    EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(path + ": not valid JSON: " + c.want)) << c.text;
  }
}

TEST_F(ConfigTest, UnknownFieldIsNamed) {
  const std::string path = Write("unknown.json", "{\"committee\": {\"authoritiez\": []}}");
  auto c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), StartsWith(path + ": invalid JSON for NodeConfig: "));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("authoritiez"));
}

TEST_F(ConfigTest, WrongTypeIsNamed) {
  const std::string path = Write("type.json", "{\"parameters\": {\"gc_depth\": \"many\"}}");
  auto c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("gc_depth"));
}

TEST_F(ConfigTest, BadParameterIsNamed) {
  config_.mutable_parameters()->set_gc_depth(2);
  EXPECT_EQ(ConfigError(config_), dir_ + "/bad.json: parameters.gc_depth: must be at least 4 rounds");
  config_.mutable_parameters()->set_gc_depth(0);
  config_.mutable_parameters()->set_sqlite_synchronous("SOMETIMES");
  EXPECT_EQ(ConfigError(config_),
            dir_ + "/bad.json: parameters.sqlite_synchronous: must be FULL or NORMAL, got \"SOMETIMES\"");
}

TEST_F(ConfigTest, BadCommitteeFieldsAreNamed) {
  config::NodeConfig c = config_;
  c.mutable_committee()->mutable_authorities(2)->set_public_key("abcd");
  EXPECT_EQ(ConfigError(c), dir_ + "/bad.json: committee.authorities[2].public_key: public key must be 32 bytes (64 hex digits), got 2");
  c = config_;
  c.mutable_committee()->mutable_authorities(1)->set_network_key("short");
  EXPECT_EQ(ConfigError(c), dir_ + "/bad.json: committee.authorities[1].network_key: must be 40 Z85 characters (a 32-byte Curve key), got 5");
  c = config_;
  c.mutable_committee()->mutable_authorities(3)->set_stake(0);
  EXPECT_EQ(ConfigError(c), dir_ + "/bad.json: committee.authorities[3].stake: must be positive");
  c = config_;
  c.mutable_committee()->mutable_authorities(1)->set_output_address("localhost");
  EXPECT_EQ(ConfigError(c), dir_ + "/bad.json: committee.authorities[1].output_address: \"localhost\" is not host:port");
  c = config_;
  c.mutable_committee()->mutable_authorities(1)->mutable_workers(0)->set_transactions_address(
      c.committee().authorities(0).primary_address());
  EXPECT_EQ(ConfigError(c), dir_ + "/bad.json: committee.authorities[1].workers[0].transactions_address: \"" +
                                c.committee().authorities(0).primary_address() + "\" is used twice");
  c = config_;
  c.mutable_committee()->mutable_authorities(0)->clear_primary_address();
  EXPECT_EQ(ConfigError(c), dir_ + "/bad.json: committee.authorities[0].primary_address: missing (host:port)");
}

TEST_F(ConfigTest, WrongKeyLengths) {
  KeyFile k = keys_[0];
  k.set_ed25519_seed(k.ed25519_seed().substr(0, 62));
  EXPECT_EQ(KeyError(k), dir_ + "/bad-key.json: ed25519_seed: must be 32 bytes (64 hex digits), got 31 bytes (62 digits)");
  k = keys_[0];
  k.set_ed25519_seed("zz" + k.ed25519_seed().substr(2));
  EXPECT_THAT(KeyError(k), StartsWith(dir_ + "/bad-key.json: ed25519_seed: not hex"));
  k = keys_[0];
  k.set_curve_secret_key(k.curve_secret_key().substr(0, 35));
  EXPECT_EQ(KeyError(k), dir_ + "/bad-key.json: curve_secret_key: must be 40 Z85 characters (a 32-byte Curve key), got 35");
  k = keys_[0];
  k.set_curve_public_key(keys_[1].curve_public_key());
  EXPECT_EQ(KeyError(k), dir_ + "/bad-key.json: curve_public_key: does not match the key derived from curve_secret_key");
  k = keys_[0];
  k.set_ed25519_public_key(keys_[1].ed25519_public_key());
  EXPECT_EQ(KeyError(k), dir_ + "/bad-key.json: ed25519_public_key: does not match the key derived from ed25519_seed");
}

TEST_F(ConfigTest, AuthorityOutOfRangeAndWrongKeys) {
  auto config = LoadConfig(config_path_);
  ASSERT_TRUE(config.ok());
  auto keys = LoadKeys(KeyPath(1));
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(CheckKeysMatch(*config, *keys, 4).message(),
            "--authority 4: out of range, " + config_path_ + " has 4 authorities (0..3)");
  EXPECT_EQ(CheckKeysMatch(*config, *keys, -1).message(),
            "--authority -1: out of range, " + config_path_ + " has 4 authorities (0..3)");
  EXPECT_EQ(CheckKeysMatch(*config, *keys, 0).message(),
            KeyPath(1) + ": ed25519 key is not committee.authorities[0].public_key of " + config_path_);
}

TEST_F(ConfigTest, RoleOutOfRange) {
  auto config = LoadConfig(config_path_);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(ParseRole("worker:1", *config, 0).status().message(),
            "--role worker:1: out of range, authority 0 has 1 worker(s) (0..0) in " + config_path_);
  EXPECT_EQ(ParseRole("worker:x", *config, 0).status().message(),
            "--role worker:x: worker id is not a number");
  EXPECT_EQ(ParseRole("boss", *config, 0).status().message(),
            "--role boss: must be primary, worker:K or all");
  auto all = ParseRole("all", *config, 0);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->primary);
  EXPECT_EQ(all->workers, std::vector<WorkerId>{0});
}

// The binary: a bad setup exits non-zero with the message on stderr, before
// creating the store directory (nothing half-started).
TEST_F(ConfigTest, RunRefusesToStartHalfConfigured) {
  auto binary = FindBinary("node/narwhal_node", "");
  ASSERT_TRUE(binary.ok()) << binary.status();
  const std::string store = dir_ + "/store-never";
  const std::string log = dir_ + "/run.log";
  auto run = [&](const std::string& config, const std::string& key, int authority, const std::string& role) {
    std::remove(log.c_str());
    auto child = ChildProcess::Spawn({*binary, "run", "--config=" + config, "--keys=" + key,
                                      absl::StrCat("--authority=", authority), "--role=" + role,
                                      "--store=" + store},
                                     log);
    EXPECT_TRUE(child.ok());
    auto status = (*child)->Wait(20000);
    EXPECT_TRUE(status.has_value());
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return std::make_pair(WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, text);
  };
  auto [code, text] = run(config_path_, KeyPath(0), 7, "primary");
  EXPECT_EQ(code, 2);
  EXPECT_THAT(text, HasSubstr("narwhal_node: error: --authority 7: out of range"));
  std::tie(code, text) = run(config_path_, KeyPath(0), 0, "worker:3");
  EXPECT_EQ(code, 2);
  EXPECT_THAT(text, HasSubstr("--role worker:3: out of range"));
  std::tie(code, text) = run(dir_ + "/missing.json", KeyPath(0), 0, "all");
  EXPECT_EQ(code, 2);
  EXPECT_THAT(text, HasSubstr(dir_ + "/missing.json: no such file"));
  std::tie(code, text) = run(config_path_, dir_ + "/missing-key.json", 0, "all");
  EXPECT_EQ(code, 2);
  EXPECT_THAT(text, HasSubstr(dir_ + "/missing-key.json: no such file"));
  struct stat st;
  EXPECT_NE(stat(store.c_str(), &st), 0) << "the store directory was created by a refused run";
}

// A run that fails after the checks (the primary's port is taken) leaves no
// store file behind, and a key file others can read gets a warning.
TEST_F(ConfigTest, FailedBindLeavesNoStoreAndLooseKeyFileIsWarnedAbout) {
  auto binary = FindBinary("node/narwhal_node", "");
  ASSERT_TRUE(binary.ok()) << binary.status();
  const std::string address = config_.committee().authorities(0).primary_address();
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  const int taken = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&in), sizeof(in)), 0) << "port " << port;
  ASSERT_EQ(::listen(taken, 1), 0);
  ASSERT_EQ(::chmod(KeyPath(0).c_str(), 0644), 0);
  const std::string store = dir_ + "/store-bind";
  const std::string log = dir_ + "/bind.log";
  auto child = ChildProcess::Spawn({*binary, "run", "--config=" + config_path_, "--keys=" + KeyPath(0),
                                    "--authority=0", "--role=all", "--store=" + store},
                                   log);
  ASSERT_TRUE(child.ok());
  auto status = (*child)->Wait(20000);
  ::close(taken);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(WEXITSTATUS(*status), 0);
  std::ifstream text_in(log);
  std::string text((std::istreambuf_iterator<char>(text_in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("Address already in use"));
  EXPECT_THAT(text, HasSubstr("key file is readable by others"));
  struct stat st;
  for (const char* name : {"primary.db", "primary.db-wal", "worker-0.db", "worker-0.db-wal"}) {
    EXPECT_NE(stat((store + "/" + name).c_str(), &st), 0) << name << " was left behind by a failed start";
  }
}

}  // namespace
}  // namespace narwhal::node
