// What a primary checks of a header or certificate on its own, before it
// looks at its DAG: pure functions of the message, the committee and the
// signature scheme, so they are tested alone and cached by content
// (WireCache) without side effects.
#ifndef NARWHAL_CORE_PRIMARY_MESSAGE_CHECKS_H_
#define NARWHAL_CORE_PRIMARY_MESSAGE_CHECKS_H_

#include "absl/status/status.h"
#include "core/committee.h"
#include "core/crypto.h"
#include "core/dag.h"

namespace narwhal {

// A known author, a round above genesis, 1..n parents, a payload within
// limits naming existing workers, and (if asked) the author's signature.
// PermissionDenied for a bad signature, InvalidArgument otherwise.
absl::Status CheckHeader(const Committee& committee, SignatureScheme scheme, const Header& header,
                         bool require_signature);

// The header as above, then votes sorted by author without repeats, each
// by a known authority with a valid signature, carrying quorum stake.
absl::Status CheckCertificate(const Committee& committee, SignatureScheme scheme,
                              const Certificate& certificate);

}  // namespace narwhal

#endif  // NARWHAL_CORE_PRIMARY_MESSAGE_CHECKS_H_
