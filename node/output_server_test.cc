// The output socket as a client sees it (docs/client_protocol.md): a real
// OutputServer on a loopback ROUTER over a store holding executed rows, a
// real DEALER as the client. What it serves, and the clear error each kind
// of bad request gets (no silent drop).
#include "node/output_server.h"

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/batch.h"
#include "core/execution/executor.h"
#include "core/store/memory_store.h"
#include "gtest/gtest.h"
#include "node/client.pb.h"
#include "node/client_lib.h"
#include "node/zmq_socket.h"
#include "node/local_cluster.h"

namespace narwhal::node {
namespace {

class OutputServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Rows 5 and 6 are kept (retention dropped 0..4): one batch in row 5.
    BatchBuilder b;
    b.Add("tx-one");
    b.Add("tx-two");
    const std::string batch = b.Seal();
    auto bytes = std::make_shared<const std::string>(batch);
    std::vector<ExecutedCertificateView> certs = {{BatchDigest("cert"), 2, 10, {{{BatchDigest(batch), 0}, bytes}}}};
    ASSERT_TRUE(store_.AppendExecuted(5, std::make_shared<const std::string>(
                                             EncodeExecutedRow(5, BatchDigest("cert"), 10, certs))).ok());
    ASSERT_TRUE(store_.AppendExecuted(6, std::make_shared<const std::string>(
                                             EncodeExecutedRow(6, BatchDigest("leader6"), 12, {}))).ok());
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
    auto port = PickFreePortRange(1);
    ASSERT_TRUE(port.ok()) << port.status();
    address_ = absl::StrCat("127.0.0.1:", *port);
    OutputServerOptions o;
    o.address = address_;
    auto server = OutputServer::Create(context_.get(), *loop_, &store_, o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    thread_ = std::thread([this] { loop_->Run(); });
    auto client = ZmqSocket::Create(context_.get(), ZMQ_DEALER);
    ASSERT_TRUE(client.ok());
    client_ = std::make_unique<ZmqSocket>(*std::move(client));
    ASSERT_TRUE(client_->Connect(address_).ok());
  }
  void TearDown() override {
    if (loop_) {
      loop_->Stop();
      if (thread_.joinable()) thread_.join();
    }
    client_.reset();
    server_.reset();
    loop_.reset();
  }

  void SendRaw(const std::vector<std::string_view>& parts) {
    auto sent = client_->Send(parts, /*dont_wait=*/false);
    ASSERT_TRUE(sent.ok() && *sent);
  }
  client::OutputMessage Next() {
    for (int i = 0; i < 50; ++i) {
      auto m = client_->Receive(100);
      EXPECT_TRUE(m.ok());
      if (!m.ok() || !m->has_value()) continue;
      client::OutputMessage out;
      EXPECT_EQ((*m)->size(), 1u);
      EXPECT_TRUE(out.ParseFromString((*m)->back()));
      if (out.has_heartbeat()) continue;
      return out;
    }
    ADD_FAILURE() << "no reply within 5 s";
    return {};
  }
  std::string ErrorFor(const std::vector<std::string_view>& parts) {
    SendRaw(parts);
    client::OutputMessage m = Next();
    EXPECT_TRUE(m.has_error()) << m.DebugString();
    return m.error();
  }

  ClientContext context_;
  MemoryStore store_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<OutputServer> server_;
  std::thread thread_;
  std::string address_;
  std::unique_ptr<ZmqSocket> client_;
};

std::string Subscribe(uint64_t from, int detail = client::ALL_TRANSACTIONS) {
  client::OutputRequest r;
  r.mutable_subscribe()->set_from_index(from);
  r.mutable_subscribe()->set_detail(static_cast<client::TransactionDetail>(detail));
  return r.SerializeAsString();
}

TEST_F(OutputServerTest, ServesTheKeptRowsWithTheirTransactions) {
  const std::string req = Subscribe(5);
  SendRaw({req});
  client::OutputMessage m = Next();
  ASSERT_TRUE(m.has_sub_dag()) << m.DebugString();
  EXPECT_EQ(m.sub_dag().index(), 5u);
  ASSERT_EQ(m.sub_dag().certificates_size(), 1);
  ASSERT_EQ(m.sub_dag().certificates(0).batches_size(), 1);
  const client::CommittedBatch& b = m.sub_dag().certificates(0).batches(0);
  EXPECT_EQ(b.transaction_count(), 2u);
  ASSERT_EQ(b.transactions_size(), 2);
  EXPECT_EQ(b.transactions(0), "tx-one");
  EXPECT_FALSE(b.unavailable());
  m = Next();
  ASSERT_TRUE(m.has_sub_dag());
  EXPECT_EQ(m.sub_dag().index(), 6u);
}

TEST_F(OutputServerTest, BelowRetentionNamesTheOldestAvailableIndex) {
  const std::string req = Subscribe(0);
  const std::string e = ErrorFor({req});
  EXPECT_TRUE(absl::StrContains(e, "no longer kept")) << e;
  EXPECT_TRUE(absl::StrContains(e, "oldest available index is 5")) << e;
}

TEST_F(OutputServerTest, EveryMalformedRequestGetsAClearError) {
  const std::string sub = Subscribe(5);
  EXPECT_TRUE(absl::StrContains(ErrorFor({sub, sub}), "one frame")) << "two frames in one message";
  const std::string bad_detail = Subscribe(5, 7);
  EXPECT_TRUE(absl::StrContains(ErrorFor({bad_detail}), "unknown detail 7"));
  client::OutputRequest unsub;
  unsub.set_unsubscribe(false);
  const std::string unsub_false = unsub.SerializeAsString();
  EXPECT_TRUE(absl::StrContains(ErrorFor({unsub_false}), "unsubscribe must be true"));
  client::SubmitRequest submit;
  submit.set_request_id(7);
  submit.add_transactions("hello");
  const std::string wrong_socket = submit.SerializeAsString();
  EXPECT_TRUE(absl::StrContains(ErrorFor({wrong_socket}), "transactions_address"));
  const std::string huge(limits::kOutputRequestBytesMax + 1, 0);
  EXPECT_TRUE(absl::StrContains(ErrorFor({huge}), "at most"));
  EXPECT_TRUE(absl::StrContains(ErrorFor({std::string_view("\xff\xff\xff", 3)}), "cannot parse"));
  // And the connection still works.
  SendRaw({sub});
  client::OutputMessage m = Next();
  EXPECT_TRUE(m.has_sub_dag()) << m.DebugString();
}

}  // namespace
}  // namespace narwhal::node
