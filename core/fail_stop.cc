#include "core/fail_stop.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

class FailStop::GuardedTimers final : public Timers {
 public:
  GuardedTimers(Timers* inner, FailStop* owner) : inner_(inner), owner_(owner) {}
  TimerId Schedule(TimeUs delay_us, std::function<void()> callback) override {
    return inner_->Schedule(delay_us, [owner = owner_, callback = std::move(callback)] {
      if (owner->halted()) return;
      owner->BeginEvent();
      callback();
      owner->EndEvent();
    });
  }
  void Cancel(TimerId id) override { inner_->Cancel(id); }

 private:
  Timers* const inner_;
  FailStop* const owner_;
};

class FailStop::GuardedTransport final : public Transport {
 public:
  GuardedTransport(Transport* inner, FailStop* owner) : inner_(inner), owner_(owner) {}
  Endpoint self() const override { return inner_->self(); }
  // Inside a handler the frame is held (and OK returned: a frame that
  // fails to go out at the end is a lost frame, which every sender already
  // copes with); outside one it goes at once.
  absl::Status Send(const Endpoint& to, std::string frame) override {
    if (owner_->halted()) return Halted();
    if (owner_->event_depth_ > 0) {
      owner_->held_.push_back({to, std::move(frame), nullptr});
      return absl::OkStatus();
    }
    return inner_->Send(to, std::move(frame));
  }
  absl::Status SendParts(const Endpoint& to, std::string prefix, std::shared_ptr<const std::string> body) override {
    if (owner_->halted()) return Halted();
    if (owner_->event_depth_ > 0) {
      CHECK(body != nullptr);
      owner_->held_.push_back({to, std::move(prefix), std::move(body)});
      return absl::OkStatus();
    }
    return inner_->SendParts(to, std::move(prefix), std::move(body));
  }
  void SetReceiver(Receiver receiver) override {
    inner_->SetReceiver([owner = owner_, receiver = std::move(receiver)](const Endpoint& from,
                                                                         std::string_view frame) {
      if (owner->halted()) return;
      owner->BeginEvent();
      receiver(from, frame);
      owner->EndEvent();
    });
  }
  void SetPartsReceiver(PartsReceiver receiver) override {
    inner_->SetPartsReceiver([owner = owner_, receiver = std::move(receiver)](
                                 const Endpoint& from, std::string_view prefix, std::string_view body) {
      if (owner->halted()) return;
      owner->BeginEvent();
      receiver(from, prefix, body);
      owner->EndEvent();
    });
  }
  // The held frames, in the order they were sent.
  void Flush(std::vector<HeldFrame> frames) {
    for (HeldFrame& f : frames) {
      absl::Status s = f.body == nullptr ? inner_->Send(f.to, std::move(f.prefix))
                                         : inner_->SendParts(f.to, std::move(f.prefix), std::move(f.body));
      if (s.ok()) continue;
      const uint64_t key = (static_cast<uint64_t>(f.to.authority) << 16) | (f.to.is_primary() ? 0xffff : f.to.worker_id());
      uint64_t held = 0;
      const TimeUs now = owner_->inner_.clock != nullptr ? owner_->inner_.clock->NowUs() : 0;
      if (owner_->flush_warnings_.Allow(key, now, &held)) {
        LOG(WARNING) << owner_->name_ << ": a frame to " << f.to.ToString() << " was not sent: " << s << " ("
                     << held << " similar failures to it held back)";
      }
    }
  }

 private:
  absl::Status Halted() const {
    return absl::FailedPreconditionError(absl::StrCat("halted: ", owner_->status().message()));
  }
  Transport* const inner_;
  FailStop* const owner_;
};

void FailStop::EndEvent() {
  CHECK_GT(event_depth_, 0);
  if (--event_depth_ > 0) return;
  std::vector<HeldFrame> frames = std::move(held_);
  held_.clear();
  if (halted()) {
    if (!frames.empty()) {
      LOG(WARNING) << name_ << ": " << frames.size() << " frame(s) of the event it halted in not sent";
    }
    return;
  }
  if (transport_ != nullptr) transport_->Flush(std::move(frames));
}

FailStop::FailStop(const Env& env, std::string name) : inner_(env), name_(std::move(name)) {
  guarded_ = inner_;
  if (inner_.timers != nullptr) {
    timers_ = std::make_unique<GuardedTimers>(inner_.timers, this);
    guarded_.timers = timers_.get();
  }
  if (inner_.transport != nullptr) {
    transport_ = std::make_unique<GuardedTransport>(inner_.transport, this);
    guarded_.transport = transport_.get();
  }
}

FailStop::~FailStop() = default;

void FailStop::Halt(std::string_view operation, const absl::Status& status) {
  CHECK(!status.ok()) << name_ << ": Halt(" << operation << ") with an OK status";
  if (halted()) {
    LOG(ERROR) << name_ << ": after halting, " << operation << " failed too: " << status;
    return;
  }
  status_ = absl::Status(status.code(), absl::StrCat(name_, ": store failure in ", absl::string_view(operation.data(), operation.size()), ": ",
                                                      status.message(), "; stopping"));
  LOG(ERROR) << status_.message();
  if (inner_.on_halt) inner_.on_halt(status_);
}

}  // namespace narwhal
