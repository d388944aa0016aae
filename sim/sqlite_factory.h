// SQLite in memory as a simulated node's store: the same SQL the node runs
// on disk, with the store object (and so its contents) surviving a simulated
// crash.
#ifndef NARWHAL_SIM_SQLITE_FACTORY_H_
#define NARWHAL_SIM_SQLITE_FACTORY_H_

#include <memory>

#include "core/store/store.h"

namespace narwhal::sim {

std::unique_ptr<Store> MakeSqliteMemoryStore();

}  // namespace narwhal::sim

#endif  // NARWHAL_SIM_SQLITE_FACTORY_H_
