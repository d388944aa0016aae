#include "transport_zmq/test_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal::testing {
namespace {

constexpr int kFirstPort = 20000;
constexpr int kPortCount = 12000;  // up to 31999, below the ephemeral range

bool CanBind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  // ZeroMQ binds with SO_REUSEADDR too, so test the same condition it meets.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

int PickFreePort() {
  // Tests run in parallel processes: start each process at a different
  // place so they rarely probe the same ports.
  static std::atomic<uint64_t> next{
      static_cast<uint64_t>(getpid()) * 7919 +
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = kFirstPort + static_cast<int>(next.fetch_add(1) % kPortCount);
    if (CanBind(port)) return port;
  }
  LOG(FATAL) << "no free TCP port on 127.0.0.1 in [" << kFirstPort << ", "
             << kFirstPort + kPortCount << ")";
  return -1;
}

std::string LoopbackAddress(int port) { return absl::StrCat("127.0.0.1:", port); }

}  // namespace narwhal::testing
