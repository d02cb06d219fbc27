#include "runtime/arena_placement.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace npukit::runtime {

ArenaLayout place_buffers(const std::vector<BufferLifetime>& buffers, size_t alignment) {
  auto round_up = [alignment](size_t bytes) { return (bytes + alignment - 1) & ~(alignment - 1); };
  ArenaLayout layout;
  layout.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Largest first; ties by earlier first use, so the result does not depend on the sort's stability.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    if (buffers[a].first != buffers[b].first) return buffers[a].first < buffers[b].first;
    return a < b;
  });
  std::vector<size_t> placed;  // buffer indices, in placement order
  struct Interval {
    size_t begin, end;
  };
  std::vector<Interval> occupied;
  for (size_t index : order) {
    const BufferLifetime& buffer = buffers[index];
    const size_t size = round_up(std::max<size_t>(buffer.bytes, 1));
    occupied.clear();
    for (size_t other : placed) {
      const BufferLifetime& placed_buffer = buffers[other];
      if (placed_buffer.last < buffer.first || buffer.last < placed_buffer.first) continue;  // never alive together
      occupied.push_back({layout.offsets[other], layout.offsets[other] + round_up(std::max<size_t>(placed_buffer.bytes, 1))});
    }
    std::sort(occupied.begin(), occupied.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
    size_t best_offset = std::numeric_limits<size_t>::max(), best_gap = std::numeric_limits<size_t>::max();
    size_t cursor = 0;
    for (const Interval& interval : occupied) {
      if (interval.begin > cursor) {
        const size_t gap = interval.begin - cursor;
        if (gap >= size && gap < best_gap) {
          best_gap = gap;
          best_offset = cursor;
        }
      }
      cursor = std::max(cursor, interval.end);
    }
    if (best_offset == std::numeric_limits<size_t>::max()) best_offset = cursor;  // after everything alive with it
    layout.offsets[index] = best_offset;
    layout.total_bytes = std::max(layout.total_bytes, best_offset + size);
    placed.push_back(index);
  }
  return layout;
}

}  // namespace npukit::runtime
