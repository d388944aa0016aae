// A do-nothing environment for harnesses that drive a core reactor with one
// input: a clock that stands still, timers that only fire when asked, and a
// transport that records what was sent. Deterministic by construction.
#ifndef NARWHAL_FUZZ_FAKE_ENV_H_
#define NARWHAL_FUZZ_FAKE_ENV_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/random.h"

namespace narwhal::fuzz {

class FakeClock : public Clock {
 public:
  TimeUs NowUs() const override { return now_us; }
  TimeUs now_us = 1'000'000;
};

class FakeTimers : public Timers {
 public:
  TimerId Schedule(TimeUs delay_us, std::function<void()> callback) override {
    pending[next_id] = std::move(callback);
    return next_id++;
  }
  void Cancel(TimerId id) override { pending.erase(id); }
  // Fires what is scheduled now (not what those callbacks schedule).
  void FireAll() {
    auto now = std::move(pending);
    pending.clear();
    for (auto& [id, cb] : now) cb();
  }
  std::map<TimerId, std::function<void()>> pending;
  TimerId next_id = 1;
};

class FakeTransport : public Transport {
 public:
  struct Sent {
    Endpoint to;
    std::string prefix;  // empty for Send
    std::string body;
  };
  explicit FakeTransport(Endpoint self) : self_(self) {}
  Endpoint self() const override { return self_; }
  absl::Status Send(const Endpoint& to, std::string frame) override {
    sent.push_back({to, "", std::move(frame)});
    return absl::OkStatus();
  }
  absl::Status SendParts(const Endpoint& to, std::string prefix,
                         std::shared_ptr<const std::string> body) override {
    sent.push_back({to, std::move(prefix), *body});
    return absl::OkStatus();
  }
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }
  void SetPartsReceiver(PartsReceiver receiver) override { parts_receiver_ = std::move(receiver); }

  void Deliver(const Endpoint& from, std::string_view frame) { receiver_(from, frame); }
  void DeliverParts(const Endpoint& from, std::string_view prefix, std::string_view body) {
    parts_receiver_(from, prefix, body);
  }

  std::vector<Sent> sent;

 private:
  Endpoint self_;
  Receiver receiver_;
  PartsReceiver parts_receiver_;
};

// Owns one of each, wired into an Env.
struct FakeEnv {
  explicit FakeEnv(Endpoint self, uint64_t seed = 1) : random(seed), transport(self) {}
  Env env(Store* store = nullptr) { return Env{&clock, &timers, &random, &transport, store}; }
  FakeClock clock;
  FakeTimers timers;
  Random random;
  FakeTransport transport;
};

}  // namespace narwhal::fuzz

#endif  // NARWHAL_FUZZ_FAKE_ENV_H_
