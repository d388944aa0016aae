#include "core/consensus/commit_state.h"

#include <string>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

TEST(CommitStateTest, TracksRoundsCommittedOutOfOrder) {
  CommitState state(/*committee_size=*/2, /*gc_depth=*/10);
  state.RecordCertificate(0, 1);
  state.RecordCertificate(0, 4);  // rounds 2 and 3 skipped
  EXPECT_EQ(state.RecordLeader(4), 0u);
  EXPECT_TRUE(state.IsCommitted(0, 1));
  EXPECT_FALSE(state.IsCommitted(0, 2));
  EXPECT_FALSE(state.IsCommitted(0, 3));
  EXPECT_TRUE(state.IsCommitted(0, 4));
  EXPECT_FALSE(state.IsCommitted(1, 1));
  state.RecordCertificate(0, 3);  // late
  EXPECT_EQ(state.RecordLeader(6), 1u);
  EXPECT_TRUE(state.IsCommitted(0, 3));
  EXPECT_FALSE(state.IsCommitted(0, 2));
  EXPECT_EQ(state.last_committed(0), 4u);
  EXPECT_EQ(state.next_index(), 2u);
}

TEST(CommitStateTest, ForgetsHolesBelowTheGcRound) {
  CommitState state(1, /*gc_depth=*/2);
  state.RecordCertificate(0, 6);
  state.RecordLeader(6);  // GC round 4: only round 5 is remembered
  EXPECT_EQ(state.gc_round(), 4u);
  EXPECT_FALSE(state.IsCommitted(0, 5));
  EXPECT_EQ(state.Serialize(),
            "narwhal.consensus.state v1\nlast_committed_round 6\nnext_index 1\n"
            "authorities 1\nauthor 0 last_committed 6 uncommitted 5\n");
}

TEST(CommitStateTest, SerializeParseRoundTrip) {
  CommitState state(3, 5);
  state.RecordCertificate(0, 2);
  state.RecordCertificate(1, 1);
  state.RecordLeader(2);
  state.RecordCertificate(2, 5);
  state.RecordCertificate(0, 8);
  state.RecordLeader(8);
  const std::string text = state.Serialize();
  auto parsed = CommitState::Parse(text, 3, 5);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Serialize(), text);
  EXPECT_EQ(parsed->last_committed_round(), 8u);
  EXPECT_EQ(parsed->next_index(), 2u);
  for (AuthorityIndex a = 0; a < 3; ++a) {
    for (Round r = state.gc_round() + 1; r <= 8; ++r) {
      EXPECT_EQ(parsed->IsCommitted(a, r), state.IsCommitted(a, r)) << a << "," << r;
    }
  }
}

TEST(CommitStateTest, RejectsMalformedOrInconsistentText) {
  const std::string good =
      "narwhal.consensus.state v1\nlast_committed_round 6\nnext_index 1\n"
      "authorities 1\nauthor 0 last_committed 6 uncommitted 5\n";
  ASSERT_TRUE(CommitState::Parse(good, 1, 2).ok());
  const std::string bad[] = {
      "",
      good.substr(0, good.size() - 1),                                  // no final newline
      "narwhal.consensus.state v2\n" + good.substr(good.find('\n') + 1),  // version
      "narwhal.consensus.state v1\nlast_committed_round 06\nnext_index 1\n"
      "authorities 1\nauthor 0 last_committed 6 uncommitted 5\n",  // not canonical
      "narwhal.consensus.state v1\nlast_committed_round 6\nnext_index 1\n"
      "authorities 1\nauthor 0 last_committed 7 uncommitted\n",  // author above leader
      "narwhal.consensus.state v1\nlast_committed_round 6\nnext_index 1\n"
      "authorities 1\nauthor 0 last_committed 6 uncommitted 3\n",  // hole below GC
      "narwhal.consensus.state v1\nlast_committed_round 6\nnext_index 1\n"
      "authorities 1\nauthor 0 last_committed 6 uncommitted 5 5\n",  // repeated
      "narwhal.consensus.state v1\nlast_committed_round 6\nnext_index 1\n"
      "authorities 1\nauthor 1 last_committed 6 uncommitted\n",  // wrong index
  };
  for (const std::string& text : bad) {
    EXPECT_FALSE(CommitState::Parse(text, 1, 2).ok()) << text;
  }
  EXPECT_FALSE(CommitState::Parse(good, 2, 2).ok()) << "committee size differs";
}

TEST(CommitStateDeathTest, CommittingTwiceIsABug) {
  CommitState state(1, 10);
  state.RecordCertificate(0, 3);
  EXPECT_DEATH(state.RecordCertificate(0, 3), "committed twice");
}

}  // namespace
}  // namespace narwhal
