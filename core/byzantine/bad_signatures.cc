// bad_signatures: headers and votes carry signatures that do not verify
// (one flipped byte after an honest signature).
#include "core/byzantine/registry.h"

namespace narwhal::byzantine {
namespace {

class BadSignatures : public Behavior {
 public:
  void OnOwnHeaderSigned(Header* header) override { header->signature[0] ^= 0xff; }
  void OnVoteSigned(Vote* vote) override { vote->signature[0] ^= 0xff; }
};

}  // namespace

const Entry& BadSignaturesEntry() {
  static const Entry e{"bad_signatures", "headers and votes with signatures that do not verify",
                       []() -> std::unique_ptr<Behavior> { return std::make_unique<BadSignatures>(); }};
  return e;
}

}  // namespace narwhal::byzantine
