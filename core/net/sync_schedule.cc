#include "core/net/sync_schedule.h"

namespace narwhal {

SyncSchedule::~SyncSchedule() {
  for (auto& [digest, e] : wants_) env_.timers->Cancel(e.timer);
}

void SyncSchedule::Want(const Digest& digest, Round round, AuthorityIndex first_source) {
  if (wants_.contains(digest)) return;
  wants_[digest] = Entry{round, first_source};
  AskNow(digest);
}

bool SyncSchedule::Resolved(const Digest& digest) {
  auto it = wants_.find(digest);
  if (it == wants_.end()) return false;
  env_.timers->Cancel(it->second.timer);
  wants_.erase(it);
  return true;
}

void SyncSchedule::DropBelow(Round round) {
  for (auto it = wants_.begin(); it != wants_.end();) {
    if (it->second.round < round) {
      env_.timers->Cancel(it->second.timer);
      it = wants_.erase(it);
    } else {
      ++it;
    }
  }
}

void SyncSchedule::AskNow(const Digest& digest) {
  Entry& e = wants_.at(digest);
  std::vector<AuthorityIndex> targets;
  if (e.attempts == 0 && e.first_source != self_) {
    targets.push_back(e.first_source);
  } else {
    for (AuthorityIndex a = 0; a < committee_size_; ++a) {
      if (a != self_) targets.push_back(a);
    }
  }
  ++e.attempts;
  ask_(digest, targets);
  auto it = wants_.find(digest);  // the ask may have resolved it
  if (it == wants_.end()) return;
  it->second.timer = env_.timers->Schedule(retry_delay_us_, [this, digest] {
    if (wants_.contains(digest)) AskNow(digest);
  });
}

}  // namespace narwhal
