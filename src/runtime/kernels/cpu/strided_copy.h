// The one copy primitive of the cpu backend's data-movement kernels (Slice, Split, Transpose): a strided
// gather into a contiguous output, on raw words of the element's size so every dtype is served.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "npukit/tensor.h"
#include "runtime/kernels/ref/data_movement_parameters.h"
#include "runtime/kernels/ref/strided_copy.h"

namespace npukit::runtime::cpu {

// A view of a tensor: extent and source stride (in elements, possibly zero or negative) per axis, as the
// reference kernels compute it (ref::transposed_view, ref::sliced_view).
using ref::StridedView;
using ref::contiguous_strides;

// The same view with extent-1 axes dropped and neighbouring axes merged wherever the outer one's stride
// continues the inner one's (a slice that keeps whole rows becomes one long run). Element order is kept.
StridedView simplified(const StridedView& view);

// Writes the view's elements contiguously (row-major over view.shape) to `destination`; element
// (i0, i1, …) is read from source[offset + Σ i_k * strides[k]]. The view is simplified first; rows along
// its innermost axis are copied with memcpy when that axis has stride 1; rows are split across the
// OpenMP threads for large copies.
void strided_copy(const void* source, void* destination, size_t element_size, const StridedView& view);

}  // namespace npukit::runtime::cpu
