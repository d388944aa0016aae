#include "transport_zmq/zmq_status.h"

#include <zmq.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace narwhal {

absl::Status ZmqErrnoToStatus(int zmq_errno, std::string_view what) {
  std::string message = absl::StrCat(std::string(what), ": ", zmq_strerror(zmq_errno));
  switch (zmq_errno) {
    case EADDRINUSE:
      return absl::UnavailableError(message);
    case EAGAIN:
      return absl::ResourceExhaustedError(message);
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENODEV:
    case EADDRNOTAVAIL:
    case ENOCOMPATPROTO:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace narwhal
