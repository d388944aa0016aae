#include "core/fail_stop.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal {

class FailStop::GuardedTimers final : public Timers {
 public:
  GuardedTimers(Timers* inner, const FailStop* owner) : inner_(inner), owner_(owner) {}
  TimerId Schedule(TimeUs delay_us, std::function<void()> callback) override {
    return inner_->Schedule(delay_us, [owner = owner_, callback = std::move(callback)] {
      if (!owner->halted()) callback();
    });
  }
  void Cancel(TimerId id) override { inner_->Cancel(id); }

 private:
  Timers* const inner_;
  const FailStop* const owner_;
};

class FailStop::GuardedTransport final : public Transport {
 public:
  GuardedTransport(Transport* inner, const FailStop* owner) : inner_(inner), owner_(owner) {}
  Endpoint self() const override { return inner_->self(); }
  absl::Status Send(const Endpoint& to, std::string frame) override {
    if (owner_->halted()) return Halted();
    return inner_->Send(to, std::move(frame));
  }
  absl::Status SendParts(const Endpoint& to, std::string prefix, std::shared_ptr<const std::string> body) override {
    if (owner_->halted()) return Halted();
    return inner_->SendParts(to, std::move(prefix), std::move(body));
  }
  void SetReceiver(Receiver receiver) override {
    inner_->SetReceiver([owner = owner_, receiver = std::move(receiver)](const Endpoint& from,
                                                                         std::string_view frame) {
      if (!owner->halted()) receiver(from, frame);
    });
  }
  void SetPartsReceiver(PartsReceiver receiver) override {
    inner_->SetPartsReceiver([owner = owner_, receiver = std::move(receiver)](
                                 const Endpoint& from, std::string_view prefix, std::string_view body) {
      if (!owner->halted()) receiver(from, prefix, body);
    });
  }

 private:
  absl::Status Halted() const {
    return absl::FailedPreconditionError(absl::StrCat("halted: ", owner_->status().message()));
  }
  Transport* const inner_;
  const FailStop* const owner_;
};

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
