// The committee: authorities in index order with their stake, keys and
// addresses, and the stake thresholds every quorum decision uses.
//
//   quorum   = floor(2S/3) + 1   (any two quorums share an honest authority)
//   validity = floor((S+2)/3)    (f+1: at least one honest authority)
#ifndef NARWHAL_CORE_COMMITTEE_H_
#define NARWHAL_CORE_COMMITTEE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.pb.h"
#include "core/crypto.h"
#include "core/types.h"

namespace narwhal {

struct AuthorityEntry {
  PublicKey public_key{};
  uint64_t stake = 0;
  std::string primary_address;
  std::string output_address;
  std::vector<config::WorkerInfo> workers;
  std::string network_key;
};

class Committee {
 public:
  Committee() = default;
  // Fails with a message naming the field when the committee is unusable
  // (empty, zero stake, bad key, duplicate key, workers count mismatch).
  static absl::StatusOr<Committee> FromProto(const config::Committee& proto);
  // Equal stake `stake` for n authorities with `workers` workers each and
  // the given public keys; addresses left empty (the simulator's case).
  static Committee ForTest(const std::vector<PublicKey>& keys, const std::vector<uint64_t>& stakes,
                           uint32_t workers);

  size_t size() const { return authorities_.size(); }
  uint32_t workers_per_authority() const { return workers_per_authority_; }
  const AuthorityEntry& authority(AuthorityIndex i) const { return authorities_.at(i); }
  uint64_t Stake(AuthorityIndex i) const { return authorities_.at(i).stake; }
  uint64_t TotalStake() const { return total_stake_; }
  uint64_t QuorumThreshold() const { return 2 * total_stake_ / 3 + 1; }
  uint64_t ValidityThreshold() const { return (total_stake_ + 2) / 3; }
  bool Contains(AuthorityIndex i) const { return i < authorities_.size(); }
  // The leader of even round r: authorities take turns, (r/2) mod n, so that
  // every authority leads (plain r mod n with even n would skip half of them).
  AuthorityIndex Leader(Round round) const {
    return static_cast<AuthorityIndex>((round / 2) % authorities_.size());
  }
  // Largest f with f faulty-by-count tolerated; for logs and the simulator.
  size_t MaxFaultyCount() const { return (authorities_.size() - 1) / 3; }

 private:
  std::vector<AuthorityEntry> authorities_;
  uint64_t total_stake_ = 0;
  uint32_t workers_per_authority_ = 0;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_COMMITTEE_H_
