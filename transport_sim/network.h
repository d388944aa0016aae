// The simulated network: every frame between two endpoints becomes a
// delivery event whose delay, loss and duplication come from one seeded
// generator and one options struct (TigerBeetle's PacketSimulatorOptions in
// spirit). Partitions, clogged links and crashed authorities are state the
// fault schedule changes over virtual time.
//
// Links inside one authority (its primary and its workers) model loopback on
// one machine: a small fixed delay, no loss, never partitioned.
#ifndef NARWHAL_TRANSPORT_SIM_NETWORK_H_
#define NARWHAL_TRANSPORT_SIM_NETWORK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/btree_set.h"
#include "core/env.h"
#include "core/random.h"
#include "transport_sim/scheduler.h"

namespace narwhal::sim {

enum class DelayDistribution { kUniform, kExponential };

struct NetworkOptions {
  DelayDistribution delay_distribution = DelayDistribution::kExponential;
  // Floor of every one-way delay between authorities.
  TimeUs one_way_delay_us_min = 2 * kMillisecondUs;
  // Mean one-way delay (uniform: over [min, 2*mean-min]; exponential: min +
  // Exp(mean-min)). Jitter is what reorders frames.
  TimeUs one_way_delay_us_mean = 10 * kMillisecondUs;
  double packet_loss_probability = 0.0;
  double packet_duplication_probability = 0.0;
  // Primary <-> own worker.
  TimeUs local_delay_us = 100;
  // Links are TCP connections, as in the node (ZeroMQ over TCP): a one-way
  // drop x -> y also loses x's acknowledgements of y's data, so y's sends on
  // every connection of the pair stall too. Seen on real hosts: dropping
  // h2 -> h1 stalled the pair's connections in both directions. So a
  // `block` cuts both ways; false models datagram links, where it does not.
  bool one_way_block_stalls_both_ways = true;
};

struct NetworkStats {
  uint64_t frames_sent = 0;
  uint64_t frames_delivered = 0;
  uint64_t frames_dropped_loss = 0;
  uint64_t frames_dropped_partition = 0;
  uint64_t frames_dropped_down = 0;
  uint64_t frames_duplicated = 0;
  uint64_t bytes_delivered = 0;
};

class Network {
 public:
  using Receiver = Transport::Receiver;
  // Observes every delivered frame (checkers, frame counters in tests).
  using Tap = std::function<void(const Endpoint& from, const Endpoint& to, std::string_view frame)>;

  Network(Scheduler* scheduler, uint64_t seed, NetworkOptions options);

  void Register(const Endpoint& endpoint, Receiver receiver);
  using PartsReceiver = Transport::PartsReceiver;
  // Optional, besides the Receiver: gets two-part frames unjoined. Null
  // removes it.
  void RegisterParts(const Endpoint& endpoint, PartsReceiver receiver);
  void Unregister(const Endpoint& endpoint);
  // Queues a frame; its fate (loss, delay, duplication) is drawn now.
  void Send(const Endpoint& from, const Endpoint& to, std::string frame);
  // The frame `prefix` + `*body`, kept in two parts until delivery: the n
  // frames of a broadcast share one body.
  void SendParts(const Endpoint& from, const Endpoint& to, std::string prefix,
                 std::shared_ptr<const std::string> body);

  const NetworkOptions& options() const { return options_; }
  void set_options(const NetworkOptions& options) { options_ = options; }

