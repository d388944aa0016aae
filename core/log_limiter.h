// Rate-limited warnings: at most one line per key per interval, saying how
// many were held back. A flood of one warning (a peer down, a full queue)
// must not fill the disk or hide the rest of the log: seen on real hosts,
// where a worker wrote 18-24 MB of "batch sync request ... failed" lines in
// 7 minutes. Time comes from the caller's Clock, so the simulator sees the
// same lines as the node, deterministically.
//
//   LogLimiter limiter(10 * kSecondUs);
//   if (uint64_t held; limiter.Allow(peer, env.clock->NowUs(), &held)) {
//     LOG(WARNING) << "sync to " << peer << " failed: " << s << " (" << held << " more held back)";
//   }
#ifndef NARWHAL_CORE_LOG_LIMITER_H_
#define NARWHAL_CORE_LOG_LIMITER_H_

#include <cstdint>

#include "absl/container/btree_map.h"
#include "core/types.h"

namespace narwhal {

class LogLimiter {
 public:
  explicit LogLimiter(TimeUs interval_us) : interval_us_(interval_us) {}

  // True if a line for `key` may be written now; *held_back is the number
  // of lines for `key` refused since the last one allowed.
  bool Allow(uint64_t key, TimeUs now_us, uint64_t* held_back) {
    Slot& slot = slots_[key];
    if (slot.last_us >= 0 && now_us - slot.last_us < interval_us_) {
      ++slot.held_back;
      return false;
    }
    *held_back = slot.held_back;
    slot.held_back = 0;
    slot.last_us = now_us;
    return true;
  }

 private:
  struct Slot {
    TimeUs last_us = -1;
    uint64_t held_back = 0;
  };
  const TimeUs interval_us_;
  absl::btree_map<uint64_t, Slot> slots_;  // one per key: peers, reasons
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_LOG_LIMITER_H_
