// Dtype-agnostic element movement for the data-movement kernels (Transpose, Slice, Tile, DepthToSpace …).
//
// These ops only move elements, so they work on raw words of the element's size: one template per size
// (1, 2, 4, 8 bytes) serves every dtype, bool included. The one primitive is a strided gather: the output
// is written contiguously while the source is read through arbitrary (possibly zero or negative) strides,
// which expresses permutations, slices with steps, broadcasts and tilings alike. The innermost loop runs
// over contiguous output elements; when the source is contiguous too it is a memcpy.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "npukit/tensor.h"

namespace npukit::runtime::ref {

// Row-major strides, in elements.
inline std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t axis = shape.size(); axis-- > 1;) strides[axis - 1] = strides[axis] * shape[axis];
  return strides;
}

template <typename Word>
void strided_gather_words(const Word* source, Word* destination, const Shape& shape,
                          const std::vector<int64_t>& source_strides, int64_t source_offset) {
  const size_t rank = shape.size();
  int64_t total = 1;
  for (int64_t extent : shape) total *= extent;
  if (total == 0) return;
  if (rank == 0) {
    destination[0] = source[source_offset];
    return;
  }
  const int64_t inner = shape.back();
  const int64_t inner_stride = source_strides.back();
  const int64_t outer = total / inner;
  std::vector<int64_t> index(rank, 0);
  int64_t offset = source_offset;
  for (int64_t row = 0; row < outer; ++row) {
    const Word* row_source = source + offset;
    if (inner_stride == 1) {
      std::memcpy(destination, row_source, static_cast<size_t>(inner) * sizeof(Word));
    } else {
      for (int64_t j = 0; j < inner; ++j) destination[j] = row_source[j * inner_stride];
    }
    destination += inner;
    for (size_t axis = rank - 1; axis-- > 0;) {
      offset += source_strides[axis];
      if (++index[axis] < shape[axis]) break;
      offset -= source_strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
}

// Writes shape-many elements contiguously to `destination`; element (i0, i1, …) is read from
// source[source_offset + Σ i_k * source_strides[k]] (offsets and strides in elements).
inline void strided_gather(const void* source, void* destination, size_t element_size, const Shape& shape,
                           const std::vector<int64_t>& source_strides, int64_t source_offset = 0) {
  switch (element_size) {
    case 1:
      strided_gather_words(static_cast<const uint8_t*>(source), static_cast<uint8_t*>(destination), shape,
                           source_strides, source_offset);
      break;
    case 2:
      strided_gather_words(static_cast<const uint16_t*>(source), static_cast<uint16_t*>(destination), shape,
                           source_strides, source_offset);
      break;
    case 4:
      strided_gather_words(static_cast<const uint32_t*>(source), static_cast<uint32_t*>(destination), shape,
                           source_strides, source_offset);
      break;
    default:
      strided_gather_words(static_cast<const uint64_t*>(source), static_cast<uint64_t*>(destination), shape,
                           source_strides, source_offset);
      break;
  }
}

// Reads a 1-D (or scalar) integer input such as shape, axes, pads or repeats.
inline std::vector<int64_t> int64_values(const Tensor& tensor) { return tensor.to_int64_vector(); }

}  // namespace npukit::runtime::ref
