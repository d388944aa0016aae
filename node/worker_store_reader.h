// The executor's local batch source: reads committed batches straight from
// the store files of this authority's workers (DIR/worker-K.db) when they
// share the primary's --store directory, i.e. run on this machine. Read-only
// (SqliteBatchReader); the worker process stays the only writer.
//
// A file that is not there (the worker runs elsewhere, or has not started
// yet) or cannot be read is tried again at most once per reopen_interval_us;
// meanwhile Get returns nullopt and the executor asks the worker over
// the network, as it does for batches the file does not hold.
//
// Single-threaded: the primary's event loop.
#ifndef NARWHAL_NODE_WORKER_STORE_READER_H_
#define NARWHAL_NODE_WORKER_STORE_READER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "core/env.h"
#include "core/types.h"
#include "store_sqlite/sqlite_batch_reader.h"

namespace narwhal::node {

class WorkerStoreReader {
 public:
  WorkerStoreReader(std::string store_dir, const Clock* clock,
                    TimeUs reopen_interval_us = 2 * kSecondUs)
      : store_dir_(std::move(store_dir)), clock_(clock), reopen_interval_us_(reopen_interval_us) {}

  std::optional<std::string> Get(WorkerId worker, const Digest& digest);

 private:
  struct Slot {
    std::unique_ptr<SqliteBatchReader> reader;
    TimeUs next_open_us = 0;
    bool logged = false;
  };

  const std::string store_dir_;
  const Clock* clock_;
  const TimeUs reopen_interval_us_;
  absl::btree_map<WorkerId, Slot> slots_;
};

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_WORKER_STORE_READER_H_
