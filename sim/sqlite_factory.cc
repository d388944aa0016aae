#include "sim/sqlite_factory.h"

#include "glog/logging.h"
#include "store_sqlite/sqlite_store.h"

namespace narwhal::sim {

std::unique_ptr<Store> MakeSqliteMemoryStore() {
  SqliteOptions options;
  options.synchronous = "OFF";  // in memory: nothing to sync
  auto store = SqliteStore::Open(":memory:", options);
  CHECK(store.ok()) << store.status();
  return std::move(*store);
}

}  // namespace narwhal::sim
