// Geometry of sliding-window ops (Conv, ConvInteger, QLinearConv, the pools): strides, dilations, pads
// and output sizes from the node's attributes and the actual input shape, with auto_pad resolved.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/kernel.h"

namespace npukit::runtime::ref {

struct WindowGeometry {
  std::vector<int64_t> input;       // spatial input sizes
  std::vector<int64_t> kernel;      // spatial kernel sizes
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads_begin;
  std::vector<int64_t> pads_end;
  std::vector<int64_t> output;      // spatial output sizes

  size_t rank() const { return input.size(); }
  int64_t output_count() const {
    int64_t count = 1;
    for (int64_t size : output) count *= size;
    return count;
  }
  int64_t kernel_count() const {
    int64_t count = 1;
    for (int64_t size : kernel) count *= size;
    return count;
  }
};

// Reads strides, dilations, pads and auto_pad (and ceil_mode when `allow_ceil_mode`) for a window op whose
// spatial input sizes and kernel sizes are given. Throws invalid for attribute lists of the wrong length,
// non-positive strides, dilations or kernel sizes, negative pads and empty outputs.
inline WindowGeometry compute_window_geometry(const KernelContext& context, std::vector<int64_t> input,
                                              std::vector<int64_t> kernel, bool allow_ceil_mode) {
  WindowGeometry geometry;
  const size_t rank = input.size();
  geometry.input = std::move(input);
  geometry.kernel = std::move(kernel);
  if (geometry.kernel.size() != rank) {
    context.invalid("kernel has " + std::to_string(geometry.kernel.size()) + " spatial dimensions but the input has " +
                    std::to_string(rank));
  }
  geometry.strides = context.attribute_ints("strides", std::vector<int64_t>(rank, 1));
  geometry.dilations = context.attribute_ints("dilations", std::vector<int64_t>(rank, 1));
  std::vector<int64_t> pads = context.attribute_ints("pads", std::vector<int64_t>(2 * rank, 0));
  if (geometry.strides.size() != rank) context.invalid("strides must have one value per spatial dimension");
  if (geometry.dilations.size() != rank) context.invalid("dilations must have one value per spatial dimension");
  if (pads.size() != 2 * rank) context.invalid("pads must have two values per spatial dimension");
  const std::string auto_pad = context.attribute_string("auto_pad", "NOTSET");
  const bool ceil_mode = allow_ceil_mode && context.attribute_int("ceil_mode", 0) != 0;
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID") {
    context.unsupported("auto_pad '" + auto_pad + "' is not supported");
  }
  geometry.pads_begin.assign(rank, 0);
  geometry.pads_end.assign(rank, 0);
  geometry.output.assign(rank, 0);
  for (size_t axis = 0; axis < rank; ++axis) {
    const int64_t size = geometry.input[axis];
    const int64_t stride = geometry.strides[axis];
    const int64_t dilation = geometry.dilations[axis];
    if (geometry.kernel[axis] <= 0) context.invalid("kernel sizes must be positive");
    if (stride <= 0) context.invalid("strides must be positive");
    if (dilation <= 0) context.invalid("dilations must be positive");
    const int64_t extent = (geometry.kernel[axis] - 1) * dilation + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t output = (size + stride - 1) / stride;
      const int64_t total = std::max<int64_t>(0, (output - 1) * stride + extent - size);
      // SAME_UPPER puts the odd padding element at the end, SAME_LOWER at the beginning.
      geometry.pads_begin[axis] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      geometry.pads_end[axis] = total - geometry.pads_begin[axis];
      geometry.output[axis] = output;
      continue;
    }
    if (auto_pad == "NOTSET") {
      geometry.pads_begin[axis] = pads[axis];
      geometry.pads_end[axis] = pads[axis + rank];
      if (pads[axis] < 0 || pads[axis + rank] < 0) context.invalid("pads must not be negative");
    }
    const int64_t padded = size + geometry.pads_begin[axis] + geometry.pads_end[axis];
    if (padded < extent) {
      context.invalid("the kernel (extent " + std::to_string(extent) + ") is larger than the padded input (" +
                      std::to_string(padded) + ") along spatial axis " + std::to_string(axis));
    }
    int64_t output = ceil_mode ? (padded - extent + stride - 1) / stride + 1 : (padded - extent) / stride + 1;
    // With ceil_mode the last window must start inside the input or its left padding (as PyTorch and
    // ONNX Runtime do), otherwise it would cover padding only.
    if (ceil_mode && (output - 1) * stride >= size + geometry.pads_begin[axis]) --output;
    geometry.output[axis] = output;
  }
  return geometry;
}

// Input coordinate of the first tap of window `output_index` along `axis` (negative inside the begin
// padding).
inline int64_t window_start(const WindowGeometry& geometry, size_t axis, int64_t output_index) {
  return output_index * geometry.strides[axis] - geometry.pads_begin[axis];
}

// Product of the dimensions of `shape` from `first` on.
inline int64_t product_from(const std::vector<int64_t>& shape, size_t first) {
  int64_t count = 1;
  for (size_t i = first; i < shape.size(); ++i) count *= shape[i];
  return count;
}

}  // namespace npukit::runtime::ref
