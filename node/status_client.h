// `narwhal_node status`: asks each role of one authority for its health
// (client::StatusRequest on the primary's output_address and on each
// worker's transactions_address) and says healthy or degraded, and why.
#ifndef NARWHAL_NODE_STATUS_CLIENT_H_
#define NARWHAL_NODE_STATUS_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/client.pb.h"
#include "node/node_config.h"

namespace narwhal::node {

// One role's answer, or why there was none.
struct RoleStatus {
  std::string role;     // "primary", "worker:K"
  std::string address;  // where it was asked
  absl::StatusOr<client::StatusReply> reply;
};

// Asks the roles of `authority` named by `roles` (all of them, unless
// the config lists fewer), each within `timeout_ms`.
std::vector<RoleStatus> AskStatus(const LoadedConfig& config, AuthorityIndex authority, const RoleSpec& roles,
                                  int timeout_ms);

// One line per role, e.g. "authority 1 primary: degraded: behind ...".
std::string FormatStatus(AuthorityIndex authority, const std::vector<RoleStatus>& statuses);
// True if every role answered healthy.
bool AllHealthy(const std::vector<RoleStatus>& statuses);

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_STATUS_CLIENT_H_
