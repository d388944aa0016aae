// The executor's batch source: gets the contents of committed batches from
// this authority's own workers, as the primary (wire::BatchRequest through
// a Messenger on the primary's SharedTransport side view), and keeps them in
// a bounded LRU cache.
//
// A batch the worker does not hold (another authority's batch still on its
// way to it, or that never reached it: a quorum formed without it, or it was
// down) is asked for again with a growing delay, and the worker is told to
// fetch it from the other workers (wire::SynchronizeBatches, as the
// primary itself does when it lacks a header's payload). After
// give_up_after_us the batch is reported unavailable (garbage-collected
// everywhere). Requests go out lowest priority first.
//
// With a local read (SetLocalRead: the workers' store files on this
// machine), a batch is read from there first and the worker is asked only
// for what its file does not hold yet; that spares the worker, the
// transport and both event loops a second trip of every committed byte.
//
// Single-threaded: everything on the primary's event loop.
#ifndef NARWHAL_NODE_BATCH_FETCHER_H_
#define NARWHAL_NODE_BATCH_FETCHER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "core/dag.h"
#include "core/env.h"
#include "core/net/messenger.h"

namespace narwhal::node {

struct BatchFetcherOptions {
  size_t cache_bytes_max = 256 << 20;
  // One batch per request: the response needs no re-hashing to know which
  // batch it holds (see OnResponse) and stays far below the frame limit.
  int digests_per_request_max = 1;
  int requests_in_flight_max = 16;  // per worker
  // Long: an overloaded worker answers late (its queue is full of peers'
  // batches), and a request given up on is work it does for nothing.
  TimeUs request_timeout_us = 30 * kSecondUs;
  // A batch our worker does not hold yet is asked again after
  // first_retry_delay_us, doubling up to retry_delay_us; each miss also
  // tells the worker to fetch it from its peers (it must, before the
  // garbage-collection round passes the batch's round: the worker ignores
  // older synchronization requests).
  TimeUs first_retry_delay_us = 50 * kMillisecondUs;
  TimeUs retry_delay_us = 1 * kSecondUs;
  TimeUs give_up_after_us = 60 * kSecondUs;
  // Wanted batches remembered at most; beyond, prefetches are ignored (a
  // subscriber that needs them asks again).
  size_t wanted_max = 100'000;
};

struct BatchFetcherStats {
  uint64_t requests = 0;
  uint64_t batches_fetched = 0;
  uint64_t batches_read_locally = 0;
  uint64_t batches_missing = 0;  // answers without a wanted batch
  uint64_t batches_unavailable = 0;
  uint64_t request_failures = 0;
  uint64_t cache_evictions = 0;
};

class BatchFetcher {
 public:
  enum class State { kReady, kPending, kUnavailable };
  using Batch = std::shared_ptr<const std::string>;
  // The batch if our worker `worker` already stored it, else nullopt (also
  // when its store cannot be read: the network path takes over).
  using LocalRead = std::function<std::optional<std::string>(WorkerId worker, const Digest& digest)>;

  // `env.transport` is the view the fetcher's own Messenger owns.
  BatchFetcher(const Env& env, AuthorityIndex self, MessengerOptions messenger_options,
               BatchFetcherOptions options);
  ~BatchFetcher();

  // kReady: *out holds the canonical batch bytes. kPending: a fetch is under
  // way (or queued); `on_progress` runs when something arrives.
  // `author`/`round` are the certificate's, for SynchronizeBatches.
  // `priority`: lower is fetched first (the output server passes the
  // consensus index that needs the batch, so the oldest need is served
  // first and prefetches never starve it).
  State Get(const BatchRef& ref, AuthorityIndex author, Round round, uint64_t priority, Batch* out);
  void SetOnProgress(std::function<void()> on_progress) { on_progress_ = std::move(on_progress); }
  // Our primary's garbage-collection round (see the TODO in the .cc).
  void SetFloorRound(std::function<Round()> floor_round) { floor_round_ = std::move(floor_round); }
  void SetLocalRead(LocalRead read) { local_read_ = std::move(read); }

  const BatchFetcherStats& stats() const { return stats_; }
  size_t cached_bytes() const { return cache_bytes_; }

 private:
  struct Want {
    WorkerId worker = 0;
    AuthorityIndex author = 0;
    Round round = 0;
    TimeUs first_wanted_us = 0;
    uint64_t priority = 0;
    int misses = 0;
    bool in_flight = false;
    bool queued = false;
  };
  struct Cached {
    Batch bytes;
    std::list<Digest>::iterator lru;
  };

  void Enqueue(const Digest& digest, Want& want);
  void Pump();
  void SendRequest(WorkerId worker, std::vector<Digest> digests);
  void OnResponse(WorkerId worker, const std::vector<Digest>& asked,
                  const absl::StatusOr<wire::Response>& response);
  void Insert(const Digest& digest, std::string bytes);
  // Reads `digest` through local_read_ into the cache; true if it is there.
  bool TryLocal(WorkerId worker, const Digest& digest);
  void RetryLater(TimeUs delay_us, const std::vector<Digest>& digests);
  void Progress();
  // A timer cancelled if the fetcher is destroyed first.
  void Schedule(TimeUs delay_us, std::function<void()> fn);

  Env env_;
  const AuthorityIndex self_;
  const BatchFetcherOptions options_;
  Messenger messenger_;
  absl::flat_hash_map<Digest, Cached> cache_;  // lookup only
  std::list<Digest> lru_;                      // front: most recent
  size_t cache_bytes_ = 0;
  absl::btree_map<Digest, Want> wanted_;
  // Per worker, what to ask for next, lowest priority first.
  absl::btree_map<WorkerId, absl::btree_set<std::pair<uint64_t, Digest>>> queues_;
  absl::btree_map<WorkerId, int> in_flight_;
  absl::btree_set<Digest> unavailable_;
  std::deque<Digest> unavailable_order_;
  absl::btree_set<TimerId> timers_;
  std::function<void()> on_progress_;
  std::function<Round()> floor_round_;
  LocalRead local_read_;
  BatchFetcherStats stats_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_BATCH_FETCHER_H_
