#include "node/batch_fetcher.h"

#include "absl/strings/str_cat.h"
#include "core/batch.h"
#include "glog/logging.h"

namespace narwhal::node {

BatchFetcher::BatchFetcher(const Env& env, AuthorityIndex self, MessengerOptions messenger_options,
                           BatchFetcherOptions options)
    : env_(env), self_(self), options_(options), messenger_(env, messenger_options) {
  messenger_.SetRequestHandler([](const Endpoint&, const wire::Request&, Messenger::Responder r) {
    r(false, "the executor serves no requests", {});
  });
}

BatchFetcher::~BatchFetcher() {
  for (TimerId t : timers_) env_.timers->Cancel(t);
}

BatchFetcher::State BatchFetcher::Get(const BatchRef& ref, AuthorityIndex author, Round round,
                                      uint64_t priority, Batch* out) {
  if (auto it = cache_.find(ref.digest); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    if (out != nullptr) *out = it->second.bytes;
    return State::kReady;
  }
  if (unavailable_.contains(ref.digest)) return State::kUnavailable;
  auto it = wanted_.find(ref.digest);
  if (it == wanted_.end() && TryLocal(ref.worker_id, ref.digest)) {
    if (out != nullptr) *out = cache_.at(ref.digest).bytes;
    return State::kReady;
  }
  if (it == wanted_.end()) {
    if (wanted_.size() >= options_.wanted_max) return State::kPending;
    Want want;
    want.worker = ref.worker_id;
    want.author = author;
    want.round = round;
    want.first_wanted_us = env_.clock->NowUs();
    want.priority = priority;
    it = wanted_.emplace(ref.digest, want).first;
    Enqueue(ref.digest, it->second);
    Pump();
  } else if (priority < it->second.priority) {
    Want& w = it->second;
    if (w.queued) {
      auto& queue = queues_[w.worker];
      queue.erase({w.priority, ref.digest});
      queue.insert({priority, ref.digest});
    }
    w.priority = priority;
  }
  return State::kPending;
}

void BatchFetcher::Enqueue(const Digest& digest, Want& want) {
  if (want.queued || want.in_flight) return;
  want.queued = true;
  queues_[want.worker].insert({want.priority, digest});
}

void BatchFetcher::Pump() {
  for (auto& [worker, queue] : queues_) {
    int& in_flight = in_flight_[worker];
    while (!queue.empty() && in_flight < options_.requests_in_flight_max) {
      std::vector<Digest> digests;
      while (!queue.empty() && int(digests.size()) < options_.digests_per_request_max) {
        Digest d = queue.begin()->second;
        queue.erase(queue.begin());
        auto it = wanted_.find(d);
        if (it == wanted_.end() || !it->second.queued) continue;
        it->second.queued = false;
        it->second.in_flight = true;
        digests.push_back(d);
      }
      if (digests.empty()) break;
      ++in_flight;
      SendRequest(worker, std::move(digests));
    }
  }
}

void BatchFetcher::SendRequest(WorkerId worker, std::vector<Digest> digests) {
  wire::Request request;
  for (const Digest& d : digests) request.mutable_batch_request()->add_digests(d.ToBytes());
  ++stats_.requests;
  absl::Status sent = messenger_.SendUnreliable(
      Endpoint::Worker(self_, worker), std::move(request),
      [this, worker, digests](const Endpoint&, const absl::StatusOr<wire::Response>& r) {
        OnResponse(worker, digests, r);
      },
      options_.request_timeout_us);
  if (!sent.ok()) {
    LOG_EVERY_N(WARNING, 100) << "executor: batch request to worker " << worker << ": " << sent;
    // Report through the same path as a failed response, but not
    // re-entrantly.
    Schedule(0, [this, worker, digests, sent] { OnResponse(worker, digests, sent); });
  }
}

void BatchFetcher::OnResponse(WorkerId worker, const std::vector<Digest>& asked,
                              const absl::StatusOr<wire::Response>& response) {
  --in_flight_[worker];
  std::vector<Digest> missing;
  if (!response.ok() || !response->success()) {
    ++stats_.request_failures;
    LOG_EVERY_N(WARNING, 10) << "executor: batch request to worker " << worker << " failed: "
                              << (response.ok() ? response->message() : response.status().ToString());
    missing = asked;
  } else {
    for (const std::string& item : response->items()) {
      // With one digest per request the item can only be that batch (the
      // worker answers with what it has), and the worker is our own
      // authority's, authenticated by the transport: skip re-hashing it,
      // which cost as much CPU as the worker's own hashing of every batch.
      Digest d = asked.size() == 1 ? asked[0] : BatchDigest(item);
      auto it = wanted_.find(d);
      if (it == wanted_.end()) continue;
      wanted_.erase(it);
      ++stats_.batches_fetched;
      Insert(d, item);
    }
    for (const Digest& d : asked) {
      if (wanted_.contains(d)) missing.push_back(d);
    }
  }
  if (!missing.empty()) {
    stats_.batches_missing += missing.size();
    // Ask the worker to fetch what it lacks from the other workers, grouped
    // by (author, round) as SynchronizeBatches wants them.
    absl::btree_map<std::pair<AuthorityIndex, Round>, std::vector<Digest>> by_author;
    const TimeUs now = env_.clock->NowUs();
    absl::btree_map<TimeUs, std::vector<Digest>> retry;  // delay -> digests
    for (const Digest& d : missing) {
      Want& w = wanted_.at(d);
      w.in_flight = false;
      ++w.misses;
      if (now - w.first_wanted_us > options_.give_up_after_us) {
        LOG(ERROR) << "executor: batch " << d.Short() << " of authority " << w.author << " round "
                   << w.round << " is unavailable after "
                   << options_.give_up_after_us / kSecondUs << " s";
        ++stats_.batches_unavailable;
        wanted_.erase(d);
        unavailable_.insert(d);
        unavailable_order_.push_back(d);
        if (unavailable_order_.size() > 10'000) {
          unavailable_.erase(unavailable_order_.front());
          unavailable_order_.pop_front();
        }
        continue;
      }
      by_author[{w.author, w.round}].push_back(d);
      TimeUs delay = options_.first_retry_delay_us;
      for (int m = 1; m < w.misses && delay < options_.retry_delay_us; ++m) delay *= 2;
      retry[std::min(delay, options_.retry_delay_us)].push_back(d);
    }
    if (response.ok() && response->success()) {
      for (const auto& [key, digests] : by_author) {
        wire::Request sync;
        auto* s = sync.mutable_synchronize_batches();
        for (const Digest& d : digests) s->add_digests(d.ToBytes());
        s->set_author(key.first);
        // TODO(core): a worker drops synchronization requests for rounds
        // below its cleanup (GC) round, even for batches that were
        // committed and that its primary's executor still needs; under
        // load our worker can miss a batch (a quorum formed without it)
        // and hear about it only after GC passed. Until the core offers a
        // "fetch this committed batch" request, we name the later of the
        // certificate's round and our GC round, so the worker asks its
        // peers as long as they still hold the batch.
        s->set_round(std::max(key.second, floor_round_ ? floor_round_() : Round{0}));
        (void)messenger_.SendUnreliable(Endpoint::Worker(self_, worker), std::move(sync), nullptr,
                                        options_.request_timeout_us);
      }
    }
    for (const auto& [delay, digests] : retry) RetryLater(delay, digests);
  }
  Pump();
  Progress();
}

void BatchFetcher::RetryLater(TimeUs delay_us, const std::vector<Digest>& digests) {
  if (digests.empty()) return;
  Schedule(delay_us, [this, digests] {
    bool progress = false;
    for (const Digest& d : digests) {
      auto it = wanted_.find(d);
      if (it == wanted_.end()) continue;
      if (!it->second.in_flight && TryLocal(it->second.worker, d)) {
        wanted_.erase(it);
        progress = true;
        continue;
      }
      Enqueue(d, it->second);
    }
    Pump();
    if (progress) Progress();
  });
}

void BatchFetcher::Schedule(TimeUs delay_us, std::function<void()> fn) {
  auto holder = std::make_shared<TimerId>(0);
  *holder = env_.timers->Schedule(delay_us, [this, holder, fn = std::move(fn)] {
    timers_.erase(*holder);
    fn();
  });
  timers_.insert(*holder);
}

bool BatchFetcher::TryLocal(WorkerId worker, const Digest& digest) {
  if (!local_read_) return false;
  std::optional<std::string> bytes = local_read_(worker, digest);
  if (!bytes.has_value()) return false;
  ++stats_.batches_read_locally;
  Insert(digest, *std::move(bytes));
  return true;
}

void BatchFetcher::Insert(const Digest& digest, std::string bytes) {
  if (cache_.contains(digest)) return;
  cache_bytes_ += bytes.size();
  lru_.push_front(digest);
  cache_.emplace(digest, Cached{std::make_shared<const std::string>(std::move(bytes)), lru_.begin()});
  while (cache_bytes_ > options_.cache_bytes_max && lru_.size() > 1) {
    auto it = cache_.find(lru_.back());
    cache_bytes_ -= it->second.bytes->size();
    cache_.erase(it);
    lru_.pop_back();
    ++stats_.cache_evictions;
  }
}

void BatchFetcher::Progress() {
  if (on_progress_) on_progress_();
}

}  // namespace narwhal::node
