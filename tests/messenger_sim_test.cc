// The ReliableSender/UnreliableSender of core/net, run in virtual time over
// the simulated network: loss, partitions, cancellation, bounded queues and
// the backoff schedule, each shown by counting frames on the wire.
#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "core/net/messenger.h"
#include "gtest/gtest.h"
#include "transport_sim/network.h"
#include "transport_sim/scheduler.h"
#include "transport_sim/sim_transport.h"

namespace narwhal {
namespace {

using sim::Network;
using sim::NetworkOptions;
using sim::NodeTimers;
using sim::Scheduler;
using sim::SimTransport;

class MessengerSimTest : public ::testing::Test {
 protected:
  // Without the tap, broadcasts reach the messenger in two parts (the
  // network joins frames only for taps and receivers that need them whole).
  void Build(NetworkOptions net_options, MessengerOptions options, bool tap = true) {
    net_ = std::make_unique<Network>(&sched_, 11, net_options);
    if (tap) {
      net_->AddTap([this](const Endpoint& from, const Endpoint& to, std::string_view frame) {
        wire::Frame f;
        if (f.ParseFromArray(frame.data(), frame.size()) && f.has_request()) {
          requests_on_wire_[to.authority]++;
          request_times_.push_back(sched_.NowUs());
        }
      });
    }
    for (AuthorityIndex a = 0; a < 2; ++a) {
      timers_.push_back(std::make_unique<NodeTimers>(&sched_, a));
      randoms_.push_back(std::make_unique<Random>(100 + a));
      transports_.push_back(std::make_unique<SimTransport>(net_.get(), Endpoint::Primary(a), 2, 1));
      Env env{&sched_, timers_.back().get(), randoms_.back().get(), transports_.back().get(), nullptr};
      messengers_.push_back(std::make_unique<Messenger>(env, options));
    }
    // Authority 1 acknowledges everything (the seed's automatic ACK).
    messengers_[1]->SetRequestHandler(
        [this](const Endpoint& from, const wire::Request& r, Messenger::Responder respond) {
          handled_++;
          respond(true, "ACK", {});
        });
  }

  wire::Request Batch(std::string bytes) {
    wire::Request r;
    r.mutable_worker_batch()->set_batch(std::move(bytes));
    return r;
  }

