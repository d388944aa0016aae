// One Byzantine behaviour: the real node doing one wrong thing, at hooks the
// primary and the worker call where an honest node signs, broadcasts, votes
// and serves batches (DESIGN.md section 8: "Byzantine behaviours are data:
// one file each"). The simulator gives them to authorities by name
// (core/byzantine.h); the node binary never does.
//
// Every hook has an honest default (do nothing, withhold nothing), so a
// behaviour overrides only the hooks it corrupts. An authority may run
// several behaviours at once: core/byzantine/composite.h calls each hook on
// all of them, in the order of the registry (core/byzantine/behaviors.def).
//
//   class ShoutTwice : public Behavior {   // core/byzantine/shout_twice.cc
//    public:
//     void AfterOwnHeaderBroadcast(const PrimaryContext& ctx, const Header& h) override { ... }
//   };
#ifndef NARWHAL_CORE_BYZANTINE_BEHAVIOR_H_
#define NARWHAL_CORE_BYZANTINE_BEHAVIOR_H_

#include <memory>
#include <vector>

#include "absl/container/btree_map.h"
#include "core/committee.h"
#include "core/crypto.h"
#include "core/dag.h"
#include "core/net/messenger.h"
#include "core/parameters.h"
#include "core/store/store.h"
#include "core/types.h"

namespace narwhal::byzantine {

// What a behaviour may use of the primary it lives in. The primary builds
// one per hook call; the references are valid for that call only.
struct PrimaryContext {
  const Committee& committee;
  const Parameters& params;
  AuthorityIndex self;
  const KeyPair& key;  // the authority's own key: what it signs is validly signed
  Messenger& messenger;
  Store& store;
  // The primary's DAG above its GC round, by round then author.
  const absl::btree_map<Round, absl::btree_map<AuthorityIndex, CertificatePtr>>& dag;
};

// One header and who it is sent to: the primary broadcasts its own header
// as a list of these (one entry when honest).
struct HeaderSend {
  Header header;
  std::vector<AuthorityIndex> to;
};

class Behavior {
 public:
  virtual ~Behavior() = default;

  // ---- primary ----
  // The own header was just signed (before it is stored and sent).
  virtual void OnOwnHeaderSigned(Header* header) {}
  // Who gets which own header: `sends` holds one entry (the header, every
  // other authority) and may be rewritten.
  virtual void PlanOwnHeaderBroadcast(const PrimaryContext& ctx, std::vector<HeaderSend>* sends) {}
  // After the own header of `header.round` went out.
  virtual void AfterOwnHeaderBroadcast(const PrimaryContext& ctx, const Header& header) {}
  // True: do not vote for `header` (checked before the vote is recorded).
  virtual bool WithholdVote(const Header& header) { return false; }
  // A vote was just signed (before it is sent).
  virtual void OnVoteSigned(Vote* vote) {}

  // ---- worker ----
  // True: answer this batch request with an empty success (claims to serve,
  // serves nothing). `self` is the worker's authority.
  virtual bool WithholdBatches(AuthorityIndex self, const Endpoint& from) { return false; }
};

}  // namespace narwhal::byzantine

#endif  // NARWHAL_CORE_BYZANTINE_BEHAVIOR_H_
