#include "core/committee.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

absl::StatusOr<Committee> Committee::FromProto(const config::Committee& proto) {
  if (proto.authorities_size() == 0) {
    return absl::InvalidArgumentError("committee.authorities: must list at least one authority");
  }
  Committee c;
  for (int i = 0; i < proto.authorities_size(); ++i) {
    const auto& a = proto.authorities(i);
    std::string where = absl::StrCat("committee.authorities[", i, "]");
    auto key = PublicKeyFromHex(a.public_key());
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".public_key: ", key.status().message()));
    }
    if (a.stake() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".stake: must be positive"));
    }
    if (a.workers_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".workers: needs at least one worker"));
    }
    if (i > 0 && static_cast<uint32_t>(a.workers_size()) != c.workers_per_authority_) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".workers: every authority must run the same number of workers (",
          c.workers_per_authority_, "), got ", a.workers_size()));
    }
    for (const auto& other : c.authorities_) {
      if (other.public_key == *key) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".public_key: duplicate key"));
      }
    }
    AuthorityEntry e;
    e.public_key = *key;
    e.stake = a.stake();
    e.primary_address = a.primary_address();
    e.output_address = a.output_address();
    e.workers.assign(a.workers().begin(), a.workers().end());
    e.network_key = a.network_key();
    c.workers_per_authority_ = a.workers_size();
    if (c.total_stake_ + e.stake < c.total_stake_) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".stake: total stake overflows"));
    }
    c.total_stake_ += e.stake;
    c.authorities_.push_back(std::move(e));
  }
  return c;
}

Committee Committee::ForTest(const std::vector<PublicKey>& keys,
                             const std::vector<uint64_t>& stakes, uint32_t workers) {
  CHECK_EQ(keys.size(), stakes.size());
  CHECK_GT(workers, 0u);
  Committee c;
  c.workers_per_authority_ = workers;
  for (size_t i = 0; i < keys.size(); ++i) {
    CHECK_GT(stakes[i], 0u);
    AuthorityEntry e;
    e.public_key = keys[i];
    e.stake = stakes[i];
    e.workers.resize(workers);
    c.total_stake_ += stakes[i];
    c.authorities_.push_back(std::move(e));
  }
  return c;
}

}  // namespace narwhal
