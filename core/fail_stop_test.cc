#include "core/fail_stop.h"

#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

// Timers that run what is due when told to, in order.
class ManualTimers final : public Timers {
 public:
  TimerId Schedule(TimeUs delay_us, std::function<void()> callback) override {
    due_[next_] = std::move(callback);
    return next_++;
  }
  void Cancel(TimerId id) override { due_.erase(id); }
  void RunAll() {
    auto due = std::move(due_);
    due_.clear();
    for (auto& [id, f] : due) f();
  }

 private:
  TimerId next_ = 1;
  std::map<TimerId, std::function<void()>> due_;
};

class RecordingTransport final : public Transport {
 public:
  Endpoint self() const override { return Endpoint::Primary(0); }
  absl::Status Send(const Endpoint& to, std::string frame) override {
    sent.push_back(frame);
    return absl::OkStatus();
  }
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }
  void Deliver(std::string_view frame) { receiver_(Endpoint::Primary(1), frame); }
  std::vector<std::string> sent;

 private:
  Receiver receiver_;
};

TEST(FailStopTest, HaltSilencesTimersAndTransportAndTellsTheEnvironmentOnce) {
  ManualTimers timers;
  RecordingTransport transport;
  std::vector<absl::Status> halts;
  Env env;
  env.timers = &timers;
  env.transport = &transport;
  env.on_halt = [&](const absl::Status& s) { halts.push_back(s); };
  FailStop stop(env, "primary 0");

  int fired = 0, received = 0;
  stop.env().transport->SetReceiver([&](const Endpoint&, std::string_view) { ++received; });
  stop.env().timers->Schedule(1, [&] { ++fired; });
  transport.Deliver("a");
  ASSERT_TRUE(stop.env().transport->Send(Endpoint::Primary(1), "x").ok());
  timers.RunAll();
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(received, 1);
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_FALSE(stop.halted());

  stop.env().timers->Schedule(1, [&] { ++fired; });  // due after the halt
  stop.Halt("PutVote", absl::UnavailableError("disk I/O error"));
  const absl::Status s = stop.status();
  EXPECT_TRUE(stop.halted());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("primary 0"), std::string::npos);
  EXPECT_NE(s.message().find("PutVote"), std::string::npos);
  EXPECT_NE(s.message().find("disk I/O error"), std::string::npos);

  timers.RunAll();
  transport.Deliver("b");
  EXPECT_FALSE(stop.env().transport->Send(Endpoint::Primary(1), "y").ok());
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(received, 1);
  EXPECT_EQ(transport.sent.size(), 1u);

  // A second failure keeps the first error and does not call the environment again.
  stop.Halt("PutCertificate", absl::DataLossError("torn"));
  ASSERT_EQ(halts.size(), 1u);
  EXPECT_EQ(halts[0], stop.status());
  EXPECT_NE(stop.status().message().find("PutVote"), std::string::npos);
}

TEST(FailStopTest, WorksWithoutAHandler) {
  Env env;
  FailStop stop(env, "worker 0.0");
  EXPECT_EQ(stop.env().timers, nullptr);
  stop.Halt("PutBatch", absl::InternalError("x"));
  EXPECT_TRUE(stop.halted());
}

}  // namespace
}  // namespace narwhal