  // Frames from authority `from` to `to` are dropped (one-way).
  // With one_way_block_stalls_both_ways (TCP), the reverse direction too.
  void Block(AuthorityIndex from, AuthorityIndex to) {
    blocked_.insert({from, to});
    if (options_.one_way_block_stalls_both_ways) blocked_.insert({to, from});
  }
  void Unblock(AuthorityIndex from, AuthorityIndex to) {
    blocked_.erase({from, to});
    if (options_.one_way_block_stalls_both_ways) blocked_.erase({to, from});
  }
  // Symmetric partition: every link between the two groups is cut.
  void Partition(const std::vector<AuthorityIndex>& a, const std::vector<AuthorityIndex>& b);
  void HealAll() { blocked_.clear(); blocked_roles_.clear(); clogged_.clear(); }
  // A primary and its workers are separate processes, with their own TCP
  // connections: a cut can reach one before the other (or only one). These
  // cut only the `role` endpoints of each authority in `a` from every
  // endpoint of each authority in `b`, both ways.
  enum class Role : uint8_t { kPrimary = 1, kWorkers = 2 };
  void PartitionRole(const std::vector<AuthorityIndex>& a, const std::vector<AuthorityIndex>& b, Role role);
  void UnpartitionRole(const std::vector<AuthorityIndex>& a, const std::vector<AuthorityIndex>& b, Role role);
  // Adds `extra_delay_us` to every frame from `from` to `to`.
  void Clog(AuthorityIndex from, AuthorityIndex to, TimeUs extra_delay_us) {
    clogged_[{from, to}] = extra_delay_us;
  }
  void Unclog(AuthorityIndex from, AuthorityIndex to) { clogged_.erase({from, to}); }

  // A down authority neither sends nor receives; frames in flight to it are
  // dropped on arrival.
  void SetDown(AuthorityIndex a, bool down);
  // One role (process) of an authority crashed alone: frames in flight to
  // it are lost even if it is back before they arrive. (While it is down
  // it has no receiver, so frames to it are dropped on arrival.)
  void BumpEndpointEpoch(const Endpoint& e);
  bool IsDown(AuthorityIndex a) const { return down_.contains(a); }

  void AddTap(Tap tap) { taps_.push_back(std::move(tap)); }
  const NetworkStats& stats() const { return stats_; }

 private:
  TimeUs DrawDelay();
  struct Parts {
    std::string prefix;
    std::shared_ptr<const std::string> body;
    uint64_t body_hash;  // for the trace
  };
  // Hash64 of a body, remembered for the last body seen: a broadcast sends
  // one body to n peers in a row, so it is hashed once, not n times.
  uint64_t BodyHash(const std::shared_ptr<const std::string>& body);
  void Deliver(const Endpoint& from, const Endpoint& to, const Parts& frame, uint64_t down_epoch);

  Scheduler* scheduler_;
  Random random_;
  NetworkOptions options_;
  // Lookup only (never iterated).
  absl::flat_hash_map<Endpoint, Receiver> receivers_;
  absl::flat_hash_map<Endpoint, PartsReceiver> parts_receivers_;
  absl::btree_set<std::pair<AuthorityIndex, AuthorityIndex>> blocked_;
  // (authority whose role is cut, the other authority, role).
  absl::btree_set<std::tuple<AuthorityIndex, AuthorityIndex, Role>> blocked_roles_;
  bool RoleCut(const Endpoint& from, const Endpoint& to) const;
  absl::btree_map<std::pair<AuthorityIndex, AuthorityIndex>, TimeUs> clogged_;
  absl::btree_set<AuthorityIndex> down_;
  // Bumped when an authority goes down, so frames in flight to it are lost.
  absl::flat_hash_map<AuthorityIndex, uint64_t> down_epoch_;  // lookup only
  absl::flat_hash_map<Endpoint, uint64_t> endpoint_epoch_;    // lookup only
  uint64_t EpochOf(const Endpoint& to);
  std::vector<Tap> taps_;
  NetworkStats stats_;
  std::string joined_;  // Deliver's buffer for two-part frames (reused)
  std::shared_ptr<const std::string> last_body_;  // held, so the address stays unique
  uint64_t last_body_hash_ = 0;
};

// The Transport of one simulated endpoint.
class SimTransport;

}  // namespace narwhal::sim

#endif  // NARWHAL_TRANSPORT_SIM_NETWORK_H_
