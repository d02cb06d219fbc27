// What Transpose, Slice and Split select, read from a node's attributes and inputs with the checks the
// ONNX spec asks for. The reference kernels (data_movement.cpp) and the cpu kernels (kernels/cpu/) both
// use these, so the two backends cannot disagree on the semantics (negative axes, clamping, opset changes).
#pragma once

#include <cstdint>
#include <vector>

#include "npukit/tensor.h"
#include "runtime/kernel.h"

namespace npukit::runtime::ref {

// The elements an op reads from its input, as a strided view: output extent and source stride (in
// elements, possibly negative) per axis, and the offset of element (0, 0, …).
struct StridedView {
  Shape shape;
  std::vector<int64_t> strides;
  int64_t offset = 0;
};

// Transpose: the input read through `perm` (default: reversed axes). Throws for a bad permutation.
StridedView transposed_view(const KernelContext& context, const Tensor& data);

// Slice: starts/ends/axes/steps (attributes before opset 10, inputs after), negative indices counted from
// the end and clamped as the spec says. Throws for mismatched lengths, repeated axes and step 0.
StridedView sliced_view(const KernelContext& context, const Tensor& data);

// Split: the extent of each output along `axis` (split attribute before opset 13, input after; equal parts
// otherwise, opset 18's num_outputs letting the last be smaller). Throws unless they cover the axis.
std::vector<int64_t> split_sizes(const KernelContext& context, const Tensor& data, size_t axis);

}  // namespace npukit::runtime::ref
