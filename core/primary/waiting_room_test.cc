#include "core/primary/waiting_room.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace narwhal {
namespace {

Digest D(uint8_t i) {
  Digest d;
  d.bytes[0] = i;
  return d;
}

Header H(uint8_t id, Round round) {
  Header h;
  h.author = id;
  h.round = round;
  h.Seal();
  return h;
}

CertificatePtr C(uint8_t id, Round round) {
  Certificate c;
  c.header = H(id, round);
  c.Seal();
  return std::make_shared<const Certificate>(std::move(c));
}

TEST(WaitingRoomTest, AParentReleasesOnlyWhatWaitsForNothingElse) {
  WaitingRoom room(10);
  CertificatePtr one = C(1, 5), two = C(2, 5);
  room.AddCertificate(one, {D(1)});
  room.AddCertificate(two, {D(1), D(2)});
  Header h = H(3, 5);
  room.AddHeader({h, {D(1)}, {BatchRef{D(9), 0}}});
  EXPECT_TRUE(room.HasCertificate(one->digest));
  EXPECT_TRUE(room.HasHeader(h.digest));

  std::vector<WaitingRoom::Released> r = room.ParentArrived(D(1));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].certificate, one);
  EXPECT_FALSE(r[0].header.has_value());
  EXPECT_EQ(room.certificates(), 1u);
  EXPECT_TRUE(room.ParentArrived(D(1)).empty());  // nobody waits for it any more

  r = room.ParentArrived(D(2));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].certificate, two);

  // The header still waits for its batch.
  EXPECT_TRUE(room.HasHeader(h.digest));
  std::vector<Header> released = room.PayloadArrived(BatchRef{D(9), 0});
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].digest, h.digest);
  EXPECT_EQ(room.headers(), 0u);
  EXPECT_EQ(room.first_header(), nullptr);
}

TEST(WaitingRoomTest, ReleasesInDigestOrder) {
  WaitingRoom room(10);
  std::vector<CertificatePtr> cs;
  for (uint8_t i = 0; i < 5; ++i) {
    cs.push_back(C(i, 3));
    room.AddCertificate(cs.back(), {D(7)});
  }
  std::vector<WaitingRoom::Released> r = room.ParentArrived(D(7));
  ASSERT_EQ(r.size(), 5u);
  for (size_t i = 1; i < r.size(); ++i) EXPECT_LT(r[i - 1].certificate->digest, r[i].certificate->digest);
}

TEST(WaitingRoomTest, GarbageCollectionDropsOldWaitersAndTheirIndexEntries) {
  WaitingRoom room(10);
  room.AddHeader({H(1, 4), {D(1)}, {}});
  room.AddHeader({H(2, 6), {D(1)}, {BatchRef{D(8), 0}}});
  room.AddCertificate(C(3, 4), {D(2)});
  std::vector<WaitingHeader> dropped = room.DropUpTo(5);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].header.round, 4u);
  EXPECT_EQ(room.headers(), 1u);
  EXPECT_EQ(room.certificates(), 0u);
  EXPECT_TRUE(room.ParentArrived(D(2)).empty());
  // The round-6 header is still found by its parent.
  EXPECT_TRUE(room.ParentArrived(D(1)).empty());  // still waits for its batch
  EXPECT_EQ(room.PayloadArrived(BatchRef{D(8), 0}).size(), 1u);
}

TEST(WaitingRoomTest, TakeAllEmptiesTheRoom) {
  WaitingRoom room(10);
  room.AddHeader({H(1, 4), {D(1)}, {}});
  room.AddCertificate(C(3, 4), {D(2)});
  auto [certificates, headers] = room.TakeAll();
  EXPECT_EQ(certificates.size(), 1u);
  EXPECT_EQ(headers.size(), 1u);
  EXPECT_EQ(room.headers() + room.certificates(), 0u);
  EXPECT_TRUE(room.ParentArrived(D(1)).empty());
}

TEST(WaitingRoomTest, InvariantsAreChecked) {
  WaitingRoom room(1);
  EXPECT_DEATH(room.AddHeader({H(1, 4), {}, {}}), "waits for nothing");
  room.AddCertificate(C(3, 4), {D(2)});
  EXPECT_TRUE(room.certificates_full());
  EXPECT_DEATH(room.AddCertificate(C(4, 4), {D(2)}), "");
}

}  // namespace
}  // namespace narwhal
