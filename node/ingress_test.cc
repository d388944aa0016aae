// The transactions socket as a client sees it (docs/client_protocol.md): a
// real Ingress on a loopback ROUTER in front of a real core Worker (its
// peers unreachable, so nothing reaches a quorum and max_pending_bytes
// fills up), a real DEALER as the client.
#include "node/ingress.h"

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/store/memory_store.h"
#include "gtest/gtest.h"
#include "node/client.pb.h"
#include "node/client_lib.h"
#include "node/local_cluster.h"
#include "node/zmq_socket.h"

namespace narwhal::node {
namespace {

// A transport to nowhere: the worker's batches never reach a quorum.
class NowhereTransport final : public Transport {
 public:
  Endpoint self() const override { return Endpoint::Worker(0, 0); }
  absl::Status Send(const Endpoint&, std::string) override { return absl::OkStatus(); }
  void SetReceiver(Receiver) override {}
};

Committee FourEqual() {
  std::vector<PublicKey> keys(4);
  for (size_t i = 0; i < keys.size(); ++i) keys[i][0] = static_cast<uint8_t>(i + 1);
  return Committee::ForTest(keys, std::vector<uint64_t>(4, 1), 1);
}

class IngressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    params_.max_pending_bytes = 1000;
    params_.batch_size_bytes = 1 << 20;
    params_.max_batch_delay_us = 3600 * kSecondUs;
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
    env_ = Env{loop_.get(), loop_.get(), &random_, &transport_, &store_};
    worker_ = std::make_unique<Worker>(env_, committee_, params_, 0, 0);
    auto port = PickFreePortRange(1);
    ASSERT_TRUE(port.ok());
    IngressOptions o;
    o.address = absl::StrCat("127.0.0.1:", *port);
    auto ingress = Ingress::Create(context_.get(), *loop_, *worker_, o);
    ASSERT_TRUE(ingress.ok()) << ingress.status();
    ingress_ = *std::move(ingress);
    thread_ = std::thread([this] { loop_->Run(); });
    auto client = ZmqSocket::Create(context_.get(), ZMQ_DEALER);
    ASSERT_TRUE(client.ok());
    client_ = std::make_unique<ZmqSocket>(*std::move(client));
    ASSERT_TRUE(client_->Connect(o.address).ok());
  }
  void TearDown() override {
    if (loop_) {
      loop_->Stop();
      if (thread_.joinable()) thread_.join();
    }
    client_.reset();
    ingress_.reset();
    worker_.reset();
    loop_.reset();
  }
  client::IngressMessage Ask(const std::vector<std::string>& parts) {
    std::vector<std::string_view> views(parts.begin(), parts.end());
    auto sent = client_->Send(views, /*dont_wait=*/false);
    EXPECT_TRUE(sent.ok() && *sent);
    for (int i = 0; i < 50; ++i) {
      auto m = client_->Receive(100);
      if (!m.ok() || !m->has_value()) continue;
      client::IngressMessage out;
      EXPECT_TRUE(out.ParseFromString((*m)->back()));
      return out;
    }
    ADD_FAILURE() << "no reply within 5 s";
    return {};
  }

  Committee committee_ = FourEqual();
  Parameters params_;
  Random random_{1};
  NowhereTransport transport_;
  MemoryStore store_;
  Env env_;
  ClientContext context_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Ingress> ingress_;
  std::thread thread_;
  std::unique_ptr<ZmqSocket> client_;
};

std::string Submit(uint64_t id, const std::vector<std::string>& txs) {
  client::IngressRequest r;
  r.mutable_submit()->set_request_id(id);
  for (const std::string& tx : txs) r.mutable_submit()->add_transactions(tx);
  return r.SerializeAsString();
}

TEST_F(IngressTest, AfterOneBackpressureRefusalTheRestOfTheRequestIsRefusedInOrder) {
  // 600 bytes fit under max_pending_bytes (1000); the second 600 do not; the
  // 10-byte one would fit but must not overtake the refused one.
  client::IngressMessage m =
      Ask({Submit(42, {std::string(600, 'a'), std::string(600, 'b'), std::string(10, 'c')})});
  ASSERT_TRUE(m.has_reply()) << m.DebugString();
  EXPECT_EQ(m.reply().request_id(), 42u);
  ASSERT_EQ(m.reply().ranges_size(), 3) << m.DebugString();
  EXPECT_EQ(m.reply().ranges(0).refusal(), client::NOT_REFUSED);
  EXPECT_EQ(m.reply().ranges(1).refusal(), client::BACKPRESSURE);
  EXPECT_EQ(m.reply().ranges(2).refusal(), client::BACKPRESSURE);
  EXPECT_EQ(m.reply().ranges(2).first(), 2u);
  EXPECT_TRUE(absl::StrContains(m.reply().ranges(2).reason(), "keep its order")) << m.reply().ranges(2).reason();
}

TEST_F(IngressTest, BadRequestsGetAClearErrorWithTheRequestIdWhenKnown) {
  client::OutputRequest subscribe;
  subscribe.mutable_subscribe()->set_from_index(3);
  subscribe.mutable_subscribe()->set_detail(client::NO_TRANSACTIONS);
  client::IngressMessage m = Ask({subscribe.SerializeAsString()});
  EXPECT_TRUE(absl::StrContains(m.error(), "output_address")) << m.DebugString();
  m = Ask({Submit(1, {"x"}), Submit(2, {"y"})});
  EXPECT_TRUE(absl::StrContains(m.error(), "one frame")) << m.DebugString();
  std::vector<std::string> many(limits::kSubmitTransactionsPerRequestMax + 1, "t");
  m = Ask({Submit(77, many)});
  EXPECT_TRUE(absl::StrContains(m.error(), "transactions per request")) << m.error();
  EXPECT_EQ(m.error_request_id(), 77u);
  // Still serving.
  m = Ask({Submit(5, {"fine"})});
  ASSERT_TRUE(m.has_reply()) << m.DebugString();
  EXPECT_EQ(m.reply().request_id(), 5u);
}

}  // namespace
}  // namespace narwhal::node
