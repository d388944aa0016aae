#include "core/fail_stop.h"

#include <map>
#include <string>
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

TEST(FailStopTest, FramesOfAHandlerLeaveAtItsEndOrNotAtAllIfItHalts) {
  ManualTimers timers;
  RecordingTransport transport;
  Env env;
  env.timers = &timers;
  env.transport = &transport;
  FailStop stop(env, "primary 0");
  Transport* t = stop.env().transport;

  // Outside a handler a frame goes at once.
  ASSERT_TRUE(t->Send(Endpoint::Primary(1), "now").ok());
  EXPECT_EQ(transport.sent, (std::vector<std::string>{"now"}));

  // Inside one, frames are held until it returns, then go in order.
  size_t seen_inside = 0;
  t->SetReceiver([&](const Endpoint&, std::string_view frame) {
    ASSERT_TRUE(t->Send(Endpoint::Primary(1), "ack").ok());
    ASSERT_TRUE(t->Send(Endpoint::Primary(1), "vote").ok());
    seen_inside = transport.sent.size();
    if (frame == "fail") stop.Halt("PutVote", absl::UnavailableError("disk"));
  });
  transport.Deliver("header");
  EXPECT_EQ(seen_inside, 1u);
  EXPECT_EQ(transport.sent, (std::vector<std::string>{"now", "ack", "vote"}));

  // A handler that halts sends nothing: not the ACK it gave before halting.
  transport.Deliver("fail");
  EXPECT_TRUE(stop.halted());
  EXPECT_EQ(transport.sent.size(), 3u);

  // The same for a timer's callback.
  RecordingTransport transport2;
  env.transport = &transport2;
  FailStop stop2(env, "worker 0.0");
  stop2.env().timers->Schedule(1, [&] {
    ASSERT_TRUE(stop2.env().transport->Send(Endpoint::Primary(1), "retry").ok());
    EXPECT_TRUE(transport2.sent.empty());
    stop2.Halt("PutBatch", absl::UnavailableError("disk"));
  });
  timers.RunAll();
  EXPECT_TRUE(transport2.sent.empty());
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
