// The core's one policy for a store that fails (issue 15): the role stops.
//
// A store error (a write that did not happen, a read that could not be done,
// a row that does not parse or does not match its key) means the role's
// durable state and its memory may no longer agree. Going on could vote
// twice, lose an acknowledged batch or serve a half-applied commit, so the
// role does not try to repair anything: it stops, tells the environment
// why, and a restart on a healthy store recovers from what was durable.
//
// FailStop makes "stops" hold inside the core, whatever the environment
// does next: once halted, the guarded environment it hands out delivers no
// frame and runs no timer to the role, and sends nothing for it. And a halt
// takes back what the role sent during the event it halted in: frames sent
// while a frame or a timer is being handled leave only when that handler
// returns without halting. Otherwise a role could ACK a header and then
// halt before voting for it (the author, ACKed, never sends it again, and
// the vote is lost for good) or say anything else its store does not back.
// The
// environment's Env::on_halt then takes the role down (the node logs the
// error and exits non-zero; the simulator crashes the role and records the
// error for its checkers).
#ifndef NARWHAL_CORE_FAIL_STOP_H_
#define NARWHAL_CORE_FAIL_STOP_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/env.h"
#include "core/log_limiter.h"

namespace narwhal {

class FailStop {
 public:
  // `env` must outlive this object; `name` ("primary 2", "worker 1.0")
  // prefixes the error.
  FailStop(const Env& env, std::string name);
  ~FailStop();
  FailStop(const FailStop&) = delete;
  FailStop& operator=(const FailStop&) = delete;

  // The environment the role builds its parts on: the same clock, random
  // and store, with timers and transport that go quiet once halted.
  const Env& env() const { return guarded_; }

  // Stops the role because `operation` failed with `status` (must be
  // non-OK). The first call records the error (status()) and calls
  // env.on_halt once; later calls only log.
  void Halt(std::string_view operation, const absl::Status& status);
  bool halted() const { return !status_.ok(); }

  // An outer event around many handlers (the node's event-loop pass, whose
  // store writes commit together at its end): frames sent in between leave
  // at EndPass, or never if the role halted meanwhile (the pass's commit
  // failing is such a halt).
  void BeginPass() { BeginEvent(); }
  void EndPass() { EndEvent(); }
  // OK while running; the first error once halted.
  const absl::Status& status() const { return status_; }

 private:
  class GuardedTimers;
  class GuardedTransport;
  struct HeldFrame {
    Endpoint to;
    std::string prefix;                       // the whole frame for Send
    std::shared_ptr<const std::string> body;  // SendParts only
  };
  // Around every handler of a frame or a timer: sends in between are held,
  // then sent in order at the end unless the role halted (then dropped).
  void BeginEvent() { ++event_depth_; }
  void EndEvent();

  const Env inner_;
  const std::string name_;
  absl::Status status_;
  std::unique_ptr<GuardedTimers> timers_;
  std::unique_ptr<GuardedTransport> transport_;
  Env guarded_;
  int event_depth_ = 0;
  std::vector<HeldFrame> held_;
  // Held frames the transport refused at the flush (a full queue): one line
  // per peer per 10 s, as the messenger's own send warnings.
  LogLimiter flush_warnings_{10 * kSecondUs};
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_FAIL_STOP_H_
