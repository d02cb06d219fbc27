#include "sim/byte_transpose.h"

#include <algorithm>

namespace npukit::sim {

void transpose_bytes(const uint8_t* source, int64_t rows, int64_t columns, int64_t source_stride, uint8_t* destination,
                     int64_t destination_stride, uint8_t flip) {
  constexpr int64_t kTile = 32;  // a tile's rows and columns stay in L1 while it is moved
  for (int64_t row_begin = 0; row_begin < rows; row_begin += kTile) {
    const int64_t row_end = std::min(rows, row_begin + kTile);
    for (int64_t column_begin = 0; column_begin < columns; column_begin += kTile) {
      const int64_t column_end = std::min(columns, column_begin + kTile);
      for (int64_t c = column_begin; c < column_end; ++c) {
        uint8_t* to = destination + c * destination_stride;
        const uint8_t* from = source + c;
        for (int64_t r = row_begin; r < row_end; ++r) to[r] = static_cast<uint8_t>(from[r * source_stride] ^ flip);
      }
    }
  }
}

}  // namespace npukit::sim
