// CurveZMQ with the ZAP authenticator, on real sockets. Each authority gets
// its own zmq::context_t (as it would in its own process) and so its own ZAP
// handler; one event loop serves them all.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "gtest/gtest.h"
#include "transport_zmq/curve_keys.h"
#include "transport_zmq/sender_header.h"
#include "transport_zmq/test_ports.h"
#include "transport_zmq/zap_authenticator.h"
#include "transport_zmq/zmq_transport.h"

namespace narwhal {
namespace {

using Addresses = absl::btree_map<Endpoint, std::string>;
using Received = std::vector<std::pair<Endpoint, std::string>>;

constexpr TimeUs kTestTimeoutUs = 10 * kSecondUs;

const Endpoint kA = Endpoint::Primary(0);
const Endpoint kB = Endpoint::Primary(1);

CurveKeyPair MakeKeys() {
  absl::StatusOr<CurveKeyPair> keys = GenerateCurveKeyPair();
  CHECK(keys.ok()) << keys.status();
  return *std::move(keys);
}

std::string HeaderBytes(const Endpoint& e) {
  auto header = EncodeSenderHeader(e);
  return std::string(header.data(), header.size());
}

class ZmqCurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
    members_ = {{0, key_a_.public_key}, {1, key_b_.public_key}};
    auto zap_a = ZapAuthenticator::Create(context_a_, *loop_, members_);
    auto zap_b = ZapAuthenticator::Create(context_b_, *loop_, members_);
    ASSERT_TRUE(zap_a.ok()) << zap_a.status();
    ASSERT_TRUE(zap_b.ok()) << zap_b.status();
    zap_a_ = *std::move(zap_a);
    zap_b_ = *std::move(zap_b);
    addresses_ = {{kA, testing::LoopbackAddress(testing::PickFreePort())},
                  {kB, testing::LoopbackAddress(testing::PickFreePort())},
                  // Authority 1's worker 0: in the address map, so only the
                  // key can keep an impostor of it out.
                  {Endpoint::Worker(1, 0), testing::LoopbackAddress(testing::PickFreePort())}};
  }

  ZmqTransportOptions Options(const CurveKeyPair& self, const ZapAuthenticator* zap) {
    ZmqTransportOptions options;
    options.reconnect_interval_ms = 10;
    options.reconnect_interval_max_ms = 100;
    options.curve = ZmqCurveOptions{self, members_, zap};
    return options;
  }

  std::unique_ptr<ZmqTransport> Create(zmq::context_t& context, Endpoint self,
                                       ZmqTransportOptions options,
                                       const Addresses* addresses = nullptr) {
    auto transport = ZmqTransport::Create(context, *loop_, self,
                                          addresses ? *addresses : addresses_, std::move(options));
    EXPECT_TRUE(transport.ok()) << transport.status();
    return transport.ok() ? *std::move(transport) : nullptr;
  }

  static void Collect(ZmqTransport& transport, Received* received) {
    transport.SetReceiver([received](const Endpoint& from, std::string_view frame) {
      received->emplace_back(from, std::string(frame));
    });
  }

  bool RunUntil(const std::function<bool()>& done) { return loop_->RunUntil(done, kTestTimeoutUs); }

  CurveKeyPair key_a_ = MakeKeys();
  CurveKeyPair key_b_ = MakeKeys();
  CurveKeyPair key_outsider_ = MakeKeys();
  absl::btree_map<AuthorityIndex, std::string> members_;
  Addresses addresses_;
  // Contexts first: destroyed after every socket.
  zmq::context_t context_a_;
  zmq::context_t context_b_;
  zmq::context_t context_outsider_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<ZapAuthenticator> zap_a_;
  std::unique_ptr<ZapAuthenticator> zap_b_;
};

