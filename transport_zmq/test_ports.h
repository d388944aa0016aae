// Test helper: TCP ports on 127.0.0.1 that were free a moment ago. A test
// must still handle Unavailable from a bind (another process may take the
// port in between) by picking again.
#ifndef NARWHAL_TRANSPORT_ZMQ_TEST_PORTS_H_
#define NARWHAL_TRANSPORT_ZMQ_TEST_PORTS_H_

#include <string>

namespace narwhal::testing {

// A port below the kernel's ephemeral range (which starts at 32768 by
// default) that a plain socket could bind just now. Ports from the
// ephemeral range are avoided on purpose: a DEALER reconnecting to a dead
// local port can be handed that very port as its source and connect to
// itself, which then blocks the restarted peer's bind.
int PickFreePort();

// "127.0.0.1:<port>".
std::string LoopbackAddress(int port);

}  // namespace narwhal::testing

#endif  // NARWHAL_TRANSPORT_ZMQ_TEST_PORTS_H_
