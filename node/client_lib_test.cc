#include "node/client_lib.h"

#include <set>

#include "gtest/gtest.h"

namespace narwhal::node {
namespace {

client::SubmitRequest Parse(std::string_view bytes) {
  client::IngressRequest request;
  EXPECT_TRUE(request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  EXPECT_TRUE(request.has_submit());
  return request.submit();
}

TEST(BenchRequestWriterTest, WritesAnIngressRequestProtobufParses) {
  BenchRequestWriter writer(512, 7, 100, 300);
  const client::SubmitRequest submit = Parse(writer.Write(123456789, 190, 250, 1'700'000'000'000'000));
  EXPECT_EQ(submit.request_id(), 123456789u);
  ASSERT_EQ(submit.transactions_size(), 250);
  std::set<std::string> distinct;
  for (int i = 0; i < submit.transactions_size(); ++i) {
    const std::string& tx = submit.transactions(i);
    ASSERT_EQ(tx.size(), 512u);
    auto info = ParseBenchTransaction(tx);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->client_id, 7u);
    EXPECT_EQ(info->counter, 190u + i);
    EXPECT_EQ(info->sample, (190 + i) % 100 == 0) << i;
    EXPECT_EQ(info->submitted_unix_us, 1'700'000'000'000'000);
    distinct.insert(tx);
  }
  EXPECT_EQ(distinct.size(), 250u);
}

TEST(BenchRequestWriterTest, LaterRequestsOverwriteHeadersAndCapAtTheMaximum) {
  BenchRequestWriter writer(30, 1, 0, 4);
  (void)writer.Write(1, 0, 4, 5);
  const client::SubmitRequest submit = Parse(writer.Write(2, 1000, 9, 6));
  EXPECT_EQ(submit.request_id(), 2u);
  ASSERT_EQ(submit.transactions_size(), 4);
  for (int i = 0; i < 4; ++i) {
    auto info = ParseBenchTransaction(submit.transactions(i));
    ASSERT_TRUE(info.has_value());
    EXPECT_FALSE(info->sample);
    EXPECT_EQ(info->counter, 1000u + i);
    EXPECT_EQ(info->submitted_unix_us, 6);
  }
}

TEST(BenchRequestWriterTest, TinyTransactionsGetTheHeaderSize) {
  BenchRequestWriter writer(1, 1, 1, 2);
  const client::SubmitRequest submit = Parse(writer.Write(1, 0, 2, 0));
  ASSERT_EQ(submit.transactions_size(), 2);
  EXPECT_EQ(submit.transactions(0).size(), kBenchTxHeaderBytes);
  EXPECT_EQ(submit.transactions(0), MakeBenchTransaction(1, 1, 0, true, 0));
}

}  // namespace
}  // namespace narwhal::node
