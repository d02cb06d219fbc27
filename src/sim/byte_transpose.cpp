#include "sim/byte_transpose.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#define NPUKIT_BYTE_TRANSPOSE_SSE2 1
#endif

namespace npukit::sim {

namespace {

// The plain copy, for the edges (and machines without SSE2).
void transpose_scalar(const uint8_t* source, int64_t row_begin, int64_t row_end, int64_t column_begin, int64_t column_end,
                      int64_t source_stride, uint8_t* destination, int64_t destination_stride, uint8_t flip) {
  constexpr int64_t kTile = 32;  // a tile's rows and columns stay in L1 while it is moved
  for (int64_t tile_row = row_begin; tile_row < row_end; tile_row += kTile) {
    const int64_t tile_row_end = std::min(row_end, tile_row + kTile);
    for (int64_t tile_column = column_begin; tile_column < column_end; tile_column += kTile) {
      const int64_t tile_column_end = std::min(column_end, tile_column + kTile);
      for (int64_t c = tile_column; c < tile_column_end; ++c) {
        uint8_t* to = destination + c * destination_stride;
        const uint8_t* from = source + c;
        for (int64_t r = tile_row; r < tile_row_end; ++r) to[r] = static_cast<uint8_t>(from[r * source_stride] ^ flip);
      }
    }
  }
}

#ifdef NPUKIT_BYTE_TRANSPOSE_SSE2
// One 16 × 16 block: four rounds of interleaving (bytes, 16-bit pairs, 32-bit quads, 64-bit halves) turn
// 16 rows into 16 columns.
void transpose_block_16(const uint8_t* source, int64_t source_stride, uint8_t* destination, int64_t destination_stride,
                        __m128i flip) {
  __m128i rows[16], pairs[16], quads[16], octets[16];
  for (int i = 0; i < 16; ++i) {
    rows[i] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(source + i * source_stride)), flip);
  }
  for (int i = 0; i < 8; ++i) {  // pairs[2i] / [2i+1]: columns 0..7 / 8..15 of rows 2i, 2i+1, by column
    pairs[2 * i] = _mm_unpacklo_epi8(rows[2 * i], rows[2 * i + 1]);
    pairs[2 * i + 1] = _mm_unpackhi_epi8(rows[2 * i], rows[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // quads[4i + k]: columns 4k..4k+3 of rows 4i..4i+3
    const __m128i* a = pairs + 4 * i;
    quads[4 * i] = _mm_unpacklo_epi16(a[0], a[2]);
    quads[4 * i + 1] = _mm_unpackhi_epi16(a[0], a[2]);
    quads[4 * i + 2] = _mm_unpacklo_epi16(a[1], a[3]);
    quads[4 * i + 3] = _mm_unpackhi_epi16(a[1], a[3]);
  }
  for (int half = 0; half < 2; ++half) {  // octets[8·half + 2k (+1)]: columns 2k (2k+1) pairs of rows 8·half..+7
    const __m128i* b = quads + 8 * half;
    for (int k = 0; k < 4; ++k) {
      octets[8 * half + 2 * k] = _mm_unpacklo_epi32(b[k], b[k + 4]);
      octets[8 * half + 2 * k + 1] = _mm_unpackhi_epi32(b[k], b[k + 4]);
    }
  }
  for (int k = 0; k < 8; ++k) {  // column 2k and 2k+1, all 16 rows
    _mm_storeu_si128(reinterpret_cast<__m128i*>(destination + (2 * k) * destination_stride), _mm_unpacklo_epi64(octets[k], octets[k + 8]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(destination + (2 * k + 1) * destination_stride), _mm_unpackhi_epi64(octets[k], octets[k + 8]));
  }
}
#endif

}  // namespace

void transpose_bytes(const uint8_t* source, int64_t rows, int64_t columns, int64_t source_stride, uint8_t* destination,
                     int64_t destination_stride, uint8_t flip) {
  int64_t full_rows = 0, full_columns = 0;
#ifdef NPUKIT_BYTE_TRANSPOSE_SSE2
  full_rows = rows / 16 * 16;
  full_columns = columns / 16 * 16;
  const __m128i flip_vector = _mm_set1_epi8(static_cast<char>(flip));
  for (int64_t r = 0; r < full_rows; r += 16) {
    for (int64_t c = 0; c < full_columns; c += 16) {
      transpose_block_16(source + r * source_stride + c, source_stride, destination + c * destination_stride + r,
                         destination_stride, flip_vector);
    }
  }
#endif
  // What the 16 × 16 blocks left: the last columns of the full rows, then the last rows.
  transpose_scalar(source, 0, full_rows, full_columns, columns, source_stride, destination, destination_stride, flip);
  transpose_scalar(source, full_rows, rows, 0, columns, source_stride, destination, destination_stride, flip);
}

namespace {

// [N, rows, columns] → [N, columns, rows] of `element`-byte elements (not a hot path: kept values only).
void transpose_elements(const Tensor& from, int64_t rows, int64_t columns, Tensor& to) {
  const size_t element = dtype_size(from.dtype());
  const auto* source = static_cast<const uint8_t*>(from.raw_data());
  auto* destination = static_cast<uint8_t*>(to.raw_data());
  for (int64_t n = 0; n < from.dim(0); ++n) {
    const int64_t image = n * rows * columns;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < columns; ++c) {
        std::memcpy(destination + (image + c * rows + r) * element, source + (image + r * columns + c) * element, element);
      }
    }
  }
}

}  // namespace

namespace {

// Each image of `from` ([N, rows, columns] elements) transposed to [N, columns, rows], in a tensor of from's shape:
// bytes through transpose_bytes, wider elements (f32 values kept by --keep) one by one.
Tensor images_transposed(const Tensor& from, int64_t rows, int64_t columns) {
  Tensor result(from.dtype(), from.shape());
  if (dtype_size(from.dtype()) != 1) {
    transpose_elements(from, rows, columns, result);
    return result;
  }
  for (int64_t n = 0; n < from.dim(0); ++n) {
    const int64_t image = n * rows * columns;
    transpose_bytes(static_cast<const uint8_t*>(from.raw_data()) + image, rows, columns, columns,
                    static_cast<uint8_t*>(result.raw_data()) + image, rows);
  }
  return result;
}

}  // namespace

Tensor channels_first_copy(const Tensor& channels_last) {
  return images_transposed(channels_last, channels_last.dim(2) * channels_last.dim(3), channels_last.dim(1));
}

Tensor channels_last_copy(const Tensor& channels_first) {
  return images_transposed(channels_first, channels_first.dim(1), channels_first.dim(2) * channels_first.dim(3));
}

}  // namespace npukit::sim
