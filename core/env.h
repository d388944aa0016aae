// The seams through which the core meets the world (DESIGN.md section 3), in
// the spirit of LevelDB's Env: the core never reads a clock, starts a thread,
// opens a socket or file, or draws from a global generator. The node
// implements these with a steady clock, an event loop and ZeroMQ; the
// simulator with virtual time and a seeded network model.
//
// Threading contract: every callback the environment delivers (timer fired,
// frame received) runs on the one thread that owns the reactor, one at a
// time, never re-entrantly from inside a call into the environment.
#ifndef NARWHAL_CORE_ENV_H_
#define NARWHAL_CORE_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/random.h"
#include "core/types.h"

namespace narwhal {

class Store;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic microseconds since an arbitrary origin.
  virtual TimeUs NowUs() const = 0;
};

using TimerId = uint64_t;

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs `callback` once, `delay_us` (>= 0) from now. Ids are never reused.
  virtual TimerId Schedule(TimeUs delay_us, std::function<void()> callback) = 0;
  // Cancelling a fired or unknown timer does nothing.
  virtual void Cancel(TimerId id) = 0;
};

// Moves opaque frames between endpoints. Delivery is best effort: frames may
// be lost, duplicated or reordered; retries live in the core (core/net).
class Transport {
 public:
  using Receiver = std::function<void(const Endpoint& from, std::string_view frame)>;
  virtual ~Transport() = default;
  // The endpoint this transport speaks for.
  virtual Endpoint self() const = 0;
  // Queues `frame` for `to`. An error means it was certainly not sent (for
  // example an unknown endpoint or a full outgoing queue); OK does not mean
  // it arrived.
  virtual absl::Status Send(const Endpoint& to, std::string frame) = 0;
  // Queues the frame `prefix` + `*body`. A broadcast shares one body among
  // its frames to every peer (only the small prefix differs); a transport
  // that can carry the parts without joining them (the simulator's, where n
  // in-flight copies of every broadcast were the main cost) overrides this.
  virtual absl::Status SendParts(const Endpoint& to, std::string prefix,
                                 std::shared_ptr<const std::string> body) {
    prefix.append(*body);
    return Send(to, std::move(prefix));
  }
  // `from` is the authenticated sender (CurveZMQ key in the node, the link
  // in the simulator). Set once, before the first frame can arrive.
  virtual void SetReceiver(Receiver receiver) = 0;
  // Frames sent with SendParts may arrive as their two parts, if the
  // transport keeps them apart and a parts receiver is set (the frame is
  // `prefix` + `body`); otherwise every frame goes to the Receiver whole.
  using PartsReceiver =
      std::function<void(const Endpoint& from, std::string_view prefix, std::string_view body)>;
  virtual void SetPartsReceiver(PartsReceiver receiver) {}
};

// Everything one role (a primary or a worker) of one authority runs on.
// Not owned: the environment outlives the reactors built on it.
struct Env {
  Clock* clock = nullptr;
  Timers* timers = nullptr;
  Random* random = nullptr;
  Transport* transport = nullptr;
  Store* store = nullptr;
  // The role has stopped (core/fail_stop.h): its store failed and it will
  // not go on. Called at most once, from inside a call into the role, which
  // must not be destroyed inside this call. The node exits with the error;
  // the simulator takes the role down and records it. May be empty (tests):
  // the role stops all the same.
  std::function<void(const absl::Status&)> on_halt = nullptr;
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_ENV_H_
