// glibc malloc settings for processes that move batch-sized buffers (about
// 500 KB to a few MB) between threads at a high rate: the event loop
// allocates frames that ZeroMQ's I/O thread frees, and the I/O thread
// allocates received messages that the event loop frees.
//
// With glibc's defaults such buffers are mmap'ed (or, in the I/O thread's
// own arena, land in heaps that are unmapped when they empty), so every
// buffer costs a page fault and a page clear per 4 KiB: perf showed the
// kernel's clear_page as the largest single cost of a node under load.
// One arena and a high mmap threshold keep freed memory mapped and reused.
// The trim threshold (64 MiB of free memory at the top of the heap) is lower
// than it was (512 MiB): with it a primary's resident memory was the
// high-water mark of every executed row it ever built, 190-266 MB and
// growing over a minute at 75k tx/s; now 86-142 MB, peak 187-218 MB.
#ifndef NARWHAL_NODE_HEAP_TUNING_H_
#define NARWHAL_NODE_HEAP_TUNING_H_

#include "absl/status/status.h"

namespace narwhal::node {

// Call at the start of main, before any thread is created. Fails (naming the
// setting) if glibc refuses one; the process still works, only slower.
absl::Status KeepLargeBuffersOnHeap();

}  // namespace narwhal::node

#endif  // NARWHAL_NODE_HEAP_TUNING_H_