TEST_F(ZmqCurveTest, MembersExchangeFramesBothWays) {
  auto a = Create(context_a_, kA, Options(key_a_, zap_a_.get()));
  auto b = Create(context_b_, kB, Options(key_b_, zap_b_.get()));
  ASSERT_TRUE(a && b);
  Received at_a, at_b;
  Collect(*a, &at_a);
  Collect(*b, &at_b);
  ASSERT_TRUE(a->Send(kB, "to b").ok());
  ASSERT_TRUE(b->Send(kA, "to a").ok());
  ASSERT_TRUE(RunUntil([&] { return at_a.size() == 1 && at_b.size() == 1; }));
  EXPECT_EQ(at_a[0], std::make_pair(kB, std::string("to a")));
  EXPECT_EQ(at_b[0], std::make_pair(kA, std::string("to b")));
  EXPECT_EQ(zap_a_->accepted(), 1u);
  EXPECT_EQ(zap_b_->accepted(), 1u);
  EXPECT_EQ(zap_a_->refused() + zap_b_->refused(), 0u);
}

TEST_F(ZmqCurveTest, NonMemberKeyIsRefusedAndItsFramesNeverDelivered) {
  auto a = Create(context_a_, kA, Options(key_a_, zap_a_.get()));
  auto b = Create(context_b_, kB, Options(key_b_, zap_b_.get()));
  ASSERT_TRUE(a && b);
  Received at_a;
  Collect(*a, &at_a);

  // The outsider poses as authority 1's worker with a key of its own; in its
  // own (forged) view of the committee that key is authority 1's.
  absl::btree_map<AuthorityIndex, std::string> forged = {{0, key_a_.public_key},
                                                        {1, key_outsider_.public_key}};
  auto zap_outsider = ZapAuthenticator::Create(context_outsider_, *loop_, forged);
  ASSERT_TRUE(zap_outsider.ok());
  ZmqTransportOptions outsider_options;
  outsider_options.reconnect_interval_ms = 10;
  outsider_options.curve = ZmqCurveOptions{key_outsider_, forged, zap_outsider->get()};
  auto outsider = Create(context_outsider_, Endpoint::Worker(1, 0), outsider_options);
  ASSERT_NE(outsider, nullptr);

  ASSERT_TRUE(outsider->Send(kA, "intruder").ok());
  // libzmq gives up on a connection whose handshake was refused; once the
  // handshake is refused, nothing queued on it can be delivered.
  ASSERT_TRUE(RunUntil([&] { return zap_a_->refused() >= 1; }));
  // A member's frame sent after the refusals arrives, and nothing else does.
  ASSERT_TRUE(b->Send(kA, "member").ok());
  ASSERT_TRUE(RunUntil([&] { return !at_a.empty(); }));
  loop_->RunUntil([] { return false; }, 50 * kMillisecondUs);
  ASSERT_EQ(at_a.size(), 1u);
  EXPECT_EQ(at_a[0], std::make_pair(kB, std::string("member")));
  EXPECT_EQ(zap_a_->accepted(), 1u);

  outsider.reset();
  zap_outsider->reset();
}

TEST_F(ZmqCurveTest, RefusedDealerIsRecreatedAfterRefusedResetMs) {
  // B's key is not yet in A's committee (say A runs an old configuration):
  // A refuses B's handshake, and libzmq would never try again by itself.
  auto zap_a_old = ZapAuthenticator::Create(context_outsider_, *loop_, {{0, key_a_.public_key}});
  ASSERT_TRUE(zap_a_old.ok()) << zap_a_old.status();
  auto a = Create(context_outsider_, kA, Options(key_a_, zap_a_old->get()));
  ASSERT_NE(a, nullptr);
  Received at_a;
  Collect(*a, &at_a);
  ZmqTransportOptions options = Options(key_b_, zap_b_.get());
  options.refused_reset_ms = 50;
  auto b = Create(context_b_, kB, options);
  ASSERT_NE(b, nullptr);

  // B keeps sending; each reset makes a new connection, refused again.
  std::function<void()> send = [&] {
    (void)b->Send(kA, "hello");
    loop_->Schedule(10 * kMillisecondUs, send);
  };
  send();
  ASSERT_TRUE(RunUntil([&] { return (*zap_a_old)->refused() >= 2; }));
  EXPECT_TRUE(at_a.empty());
  EXPECT_GE(b->stats().sends_refused, 1u);
  b.reset();
  a.reset();
  zap_a_old->reset();
}