  Scheduler sched_;
  std::unique_ptr<Network> net_;
  std::vector<std::unique_ptr<NodeTimers>> timers_;
  std::vector<std::unique_ptr<Random>> randoms_;
  std::vector<std::unique_ptr<SimTransport>> transports_;
  std::vector<std::unique_ptr<Messenger>> messengers_;
  std::map<AuthorityIndex, int> requests_on_wire_;
  std::vector<TimeUs> request_times_;
  int handled_ = 0;
};

TEST_F(MessengerSimTest, DeliveredAndAckedThroughHeavyLoss) {
  NetworkOptions n;
  n.packet_loss_probability = 0.3;
  Build(n, {});
  int acked = 0;
  std::vector<RequestHandle> handles;
  for (int i = 0; i < 50; ++i) {
    auto h = messengers_[0]->SendReliable(
        Endpoint::Primary(1), Batch("b" + std::to_string(i)),
        [&](const Endpoint& peer, const absl::StatusOr<wire::Response>& r) {
          ASSERT_TRUE(r.ok());
          EXPECT_TRUE(r->success());
          EXPECT_EQ(r->message(), "ACK");
          acked++;
        });
    ASSERT_TRUE(h.ok());
    handles.push_back(std::move(*h));
  }
  sched_.RunUntil(60 * kSecondUs);
  EXPECT_EQ(acked, 50);
  EXPECT_GT(messengers_[0]->stats().retransmissions, 0u);  // loss forced retries
  EXPECT_EQ(messengers_[0]->PendingTo(Endpoint::Primary(1)), 0u);
}

TEST_F(MessengerSimTest, DeliveredAfterPartitionHeals) {
  Build({}, {});
  net_->Partition({0}, {1});
  TimeUs acked_at = -1;
  auto h = messengers_[0]->SendReliable(
      Endpoint::Primary(1), Batch("x"),
      [&](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
        ASSERT_TRUE(r.ok());
        acked_at = sched_.NowUs();
      });
  ASSERT_TRUE(h.ok());
  sched_.RunUntil(10 * kSecondUs);
  EXPECT_EQ(handled_, 0);
  EXPECT_EQ(acked_at, -1);
  net_->HealAll();
  sched_.RunUntil(30 * kSecondUs);
  EXPECT_GT(acked_at, 10 * kSecondUs);
  // The next retry after the heal is at most max_interval (+30%) away.
  EXPECT_LT(acked_at, 10 * kSecondUs + 7 * kSecondUs);
}

TEST_F(MessengerSimTest, GivesUpAfterMaxElapsedWithClearStatus) {
  MessengerOptions o;
  o.retry.max_elapsed_us = 3 * kSecondUs;
  Build({}, o);
  net_->Partition({0}, {1});
  absl::Status result;
  TimeUs at = -1;
  auto h = messengers_[0]->SendReliable(
      Endpoint::Primary(1), Batch("x"), [&](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
        result = r.status();
        at = sched_.NowUs();
      });
  ASSERT_TRUE(h.ok());
  sched_.RunUntil(20 * kSecondUs);
  EXPECT_EQ(result.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(result.message().find("max_elapsed"), std::string::npos) << result;
  EXPECT_EQ(at, 3 * kSecondUs);
  EXPECT_EQ(messengers_[0]->stats().gave_up, 1u);
  EXPECT_EQ(messengers_[0]->PendingTo(Endpoint::Primary(1)), 0u);
}

TEST_F(MessengerSimTest, CancelStopsRetransmissions) {
  Build({}, {});
  net_->Block(0, 1);  // requests are lost; nothing ever answers
  auto h = messengers_[0]->SendReliable(Endpoint::Primary(1), Batch("x"), nullptr);
  ASSERT_TRUE(h.ok());
  sched_.RunUntil(5 * kSecondUs);
  const uint64_t sent_before = messengers_[0]->stats().retransmissions;
  EXPECT_GT(sent_before, 2u);
  h->Cancel();
  net_->HealAll();
  sched_.RunUntil(60 * kSecondUs);
  EXPECT_EQ(messengers_[0]->stats().retransmissions, sent_before);
  EXPECT_EQ(requests_on_wire_[1], 0);  // none after the heal either
}

TEST_F(MessengerSimTest, DroppingTheHandleCancels) {
  Build({}, {});
  net_->Block(0, 1);
  {
    auto h = messengers_[0]->SendReliable(Endpoint::Primary(1), Batch("x"), nullptr);
    ASSERT_TRUE(h.ok());
    sched_.RunUntil(1 * kSecondUs);
  }  // CancelOnDrop
  const uint64_t sent = messengers_[0]->stats().retransmissions;
  net_->HealAll();
  sched_.RunUntil(60 * kSecondUs);
  EXPECT_EQ(messengers_[0]->stats().retransmissions, sent);
  EXPECT_EQ(handled_, 0);
}

TEST_F(MessengerSimTest, FullQueueRefusesAndLosesNothingQueued) {
  MessengerOptions o;
  o.max_pending_per_peer = 5;
  Build({}, o);
  net_->Partition({0}, {1});
  std::vector<RequestHandle> handles;
  int acked = 0;
  for (int i = 0; i < 5; ++i) {
    auto h = messengers_[0]->SendReliable(
        Endpoint::Primary(1), Batch(std::to_string(i)),
        [&](const Endpoint&, const absl::StatusOr<wire::Response>& r) { acked += r.ok(); });
    ASSERT_TRUE(h.ok());
    handles.push_back(std::move(*h));
  }
  auto refused = messengers_[0]->SendReliable(Endpoint::Primary(1), Batch("6"), nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("full"), std::string::npos);
  net_->HealAll();
  sched_.RunUntil(30 * kSecondUs);
  EXPECT_EQ(acked, 5);
  EXPECT_EQ(handled_ >= 5, true);
  // Room again once answered.
  EXPECT_TRUE(messengers_[0]->SendReliable(Endpoint::Primary(1), Batch("7"), nullptr).ok());
}

TEST_F(MessengerSimTest, BackoffFollowsRetryConfig) {
  MessengerOptions o;
  o.retry.initial_interval_us = 100 * kMillisecondUs;
  o.retry.max_interval_us = 1 * kSecondUs;
  o.retry.multiplier = 2.0;
  o.retry.randomization_factor = 0.25;
  NetworkOptions n;
  n.one_way_delay_us_min = 1000;
  n.one_way_delay_us_mean = 1000;  // fixed delay: wire times are send times + 1 ms
  n.delay_distribution = sim::DelayDistribution::kUniform;
  Build(n, o);
  // Authority 1 never answers: every attempt shows up on the wire.
  messengers_[1]->SetRequestHandler([](const Endpoint&, const wire::Request&, Messenger::Responder) {});
  auto h = messengers_[0]->SendReliable(Endpoint::Primary(1), Batch("x"), nullptr);
  ASSERT_TRUE(h.ok());
  sched_.RunUntil(20 * kSecondUs);
  ASSERT_GT(request_times_.size(), 8u);
  double nominal = 100 * kMillisecondUs;
  for (size_t i = 1; i < request_times_.size(); ++i) {
    const double gap = request_times_[i] - request_times_[i - 1];
    EXPECT_GE(gap, nominal * 0.75 - 1) << "attempt " << i;
    EXPECT_LE(gap, nominal * 1.25 + 1) << "attempt " << i;
    nominal = std::min(nominal * 2.0, 1.0 * kSecondUs);
  }
}

TEST_F(MessengerSimTest, LateAndUnknownResponsesIgnored) {
  Build({}, {});
  int calls = 0;
  net_->Clog(1, 0, 2 * kSecondUs);  // responses arrive late
  auto h = messengers_[0]->SendReliable(
      Endpoint::Primary(1), Batch("x"), [&](const Endpoint&, const absl::StatusOr<wire::Response>&) { calls++; });
  ASSERT_TRUE(h.ok());
  sched_.RunUntil(1 * kSecondUs);
  h->Cancel();  // e.g. quorum reached elsewhere
  sched_.RunUntil(10 * kSecondUs);
  EXPECT_EQ(calls, 0);
  EXPECT_GT(messengers_[0]->stats().responses_ignored, 0u);
}

TEST_F(MessengerSimTest, UnreliableIsOneAttempt) {
  Build({}, {});
  net_->Block(0, 1);
  absl::Status got;
  ASSERT_TRUE(messengers_[0]
                  ->SendUnreliable(Endpoint::Primary(1), Batch("x"),
                                   [&](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
                                     got = r.status();
                                   },
                                   500 * kMillisecondUs)
                  .ok());
  sched_.RunUntil(10 * kSecondUs);
  EXPECT_EQ(got.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(messengers_[0]->stats().retransmissions, 0u);
  EXPECT_EQ(messengers_[0]->stats().requests_sent, 1u);
}

TEST_F(MessengerSimTest, MalformedFrameDroppedAndCounted) {
  Build({}, {});
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), std::string("\xff\xff\xff garbage", 11)).ok());
  sched_.RunUntil(kSecondUs);
  EXPECT_EQ(messengers_[1]->stats().malformed_frames, 1u);
  // Still works afterwards.
  bool ok = false;
  auto h = messengers_[0]->SendReliable(Endpoint::Primary(1), Batch("x"),
                                        [&](const Endpoint&, const absl::StatusOr<wire::Response>& r) { ok = r.ok(); });
  sched_.RunUntil(2 * kSecondUs);
  EXPECT_TRUE(ok);
}

TEST_F(MessengerSimTest, RawHandlerGetsTheExactBytesOfItsField) {
  for (bool tap : {true, false}) {
    SCOPED_TRACE(tap ? "whole frames" : "two-part frames");
    sched_ = Scheduler();
    messengers_.clear();
    transports_.clear();
    timers_.clear();
    randoms_.clear();
    handled_ = 0;
    Build({}, {}, tap);
    std::vector<std::string> raw;
    messengers_[1]->SetRawHandler(wire::Request::kCertificateFieldNumber,
                                  [&](const Endpoint& from, std::string_view bytes, Messenger::Responder respond) {
                                    EXPECT_EQ(from, Endpoint::Primary(0));
                                    raw.emplace_back(bytes);
                                    respond(true, "RAW", {});
                                  });
    const std::string payload(3000, 'c');
    wire::Request cert;
    cert.set_certificate(payload);
    std::string answer;
    auto h1 = messengers_[0]->SendReliable(Endpoint::Primary(1), cert,
                                           [&](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
                                             if (r.ok()) answer = r->message();
                                           });
    auto h2 = messengers_[0]->SendReliable(Endpoint::Primary(1), Batch("b"), nullptr);
    sched_.RunUntil(kSecondUs);
    ASSERT_EQ(raw.size(), 1u);
    EXPECT_EQ(raw[0], payload);
    EXPECT_EQ(answer, "RAW");
    EXPECT_EQ(handled_, 1);  // the batch took the general path
  }
}

TEST_F(MessengerSimTest, UnusualFramesTakeTheGeneralPath) {
  Build({}, {});
  int raw = 0;
  messengers_[1]->SetRawHandler(wire::Request::kCertificateFieldNumber,
                                [&](const Endpoint&, std::string_view, Messenger::Responder) { ++raw; });
  std::vector<wire::Request::BodyCase> kinds;
  messengers_[1]->SetRequestHandler(
      [&](const Endpoint&, const wire::Request& r, Messenger::Responder) { kinds.push_back(r.body_case()); });
  // A certificate field followed by another field of the oneof: protobuf
  // keeps the last one, and so must we (not the raw handler).
  wire::Request first;
  first.set_request_id(5);
  first.set_certificate("abc");
  wire::Request second;
  second.mutable_cleanup()->set_round(3);
  wire::Frame frame;
  *frame.mutable_request() = first;
  std::string bytes = frame.SerializeAsString();
  const std::string extra = second.SerializeAsString();
  bytes[1] = static_cast<char>(bytes[1] + extra.size());  // Frame.request's length (one byte here)
  bytes += extra;
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), bytes).ok());
  // No request id: not the envelope the fast path reads.
  wire::Frame no_id;
  no_id.mutable_request()->set_certificate("abc");
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), no_id.SerializeAsString()).ok());
  // A truncated envelope: malformed, dropped.
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), std::string("\x0a\x05\x08\x01", 4)).ok());
  sched_.RunUntil(kSecondUs);
  EXPECT_EQ(raw, 0);
  std::sort(kinds.begin(), kinds.end());  // delays reorder the frames
  EXPECT_EQ(kinds, (std::vector<wire::Request::BodyCase>{wire::Request::kCleanup,
                                                         wire::Request::kCertificate}));
  EXPECT_EQ(messengers_[1]->stats().malformed_frames, 1u);
}

}  // namespace
}  // namespace narwhal
