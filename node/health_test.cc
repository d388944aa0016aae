#include "node/health.h"

#include "gtest/gtest.h"

namespace narwhal::node {
namespace {

HealthInputs SettledPrimary() {
  HealthInputs in;
  in.uptime_us = 120 * kSecondUs;
  PrimaryHealthInputs p;
  p.round = 100;
  p.highest_peer_round = 101;
  p.last_committed_round = 98;
  p.last_own_committed_round = 96;
  p.since_last_commit_us = 300 * kMillisecondUs;
  in.primary = p;
  in.disk_free_bytes = 100ull << 30;
  return in;
}

TEST(HealthTest, KeepingUpIsHealthy) {
  const HealthReport r = AssessHealth(SettledPrimary(), HealthThresholds{});
  EXPECT_TRUE(r.healthy()) << r.problems.front();
}

TEST(HealthTest, BehindTheOthersIsDegraded) {
  HealthInputs in = SettledPrimary();
  in.primary->highest_peer_round = 157;
  const HealthReport r = AssessHealth(in, HealthThresholds{});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "behind the others by 57 rounds (round 100, others at 157)");
}

TEST(HealthTest, OwnCertificatesNotCommittedIsDegraded) {
  HealthInputs in = SettledPrimary();
  in.primary->last_own_committed_round = 10;
  const HealthReport r = AssessHealth(in, HealthThresholds{});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("own certificates not committed for 88 rounds"), std::string::npos);
}

TEST(HealthTest, NoCommitForLongIsDegraded) {
  HealthInputs in = SettledPrimary();
  in.primary->since_last_commit_us = 45 * kSecondUs;
  const HealthReport r = AssessHealth(in, HealthThresholds{});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("nothing committed for 45 s"), std::string::npos);
}

TEST(HealthTest, StartupGraceHidesCatchingUp) {
  HealthInputs in = SettledPrimary();
  in.uptime_us = 5 * kSecondUs;
  in.primary->highest_peer_round = 500;
  in.primary->since_last_commit_us = 5 * kSecondUs;
  EXPECT_TRUE(AssessHealth(in, HealthThresholds{}).healthy());
  in.uptime_us = 31 * kSecondUs;
  EXPECT_FALSE(AssessHealth(in, HealthThresholds{}).healthy());
}

TEST(HealthTest, StartingUntilAnOwnCertificateIsCommitted) {
  HealthInputs in = SettledPrimary();
  in.uptime_us = 2 * kSecondUs;
  in.primary->own_committed_since_start = false;
  const HealthReport r = AssessHealth(in, HealthThresholds{});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "starting (2 s ago): no own certificate committed since");
  in.primary->own_committed_since_start = true;
  EXPECT_TRUE(AssessHealth(in, HealthThresholds{}).healthy());
}

TEST(HealthTest, UnreachablePeersAreNamed) {
  HealthInputs in = SettledPrimary();
  in.unreachable_peers = {"a1.primary", "a3.primary"};
  const HealthReport r = AssessHealth(in, HealthThresholds{});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "peers unreachable for over 10 s: a1.primary, a3.primary");
}

TEST(HealthTest, WorkerAtItsPendingLimitIsDegraded) {
  HealthInputs in;
  in.uptime_us = kSecondUs;  // no grace for this one: it is refusing now
  in.worker = WorkerHealthInputs{60 << 20, 64 << 20};
  EXPECT_FALSE(AssessHealth(in, HealthThresholds{}).healthy());
  in.worker->pending_bytes = 1 << 20;
  EXPECT_TRUE(AssessHealth(in, HealthThresholds{}).healthy());
}

TEST(HealthTest, StoreProblems) {
  HealthInputs in = SettledPrimary();
  in.disk_free_bytes = 100ull << 20;
  in.wal_bytes = 2ull << 30;
  const HealthReport r = AssessHealth(in, HealthThresholds{});
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.problems[0], "store disk nearly full: 100 MiB free");
  EXPECT_EQ(r.problems[1], "store write-ahead log at 2048 MiB: checkpoints are not keeping up");
}

}  // namespace
}  // namespace narwhal::node
