// Loading and checking a node's configuration and key files, and generating
// them (keygen, committee). Every error names the file and the field, in
// the words of the JSON ("FILE: committee.authorities[2].network_key: ..."),
// so an operator can fix it without reading code. Nothing here starts
// anything: `run` calls all of these before it creates a single socket, so
// a node never starts half-configured.
//
//   absl::StatusOr<LoadedConfig> config = LoadConfig("committee.json");
//   absl::StatusOr<NodeKeys> keys = LoadKeys("key-0.json");
//   absl::Status ok = CheckKeysMatch(*config, *keys, 0, "key-0.json");
#ifndef NARWHAL_NODE_NODE_CONFIG_H_
#define NARWHAL_NODE_NODE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/committee.h"
#include "core/config.pb.h"
#include "core/crypto.h"
#include "core/parameters.h"
#include "node/keys.pb.h"
#include "transport_zmq/curve_keys.h"

namespace narwhal::node {

struct LoadedConfig {
  std::string path;
  config::NodeConfig proto;
  Committee committee;
  Parameters parameters;
  // authority -> raw 32-byte CurveZMQ public key (from network_key).
  absl::btree_map<AuthorityIndex, std::string> curve_public_keys;
};

struct NodeKeys {
  std::string path;
  KeyPair signing;
  CurveKeyPair curve;  // raw 32-byte keys
};

// What one process runs: the primary and/or some workers of one authority.
struct RoleSpec {
  bool primary = false;
  std::vector<WorkerId> workers;
};

absl::StatusOr<std::string> ReadFile(const std::string& path);
// Writes atomically (temp file + rename) with the given permission bits.
absl::Status WriteFile(const std::string& path, const std::string& content, int mode = 0644);

// Parses and checks a NodeConfig JSON file: JSON syntax and field names
// (protobuf's parser), the committee (Committee::FromProto), the parameters
// (Parameters::FromProto), and what the node needs beyond them: addresses
// present and distinct, network keys that are Z85 Curve keys.
absl::StatusOr<LoadedConfig> LoadConfig(const std::string& path);

// Parses and checks a key file: lengths and encodings of every key, and
// that each public key is the one its secret derives.
absl::StatusOr<NodeKeys> LoadKeys(const std::string& path);
// The public half of an authority's keys, from a key file or from a public
// key file (`keygen --public_out`: ed25519_public_key and curve_public_key
// only), checked: what a committee file is made of, so that a host never
// needs another authority's secrets.
absl::StatusOr<KeyFile> LoadPublicKeys(const std::string& path);
// The public half of `file` (drops the secrets).
absl::StatusOr<KeyFile> PublicPart(const KeyFile& file);

// `authority` exists in the committee and its keys are the ones in `keys`.
absl::Status CheckKeysMatch(const LoadedConfig& config, const NodeKeys& keys,
                            int64_t authority);

// "primary", "worker:K" or "all"; K must name one of the authority's workers.
absl::StatusOr<RoleSpec> ParseRole(const std::string& role, const LoadedConfig& config,
                                   AuthorityIndex authority);

// A fresh key file from /dev/urandom.
absl::StatusOr<KeyFile> GenerateKeyFile();

struct CommitteeSpec {
  int nodes = 4;
  int workers = 1;
  int base_port = 0;
  // One host per authority, or empty (all 127.0.0.1), or one for all.
  std::vector<std::string> hosts;
  // Public keys come from these (one per authority, in order).
  std::vector<KeyFile> keys;
  config::Parameters parameters;
};

// Ports: authority i uses base_port + i * (2 + 2 * workers) onwards, in the
// order primary, output, then per worker: address, transactions_address.
absl::StatusOr<config::NodeConfig> MakeCommittee(const CommitteeSpec& spec);
inline int PortsPerAuthority(int workers) { return 2 + 2 * workers; }

// Protobuf message -> pretty JSON with field names as in the .proto.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_NODE_CONFIG_H_