TEST_F(ZmqCurveTest, MemberCannotClaimAnotherAuthoritysEndpoint) {
  auto a = Create(context_a_, kA, Options(key_a_, zap_a_.get()));
  ASSERT_NE(a, nullptr);
  Received at_a;
  Collect(*a, &at_a);

  // Authority 1, with its genuine key, on a raw DEALER so it can write any
  // sender header it likes.
  zmq::socket_t raw(context_b_, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::curve_serverkey, key_a_.public_key);
  raw.set(zmq::sockopt::curve_publickey, key_b_.public_key);
  raw.set(zmq::sockopt::curve_secretkey, key_b_.secret_key);
  raw.connect(ZmqAddress(addresses_[kA]));
  // Claims authority 0 (A's own primary): dropped.
  raw.send(zmq::buffer(HeaderBytes(kA)), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("spoofed"), zmq::send_flags::none);
  // Claims one of authority 1's own roles: the key binds the authority, not
  // the role, so this is accepted. Same connection, so it arrives after the
  // spoofed frame has been handled.
  raw.send(zmq::buffer(HeaderBytes(Endpoint::Worker(1, 0))), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("own role"), zmq::send_flags::none);

  ASSERT_TRUE(RunUntil([&] { return !at_a.empty(); }));
  EXPECT_EQ(a->stats().frames_dropped, 1u);
  ASSERT_EQ(at_a.size(), 1u);
  EXPECT_EQ(at_a[0], std::make_pair(Endpoint::Worker(1, 0), std::string("own role")));
}

TEST_F(ZmqCurveTest, PlainTcpClientCannotReachACurveServer) {
  auto a = Create(context_a_, kA, Options(key_a_, zap_a_.get()));
  ASSERT_NE(a, nullptr);
  Received at_a;
  Collect(*a, &at_a);
  zmq::socket_t raw(context_b_, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(ZmqAddress(addresses_[kA]));
  raw.send(zmq::buffer(HeaderBytes(kB)), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("plain"), zmq::send_flags::none);

  // A curve member's frame, sent later, gets through; the plain one never.
  auto b = Create(context_b_, kB, Options(key_b_, zap_b_.get()));
  ASSERT_NE(b, nullptr);
  loop_->RunUntil([] { return false; }, 50 * kMillisecondUs);
  ASSERT_TRUE(b->Send(kA, "curve").ok());
  ASSERT_TRUE(RunUntil([&] { return !at_a.empty(); }));
  loop_->RunUntil([] { return false; }, 50 * kMillisecondUs);
  ASSERT_EQ(at_a.size(), 1u);
  EXPECT_EQ(at_a[0].second, "curve");
}

TEST_F(ZmqCurveTest, InconsistentCurveOptionsAreRejected) {
  ZmqTransportOptions no_zap = Options(key_a_, nullptr);
  EXPECT_EQ(ZmqTransport::Create(context_a_, *loop_, kA, addresses_, no_zap).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Our key is not the one the committee lists for us.
  ZmqTransportOptions wrong_key = Options(key_outsider_, zap_a_.get());
  EXPECT_EQ(ZmqTransport::Create(context_a_, *loop_, kA, addresses_, wrong_key).status().code(),
            absl::StatusCode::kInvalidArgument);
  // One ZAP handler per context.
  EXPECT_FALSE(ZapAuthenticator::Create(context_a_, *loop_, members_).ok());
  // A key naming two authorities.
  zmq::context_t other;
  auto shared =
      ZapAuthenticator::Create(other, *loop_, {{0, key_a_.public_key}, {1, key_a_.public_key}});
  EXPECT_EQ(shared.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace narwhal
