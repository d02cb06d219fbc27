// A shape seen around one axis: outer (product of the dims before it), extent (the axis itself) and inner
// (product of the dims after it). Kernels that work along one axis (Concat, CumSum, ArgMax, TopK, Scan,
// Resize per axis) walk a tensor as outer × extent × inner.
#pragma once

#include <cstddef>
#include <cstdint>

#include "npukit/tensor.h"

namespace npukit::runtime::ref {

struct AxisSplit {
  int64_t outer = 1;
  int64_t extent = 1;
  int64_t inner = 1;
};

inline AxisSplit split_at(const Shape& shape, size_t axis) {
  AxisSplit split;
  for (size_t i = 0; i < axis; ++i) split.outer *= shape[i];
  split.extent = shape[axis];
  for (size_t i = axis + 1; i < shape.size(); ++i) split.inner *= shape[i];
  return split;
}

}  // namespace npukit::runtime::ref
