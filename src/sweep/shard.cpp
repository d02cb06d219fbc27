#include "sweep/shard.h"

#include <cctype>
#include <limits>

#include "npukit/error.h"

namespace npukit::sweep {

namespace {

// Digits only: no sign, no spaces, no hexadecimal, no overflow (std::stoul would take " 2", "+2" and "0x2").
bool parse_count(const std::string& text, size_t& value) {
  if (text.empty() || text.size() > 9) return false;
  value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return true;
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const std::string form = " (expected --shard i/N with 0 <= i < N, e.g. 0/4; a Slurm array job passes $SLURM_ARRAY_TASK_ID/N)";
  const size_t slash = text.find('/');
  Shard shard;
  if (slash == std::string::npos || !parse_count(text.substr(0, slash), shard.index) ||
      !parse_count(text.substr(slash + 1), shard.count)) {
    throw Error(ErrorKind::invalid_argument, "--shard '" + text + "' is not two whole numbers i/N" + form);
  }
  if (shard.count == 0) throw Error(ErrorKind::invalid_argument, "--shard '" + text + "': the shard count N must be 1 or more" + form);
  if (shard.index >= shard.count) {
    throw Error(ErrorKind::invalid_argument, "--shard '" + text + "': the shard index must be below the count (shards of " +
                                                 std::to_string(shard.count) + " are 0 to " + std::to_string(shard.count - 1) + ")" + form);
  }
  return shard;
}

}  // namespace npukit::sweep
