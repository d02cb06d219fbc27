// One shard of a sweep: `--shard i/N` runs the i-th of N disjoint parts of a sweep's work items (zero-based, as
// Slurm's SLURM_ARRAY_TASK_ID of `--array=0-(N-1)`). Item k belongs to shard k mod N, so shards stay balanced
// when the items are ordered by model and the costly ones cluster. The whole sweep is shard 0/1.
#pragma once

#include <cstddef>
#include <string>

namespace npukit::sweep {

struct Shard {
  size_t index = 0;
  size_t count = 1;

  bool takes(size_t item) const { return item % count == index; }
  std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// Parses "i/N" (decimal, 0 <= i < N, N >= 1). Throws Error(invalid_argument) saying what was wrong and the form
// expected ("3/3": the index must be below the count).
Shard parse_shard(const std::string& text);

}  // namespace npukit::sweep
