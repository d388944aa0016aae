#include "transport_sim/network.h"

#include <algorithm>

#include "glog/logging.h"

namespace narwhal::sim {

Network::Network(Scheduler* scheduler, uint64_t seed, NetworkOptions options)
    : scheduler_(scheduler), random_(seed), options_(options) {}

void Network::Register(const Endpoint& endpoint, Receiver receiver) {
  receivers_[endpoint] = std::move(receiver);
}

void Network::RegisterParts(const Endpoint& endpoint, PartsReceiver receiver) {
  if (receiver) {
    parts_receivers_[endpoint] = std::move(receiver);
  } else {
    parts_receivers_.erase(endpoint);
  }
}

void Network::Unregister(const Endpoint& endpoint) {
  receivers_.erase(endpoint);
  parts_receivers_.erase(endpoint);
}

void Network::Partition(const std::vector<AuthorityIndex>& a, const std::vector<AuthorityIndex>& b) {
  for (AuthorityIndex x : a) {
    for (AuthorityIndex y : b) {
      blocked_.insert({x, y});
      blocked_.insert({y, x});
    }
  }
}

void Network::PartitionRole(const std::vector<AuthorityIndex>& a, const std::vector<AuthorityIndex>& b, Role role) {
  for (AuthorityIndex x : a) {
    for (AuthorityIndex y : b) blocked_roles_.insert({x, y, role});
  }
}

void Network::UnpartitionRole(const std::vector<AuthorityIndex>& a, const std::vector<AuthorityIndex>& b, Role role) {
  for (AuthorityIndex x : a) {
    for (AuthorityIndex y : b) blocked_roles_.erase({x, y, role});
  }
}

bool Network::RoleCut(const Endpoint& from, const Endpoint& to) const {
  if (blocked_roles_.empty()) return false;
  auto role = [](const Endpoint& e) { return e.is_primary() ? Role::kPrimary : Role::kWorkers; };
  return blocked_roles_.contains({from.authority, to.authority, role(from)}) ||
         blocked_roles_.contains({to.authority, from.authority, role(to)});
}

void Network::SetDown(AuthorityIndex a, bool down) {
  if (down) {
    down_.insert(a);
    ++down_epoch_[a];
  } else {
    down_.erase(a);
  }
}

void Network::BumpEndpointEpoch(const Endpoint& e) { ++endpoint_epoch_[e]; }

uint64_t Network::EpochOf(const Endpoint& to) {
  // An authority's crashes in the low half, this endpoint's own (a role
  // crashed alone) in the high half: a frame in flight across either is lost.
  return down_epoch_[to.authority] + (endpoint_epoch_[to] << 32);
}

TimeUs Network::DrawDelay() {
  const TimeUs lo = options_.one_way_delay_us_min;
  const TimeUs mean = std::max(options_.one_way_delay_us_mean, lo);
  if (options_.delay_distribution == DelayDistribution::kUniform) {
    return random_.UniformRange(lo, 2 * mean - lo);
  }
  return lo + static_cast<TimeUs>(random_.Exponential(static_cast<double>(mean - lo)));
}

void Network::Send(const Endpoint& from, const Endpoint& to, std::string frame) {
  SendParts(from, to, std::string(), std::make_shared<const std::string>(std::move(frame)));
}

void Network::SendParts(const Endpoint& from, const Endpoint& to, std::string prefix,
                        std::shared_ptr<const std::string> body) {
  ++stats_.frames_sent;
  if (down_.contains(from.authority) || down_.contains(to.authority)) {
    ++stats_.frames_dropped_down;
    return;
  }
  // Shared by the duplicates of this frame.
  const uint64_t body_hash = BodyHash(body);
  auto shared = std::make_shared<const Parts>(Parts{std::move(prefix), std::move(body), body_hash});
  const uint64_t epoch = EpochOf(to);
  if (from.authority == to.authority) {
    scheduler_->Schedule(options_.local_delay_us,
                         [this, from, to, shared, epoch] { Deliver(from, to, *shared, epoch); });
    return;
  }
  if (blocked_.contains({from.authority, to.authority}) || RoleCut(from, to)) {
    ++stats_.frames_dropped_partition;
    return;
  }
  if (random_.Bernoulli(options_.packet_loss_probability)) {
    ++stats_.frames_dropped_loss;
    return;
  }
  TimeUs extra = 0;
  if (auto it = clogged_.find({from.authority, to.authority}); it != clogged_.end()) extra = it->second;
  const int copies = random_.Bernoulli(options_.packet_duplication_probability) ? 2 : 1;
  if (copies == 2) ++stats_.frames_duplicated;
  for (int i = 0; i < copies; ++i) {
    scheduler_->Schedule(DrawDelay() + extra,
                         [this, from, to, shared, epoch] { Deliver(from, to, *shared, epoch); });
  }
}

uint64_t Network::BodyHash(const std::shared_ptr<const std::string>& body) {
  if (body != last_body_) {
    last_body_ = body;
    last_body_hash_ = Hash64(*body);
  }
  return last_body_hash_;
}

void Network::Deliver(const Endpoint& from, const Endpoint& to, const Parts& parts,
                      uint64_t down_epoch) {
  if (down_.contains(to.authority) || EpochOf(to) != down_epoch) {
    ++stats_.frames_dropped_down;
    return;
  }
  auto it = receivers_.find(to);
  if (it == receivers_.end()) {
    ++stats_.frames_dropped_down;
    return;
  }
  // A two-part frame goes to the parts receiver as it is; joined only for a
  // receiver or tap that needs it whole.
  auto parts_it = parts.prefix.empty() ? parts_receivers_.end() : parts_receivers_.find(to);
  const bool whole = parts_it == parts_receivers_.end() || !taps_.empty();
  std::string_view frame = *parts.body;
  if (whole && !parts.prefix.empty()) {
    // Into a buffer that stays allocated: deliveries never nest.
    joined_.assign(parts.prefix);
    joined_.append(*parts.body);
    frame = joined_;
  }
  ++stats_.frames_delivered;
  stats_.bytes_delivered += parts.prefix.size() + parts.body->size();
  TraceHash& trace = scheduler_->trace();
  trace.Mix(static_cast<uint64_t>(scheduler_->NowUs()));
  trace.Mix((uint64_t{from.authority} << 40) | (uint64_t{from.role} << 32) |
            (uint64_t{to.authority} << 8) | to.role);
  trace.MixBytes(parts.prefix);
  trace.Mix(parts.body_hash);
  for (const auto& tap : taps_) tap(from, to, frame);
  // Copy the receiver: the callback may re-register (a restart).
  if (parts_it != parts_receivers_.end()) {
    PartsReceiver receiver = parts_it->second;
    return receiver(from, parts.prefix, *parts.body);
  }
  Receiver receiver = it->second;
  receiver(from, frame);
}

}  // namespace narwhal::sim
