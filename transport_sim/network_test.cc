#include "transport_sim/network.h"

#include <vector>

#include "gtest/gtest.h"
#include "transport_sim/sim_transport.h"

namespace narwhal::sim {
namespace {

struct Received {
  Endpoint from;
  std::string frame;
  TimeUs at;
};

class NetworkTest : public ::testing::Test {
 protected:
  void Wire(NetworkOptions options) {
    net_ = std::make_unique<Network>(&sched_, 7, options);
    for (AuthorityIndex a = 0; a < 3; ++a) {
      transports_.push_back(std::make_unique<SimTransport>(net_.get(), Endpoint::Primary(a), 3, 1));
      transports_.back()->SetReceiver([this, a](const Endpoint& from, std::string_view f) {
        got_[a].push_back({from, std::string(f), sched_.NowUs()});
      });
    }
  }
  Scheduler sched_;
  std::unique_ptr<Network> net_;
  std::vector<std::unique_ptr<SimTransport>> transports_;
  std::map<AuthorityIndex, std::vector<Received>> got_;
};

TEST_F(NetworkTest, DeliversWithDelayAboveFloor) {
  NetworkOptions o;
  o.one_way_delay_us_min = 1000;
  o.one_way_delay_us_mean = 5000;
  Wire(o);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), "x").ok());
  sched_.RunUntil(10 * kSecondUs);
  ASSERT_EQ(got_[1].size(), 50u);
  for (const auto& r : got_[1]) {
    EXPECT_GE(r.at, 1000);
    EXPECT_EQ(r.from, Endpoint::Primary(0));
  }
}

TEST_F(NetworkTest, UnknownEndpointRefused) {
  Wire({});
  EXPECT_FALSE(transports_[0]->Send(Endpoint::Primary(9), "x").ok());
  EXPECT_FALSE(transports_[0]->Send(Endpoint::Worker(1, 3), "x").ok());
}

TEST_F(NetworkTest, LossDropsAboutTheRightShare) {
  NetworkOptions o;
  o.packet_loss_probability = 0.3;
  Wire(o);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), "x").ok());
  sched_.RunUntil(10 * kSecondUs);
  EXPECT_NEAR(got_[1].size() / 2000.0, 0.7, 0.05);
  EXPECT_EQ(net_->stats().frames_dropped_loss + got_[1].size(), 2000u);
}

TEST_F(NetworkTest, DuplicationDeliversTwice) {
  NetworkOptions o;
  o.packet_duplication_probability = 1.0;
  Wire(o);
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), "x").ok());
  sched_.RunUntil(kSecondUs);
  EXPECT_EQ(got_[1].size(), 2u);
}

TEST_F(NetworkTest, OneWayBlockStallsTcpLinksBothWays) {
  Wire({});  // links are TCP by default
  net_->Block(0, 1);
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), "a").ok());
  ASSERT_TRUE(transports_[1]->Send(Endpoint::Primary(0), "b").ok());
  ASSERT_TRUE(transports_[2]->Send(Endpoint::Primary(0), "c").ok());
  sched_.RunUntil(kSecondUs);
  EXPECT_EQ(got_[1].size(), 0u);
  EXPECT_EQ(got_[0].size(), 1u);  // only from 2
  net_->Unblock(0, 1);
  ASSERT_TRUE(transports_[1]->Send(Endpoint::Primary(0), "d").ok());
  sched_.RunUntil(2 * kSecondUs);
  EXPECT_EQ(got_[0].size(), 2u);
}

TEST_F(NetworkTest, OneWayAndSymmetricPartitions) {
  NetworkOptions datagram;
  datagram.one_way_block_stalls_both_ways = false;
  Wire(datagram);
  net_->Block(0, 1);
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), "a").ok());
  ASSERT_TRUE(transports_[1]->Send(Endpoint::Primary(0), "b").ok());
  sched_.RunUntil(kSecondUs);
  EXPECT_EQ(got_[1].size(), 0u);
  EXPECT_EQ(got_[0].size(), 1u);
  net_->HealAll();
  net_->Partition({0}, {1, 2});
  ASSERT_TRUE(transports_[2]->Send(Endpoint::Primary(0), "c").ok());
  ASSERT_TRUE(transports_[1]->Send(Endpoint::Primary(2), "d").ok());
  sched_.RunUntil(2 * kSecondUs);
  EXPECT_EQ(got_[0].size(), 1u);
  EXPECT_EQ(got_[2].size(), 1u);
}

TEST_F(NetworkTest, ClogDelaysAndDownDropsInFlight) {
  Wire({});
  net_->Clog(0, 1, 5 * kSecondUs);
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(1), "slow").ok());
  ASSERT_TRUE(transports_[0]->Send(Endpoint::Primary(2), "fast").ok());
  sched_.RunUntil(kSecondUs);
  EXPECT_EQ(got_[1].size(), 0u);
  EXPECT_EQ(got_[2].size(), 1u);
  net_->SetDown(1, true);
  net_->SetDown(1, false);  // a crash-restart: what was in flight is lost
  sched_.RunUntil(10 * kSecondUs);
  EXPECT_EQ(got_[1].size(), 0u);
}

TEST_F(NetworkTest, SameSeedSameTrace) {
  auto run = [](uint64_t seed) {
    Scheduler s;
    NetworkOptions o;
    o.packet_loss_probability = 0.2;
    Network n(&s, seed, o);
    int got = 0;
    n.Register(Endpoint::Primary(1), [&](const Endpoint&, std::string_view) { got++; });
    for (int i = 0; i < 100; ++i) n.Send(Endpoint::Primary(0), Endpoint::Primary(1), std::to_string(i));
    s.RunUntil(kSecondUs);
    return s.trace().value();
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

}  // namespace
}  // namespace narwhal::sim
