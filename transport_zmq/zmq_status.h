// Conversion of ZeroMQ errors into absl::Status: the one place where errno
// values from libzmq become the codes the rest of the tree reasons about.
// cppzmq reports failures by throwing zmq::error_t; every public entry point
// of transport_zmq catches it and returns the Status built here, so no
// exception ever leaves this directory.
#ifndef NARWHAL_TRANSPORT_ZMQ_ZMQ_STATUS_H_
#define NARWHAL_TRANSPORT_ZMQ_ZMQ_STATUS_H_

#include <string_view>

#include "absl/status/status.h"

namespace narwhal {

// `what` names the operation, e.g. "bind tcp://127.0.0.1:7000". The code is
// chosen so callers can react: Unavailable for an address in use (retry on
// another port or later), InvalidArgument for a malformed or unusable
// address, ResourceExhausted for a full queue, Internal otherwise.
absl::Status ZmqErrnoToStatus(int zmq_errno, std::string_view what);

}  // namespace narwhal

#endif  // NARWHAL_TRANSPORT_ZMQ_ZMQ_STATUS_H_
