// Where each activation buffer lives inside one arena, given when it is first written and last read.
//
// Buffers whose lifetimes (inclusive node-index intervals) overlap must not share bytes; buffers that are
// never alive at the same time may. This is TFLite's "greedy by size" planner: the largest buffer is placed
// first, each next one into the smallest gap between the already-placed buffers it overlaps in time (best
// fit), or after them. It is not optimal (the problem is NP-hard) but stays close to the peak live size on
// the chain-like graphs of CNNs, and it runs in O(n^2) for n buffers, once per session.
#pragma once

#include <cstddef>
#include <vector>

namespace npukit::runtime {

struct BufferLifetime {
  size_t bytes = 0;
  size_t first = 0;  // index of the node that writes it
  size_t last = 0;   // index of the last node that reads it (>= first)
};

struct ArenaLayout {
  std::vector<size_t> offsets;  // per buffer, a multiple of the alignment
  size_t total_bytes = 0;
};

// `alignment` must be a power of two; every offset is a multiple of it and each buffer's size is rounded up
// to it, so vector kernels can use aligned loads at the start of every tensor.
ArenaLayout place_buffers(const std::vector<BufferLifetime>& buffers, size_t alignment = 64);

}  // namespace npukit::runtime
