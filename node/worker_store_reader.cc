#include "node/worker_store_reader.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace narwhal::node {

std::optional<std::string> WorkerStoreReader::Get(WorkerId worker, const Digest& digest) {
  Slot& slot = slots_[worker];
  if (slot.reader == nullptr) {
    const TimeUs now = clock_->NowUs();
    if (now < slot.next_open_us) return std::nullopt;
    slot.next_open_us = now + reopen_interval_us_;
    const std::string path = absl::StrCat(store_dir_, "/worker-", worker, ".db");
    auto reader = SqliteBatchReader::Open(path);
    if (!reader.ok()) {
      LOG_IF(INFO, !slot.logged) << "executor: not reading worker " << worker
                                 << "'s store directly (asking it instead): " << reader.status();
      slot.logged = true;
      return std::nullopt;
    }
    LOG(INFO) << "executor: reading committed batches of worker " << worker << " from " << path;
    slot.reader = *std::move(reader);
    slot.logged = false;
  }
  auto batch = slot.reader->GetBatch(digest);
  if (!batch.ok()) {
    LOG(WARNING) << "executor: " << batch.status() << "; asking worker " << worker
                 << " over the network until the store reopens";
    slot.reader.reset();
    return std::nullopt;
  }
  return *std::move(batch);
}

}  // namespace narwhal::node
