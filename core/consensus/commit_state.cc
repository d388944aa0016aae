#include "core/consensus/commit_state.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"

namespace narwhal {
namespace {

// Debian's Abseil keeps its own string_view type, distinct from std's.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr std::string_view kVersionLine = "narwhal.consensus.state v1";

// Reads `line` as `key value` with a decimal value.
absl::Status ReadKeyValue(absl::string_view line, absl::string_view key, uint64_t* value) {
  std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
  if (words.size() != 2 || words[0] != key || !absl::SimpleAtoi(words[1], value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("consensus state: expected '", key, " <number>', got '", line, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

CommitState::CommitState(size_t committee_size, Round gc_depth)
    : gc_depth_(gc_depth), last_committed_(committee_size, 0), uncommitted_(committee_size) {
  CHECK_GT(committee_size, 0u);
}

Round CommitState::gc_round() const {
  return last_committed_round_ > gc_depth_ ? last_committed_round_ - gc_depth_ : 0;
}

bool CommitState::IsCommitted(AuthorityIndex author, Round round) const {
  return round <= last_committed_.at(author) && !uncommitted_[author].contains(round);
}

void CommitState::RecordCertificate(AuthorityIndex author, Round round) {
  CHECK_GT(round, gc_round()) << "committing a garbage-collected round";
  CHECK(!IsCommitted(author, round)) << "author " << author << " round " << round
                                     << " committed twice";
  Round& last = last_committed_.at(author);
  if (round < last) {
    CHECK_EQ(uncommitted_[author].erase(round), 1u);
    return;
  }
  // The rounds skipped over stay uncommitted; below the GC round nobody asks.
  for (Round skipped = std::max(last, gc_round()) + 1; skipped < round; ++skipped) {
    uncommitted_[author].insert(skipped);
  }
  last = round;
}

uint64_t CommitState::RecordLeader(Round leader_round) {
  CHECK_GT(leader_round, last_committed_round_) << "leaders commit in increasing rounds";
  last_committed_round_ = leader_round;
  const Round gc = gc_round();
  for (size_t author = 0; author < uncommitted_.size(); ++author) {
    CHECK_LE(last_committed_[author], last_committed_round_);
    auto& rounds = uncommitted_[author];
    rounds.erase(rounds.begin(), rounds.upper_bound(gc));
  }
  return next_index_++;
}

std::string CommitState::Serialize() const {
  std::string out = absl::StrCat(Absl(kVersionLine), "\n", "last_committed_round ",
                                 last_committed_round_, "\n", "next_index ", next_index_, "\n",
                                 "authorities ", last_committed_.size(), "\n");
  for (size_t author = 0; author < last_committed_.size(); ++author) {
    absl::StrAppend(&out, "author ", author, " last_committed ", last_committed_[author],
                    " uncommitted");
    for (Round round : uncommitted_[author]) absl::StrAppend(&out, " ", round);
    out += "\n";
  }
  return out;
}

absl::StatusOr<CommitState> CommitState::Parse(std::string_view text, size_t committee_size,
                                               Round gc_depth) {
  std::vector<absl::string_view> lines = absl::StrSplit(Absl(text), '\n');
  // Serialize ends every line with '\n', so the split ends with one "".
  if (lines.size() < 5 || !lines.back().empty()) {
    return absl::InvalidArgumentError("consensus state: truncated");
  }
  lines.pop_back();
  if (lines[0] != Absl(kVersionLine)) {
    return absl::InvalidArgumentError(
        absl::StrCat("consensus state: unknown version line '", lines[0], "'"));
  }
  CommitState state(committee_size, gc_depth);
  uint64_t authorities = 0;
  if (auto s = ReadKeyValue(lines[1], "last_committed_round", &state.last_committed_round_);
      !s.ok()) {
    return s;
  }
  if (auto s = ReadKeyValue(lines[2], "next_index", &state.next_index_); !s.ok()) return s;
  if (auto s = ReadKeyValue(lines[3], "authorities", &authorities); !s.ok()) return s;
  if (authorities != committee_size || lines.size() != 4 + committee_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("consensus state: written for ", authorities,
                     " authorities, the committee has ", committee_size));
  }
  for (size_t author = 0; author < committee_size; ++author) {
    absl::string_view line = lines[4 + author];
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    uint64_t index = 0;
    if (words.size() < 5 || words[0] != "author" || !absl::SimpleAtoi(words[1], &index) ||
        index != author || words[2] != "last_committed" ||
        !absl::SimpleAtoi(words[3], &state.last_committed_[author]) ||
        words[4] != "uncommitted") {
      return absl::InvalidArgumentError(absl::StrCat(
          "consensus state: expected 'author ", author,
          " last_committed <round> uncommitted [<round>...]', got '", line, "'"));
    }
    for (size_t i = 5; i < words.size(); ++i) {
      Round round = 0;
      if (!absl::SimpleAtoi(words[i], &round)) {
        return absl::InvalidArgumentError(
            absl::StrCat("consensus state: author ", author, ": bad round '", words[i], "'"));
      }
      state.uncommitted_[author].insert(round);
    }
  }
  if (auto s = state.Validate(); !s.ok()) return s;
  // SimpleAtoi accepts "+1" and "01"; one spelling per state keeps the bytes
  // canonical, so compare with what we would write.
  if (state.Serialize() != text) {
    return absl::InvalidArgumentError("consensus state: not in canonical form");
  }
  return state;
}

absl::Status CommitState::Validate() const {
  const Round gc = gc_round();
  for (size_t author = 0; author < last_committed_.size(); ++author) {
    if (last_committed_[author] > last_committed_round_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "consensus state: author ", author, " last committed round ", last_committed_[author],
          " is above the last committed round ", last_committed_round_));
    }
    for (Round round : uncommitted_[author]) {
      if (round <= gc || round >= last_committed_[author]) {
        return absl::InvalidArgumentError(
            absl::StrCat("consensus state: author ", author, ": uncommitted round ", round,
                         " is outside (", gc, ", ", last_committed_[author], ")"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace narwhal
