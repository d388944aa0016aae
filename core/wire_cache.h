// Parsed messages by their exact wire bytes, shared by every reactor on one
// thread. Off by default; the simulator turns it on.
//
// Why: a simulated committee of n primaries runs on one thread, and each of
// them receives the same bytes for every header and certificate. Parsing,
// hashing and signature-checking those bytes n times made the work per round
// grow with n^3 (n^2 receipts of messages holding n parents or votes). With
// the cache, each distinct message is parsed once and every primary holds
// the same immutable object.
//
// A hit compares the full bytes, so it returns exactly what parsing would.
// An entry also remembers that a check context (a committee and signature
// scheme) accepted the message, so the check runs once per context; a
// rejected message is checked again by every receiver. The cache starts
// over when full; what it holds never changes an outcome, so runs with and
// without it are identical frame for frame.
//
//   WireCache<Header>::SetCapacity(1 << 14);
//   auto entry = WireCache<Header>::Get(bytes, &Header::Parse);
//   if (!entry.ok()) ...;              // malformed
//   if (!(*entry)->CheckedBy(ctx)) { run checks; (*entry)->MarkChecked(ctx); }
#ifndef NARWHAL_CORE_WIRE_CACHE_H_
#define NARWHAL_CORE_WIRE_CACHE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace narwhal {

template <typename T>
class WireCache {
 public:
  struct Entry {
    std::shared_ptr<const T> value;
    bool CheckedBy(const void* context) const { return context != nullptr && checked_by == context; }
    void MarkChecked(const void* context) { checked_by = context; }

   private:
    const void* checked_by = nullptr;
  };
  using ParseFn = absl::StatusOr<T> (*)(std::string_view bytes);

  // 0 turns the cache off on this thread (and frees what it held).
  static void SetCapacity(size_t entries) {
    State& s = state();
    s.capacity = entries;
    s.entries.clear();
  }

  // The entry for `bytes`, parsed with `parse` on a miss. The pointer is
  // valid until the next Get or SetCapacity on this thread.
  static absl::StatusOr<Entry*> Get(std::string_view bytes, ParseFn parse) {
    State& s = state();
    if (s.capacity == 0) {
      auto parsed = parse(bytes);
      if (!parsed.ok()) return parsed.status();
      s.scratch = Entry{};
      s.scratch.value = std::make_shared<const T>(std::move(*parsed));
      return &s.scratch;
    }
    // (Debian's Abseil has its own string_view type for heterogeneous lookup.)
    const absl::string_view key(bytes.data(), bytes.size());
    if (auto it = s.entries.find(key); it != s.entries.end()) return &it->second;
    auto parsed = parse(bytes);
    if (!parsed.ok()) return parsed.status();  // malformed bytes are not kept
    if (s.entries.size() >= s.capacity) s.entries.clear();
    Entry e;
    e.value = std::make_shared<const T>(std::move(*parsed));
    return &s.entries.emplace(std::string(bytes), std::move(e)).first->second;
  }

 private:
  // Hashes the length and at most 256 bytes from the ends: hashing every
  // byte of every received certificate was a visible cost, and equality
  // still compares all of them. (Two certificates of one header differ in
  // their votes, at the end; headers differ at the start.)
  struct SampledHash {
    using is_transparent = void;
    size_t operator()(absl::string_view bytes) const {
      constexpr size_t kEnd = 128;
      if (bytes.size() <= 2 * kEnd) return absl::HashOf(bytes);
      return absl::HashOf(bytes.size(), bytes.substr(0, kEnd), bytes.substr(bytes.size() - kEnd));
    }
  };
  struct State {
    size_t capacity = 0;
    // Lookup only, never iterated.
    absl::flat_hash_map<std::string, Entry, SampledHash, std::equal_to<>> entries;
    Entry scratch;
  };
  static State& state() {
    thread_local State s;
    return s;
  }
};

}  // namespace narwhal

#endif  // NARWHAL_CORE_WIRE_CACHE_H_
