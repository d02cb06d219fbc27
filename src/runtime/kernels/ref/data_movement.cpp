// Ops that move elements without computing on them: Transpose, Concat, Split, Slice, Tile, Pad,
// DepthToSpace, SpaceToDepth, ReverseSequence, Trilu.
//
// Most are one strided gather (strided_copy.h) on raw element words, so every dtype is served by the
// same code and the copy loops see contiguous output rows.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/data_movement_parameters.h"
#include "runtime/kernels/ref/strided_copy.h"
#include "runtime/kernels/ref/axis_split.h"

namespace npukit::runtime::ref {

namespace {

// Copies `data` viewed through `source_strides` (elements) into a fresh output of `shape`.
void gather_into_output(KernelContext& context, size_t output_index, const Tensor& data, const Shape& shape,
                        const std::vector<int64_t>& source_strides, int64_t source_offset = 0) {
  Tensor& output = context.allocate_output(output_index, data.dtype(), shape);
  strided_gather(data.raw_data(), output.raw_data(), dtype_size(data.dtype()), shape, source_strides, source_offset);
}

void transpose_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const StridedView view = transposed_view(context, data);
  gather_into_output(context, 0, data, view.shape, view.strides, view.offset);
}

void concat_kernel(KernelContext& context) {
  const Tensor& first = context.input(0);
  const int64_t rank = static_cast<int64_t>(first.rank());
  if (rank == 0) context.invalid("Concat of scalars is not defined");
  const size_t axis = static_cast<size_t>(normalize_axis(context.attribute_int("axis", 0), rank, context));
  Shape shape = first.shape();
  shape[axis] = 0;
  for (size_t i = 0; i < context.input_count(); ++i) {
    const Tensor& part = context.input(i);
    if (part.dtype() != first.dtype()) context.invalid("inputs of different dtypes");
    if (part.rank() != first.rank()) context.invalid("inputs of different ranks");
    for (size_t d = 0; d < first.rank(); ++d) {
      if (d != axis && part.dim(d) != first.dim(d)) {
        context.invalid("input " + std::to_string(i) + " has shape " + shape_to_string(part.shape()) +
                        ", incompatible with " + shape_to_string(first.shape()) + " outside axis " +
                        std::to_string(axis));
      }
    }
    shape[axis] += part.dim(axis);
  }
  Tensor& output = context.allocate_output(0, first.dtype(), shape);
  const size_t element_size = dtype_size(first.dtype());
  const AxisSplit split = split_at(shape, axis);
  const int64_t outer = split.outer, inner = split.inner;
  const size_t output_row = static_cast<size_t>(shape[axis] * inner) * element_size;
  auto* destination = static_cast<std::byte*>(output.raw_data());
  size_t column = 0;
  for (size_t i = 0; i < context.input_count(); ++i) {
    const Tensor& part = context.input(i);
    const size_t part_row = static_cast<size_t>(part.dim(axis) * inner) * element_size;
    const auto* source = static_cast<const std::byte*>(part.raw_data());
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(destination + static_cast<size_t>(o) * output_row + column, source + static_cast<size_t>(o) * part_row,
                  part_row);
    }
    column += part_row;
  }
}

void split_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const int64_t rank = static_cast<int64_t>(data.rank());
  const size_t axis = static_cast<size_t>(normalize_axis(context.attribute_int("axis", 0), rank, context));
  const size_t output_count = context.output_count();
  const std::vector<int64_t> sizes = split_sizes(context, data, axis);
  const std::vector<int64_t> strides = contiguous_strides(data.shape());
  int64_t start = 0;
  for (size_t i = 0; i < output_count; ++i) {
    Shape shape = data.shape();
    shape[axis] = sizes[i];
    if (context.output_requested(i)) gather_into_output(context, i, data, shape, strides, start * strides[axis]);
    start += sizes[i];
  }
}

void slice_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const StridedView view = sliced_view(context, data);
  gather_into_output(context, 0, data, view.shape, view.strides, view.offset);
}

void tile_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const std::vector<int64_t> repeats = int64_values(context.input(1));
  if (repeats.size() != data.rank()) {
    context.invalid("repeats has " + std::to_string(repeats.size()) + " entries for an input of rank " +
                    std::to_string(data.rank()));
  }
  // The output, viewed as [r0, d0, r1, d1, …], reads the input with stride 0 along each repeat axis.
  const std::vector<int64_t> input_strides = contiguous_strides(data.shape());
  Shape view_shape, view_strides, shape;
  for (size_t axis = 0; axis < data.rank(); ++axis) {
    if (repeats[axis] < 0) context.invalid("repeats must not be negative");
    view_shape.push_back(repeats[axis]);
    view_strides.push_back(0);
    view_shape.push_back(data.dim(axis));
    view_strides.push_back(input_strides[axis]);
    shape.push_back(repeats[axis] * data.dim(axis));
  }
  Tensor& output = context.allocate_output(0, data.dtype(), shape);
  strided_gather(data.raw_data(), output.raw_data(), dtype_size(data.dtype()), view_shape, view_strides);
}

// Source coordinate for output coordinate `position` along an axis padded by `before`; -1 means "constant".
int64_t padded_source_index(int64_t position, int64_t before, int64_t extent, const std::string& mode) {
  int64_t index = position - before;
  if (index >= 0 && index < extent) return index;
  if (mode == "constant" || extent == 0) return -1;
  if (mode == "edge") return index < 0 ? 0 : extent - 1;
  if (mode == "wrap") return ((index % extent) + extent) % extent;
  // reflect: mirror without repeating the edge element, with period 2 * (extent - 1).
  if (extent == 1) return 0;
  const int64_t period = 2 * (extent - 1);
  index = ((index % period) + period) % period;
  return index < extent ? index : period - index;
}

void pad_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const int64_t rank = static_cast<int64_t>(data.rank());
  const std::string mode = context.attribute_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap") {
    context.unsupported("pad mode '" + mode + "' is not supported");
  }
  std::vector<int64_t> pads;
  double constant_value = 0.0;
  std::vector<int64_t> axes;
  if (context.opset() < 11) {
    pads = context.attribute_ints(context.opset() < 2 ? "paddings" : "pads");
    constant_value = context.attribute_float("value", 0.0);
  } else {
    pads = int64_values(context.input(1));
    if (const Tensor* value = context.optional_input(2); value && value->element_count() > 0) {
      constant_value = value->value_as_double(0);
    }
    if (const Tensor* axes_input = context.optional_input(3)) axes = int64_values(*axes_input);
  }
  if (axes.empty()) {
    for (int64_t axis = 0; axis < rank; ++axis) axes.push_back(axis);
  }
  if (pads.size() != 2 * axes.size()) {
    context.invalid("pads has " + std::to_string(pads.size()) + " entries; expected " + std::to_string(2 * axes.size()));
  }
  std::vector<int64_t> before(static_cast<size_t>(rank), 0), after(static_cast<size_t>(rank), 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    const size_t axis = static_cast<size_t>(normalize_axis(axes[i], rank, context));
    before[axis] = pads[i];
    after[axis] = pads[i + axes.size()];
  }
  Shape shape(static_cast<size_t>(rank));
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    shape[axis] = data.dim(axis) + before[axis] + after[axis];
    if (shape[axis] < 0) context.invalid("pads make axis " + std::to_string(axis) + " negative");
    if (mode != "constant" && data.dim(axis) == 0 && shape[axis] > 0) {
      context.invalid("cannot pad an empty axis in mode '" + mode + "'");
    }
  }
  Tensor& output = context.allocate_output(0, data.dtype(), shape);
  if (output.element_count() == 0) return;
  if (rank == 0) {
    std::memcpy(output.raw_data(), data.raw_data(), dtype_size(data.dtype()));
    return;
  }
  // Per axis, the source coordinate of every output coordinate.
  std::vector<std::vector<int64_t>> source_index(shape.size());
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    for (int64_t position = 0; position < shape[axis]; ++position) {
      source_index[axis].push_back(padded_source_index(position, before[axis], data.dim(axis), mode));
    }
  }
  const std::vector<int64_t> input_strides = contiguous_strides(data.shape());
  dispatch_dtype(data.dtype(), kAllTypes, "Pad", [&]<typename T>() {
    const T fill = static_cast<T>(static_cast<compute_type_t<T>>(constant_value));
    const T* source = data.data<T>();
    T* destination = output.data<T>();
    const int64_t inner = shape.back();
    const std::vector<int64_t>& inner_map = source_index.back();
    const int64_t rows = output.element_count() / inner;
    std::vector<int64_t> index(shape.size(), 0);
    for (int64_t row = 0; row < rows; ++row) {
      int64_t base = 0;
      bool constant_row = false;
      for (size_t axis = 0; axis + 1 < shape.size(); ++axis) {
        const int64_t source_position = source_index[axis][static_cast<size_t>(index[axis])];
        if (source_position < 0) constant_row = true;
        base += source_position * input_strides[axis];
      }
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t source_position = inner_map[static_cast<size_t>(j)];
        destination[j] = (constant_row || source_position < 0) ? fill : source[base + source_position];
      }
      destination += inner;
      for (size_t axis = shape.size() - 1; axis-- > 0;) {
        if (++index[axis] < shape[axis]) break;
        index[axis] = 0;
      }
    }
  });
}

void depth_to_space_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  if (data.rank() != 4) context.invalid("DepthToSpace expects a 4-D input, got " + shape_to_string(data.shape()));
  const int64_t block = context.attribute_int("blocksize", 0);
  const std::string mode = context.attribute_string("mode", "DCR");
  if (block <= 0) context.invalid("blocksize must be positive");
  if (mode != "DCR" && mode != "CRD") context.unsupported("DepthToSpace mode '" + mode + "' is not supported");
  const int64_t batch = data.dim(0), channels = data.dim(1), height = data.dim(2), width = data.dim(3);
  if (channels % (block * block) != 0) context.invalid("channels are not a multiple of blocksize squared");
  const int64_t out_channels = channels / (block * block);
  const int64_t plane = height * width;
  // Output viewed as [N, C', H, b, W, b]; the input channel of (c', by, bx) depends on the mode.
  const int64_t channel_stride_c = mode == "DCR" ? plane : block * block * plane;
  const int64_t channel_stride_by = mode == "DCR" ? block * out_channels * plane : block * plane;
  const int64_t channel_stride_bx = mode == "DCR" ? out_channels * plane : plane;
  const Shape view_shape = {batch, out_channels, height, block, width, block};
  const std::vector<int64_t> view_strides = {channels * plane, channel_stride_c, width, channel_stride_by, 1,
                                             channel_stride_bx};
  Tensor& output = context.allocate_output(0, data.dtype(), {batch, out_channels, height * block, width * block});
  strided_gather(data.raw_data(), output.raw_data(), dtype_size(data.dtype()), view_shape, view_strides);
}

void space_to_depth_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  if (data.rank() != 4) context.invalid("SpaceToDepth expects a 4-D input, got " + shape_to_string(data.shape()));
  const int64_t block = context.attribute_int("blocksize", 0);
  if (block <= 0) context.invalid("blocksize must be positive");
  const int64_t batch = data.dim(0), channels = data.dim(1), height = data.dim(2), width = data.dim(3);
  if (height % block != 0 || width % block != 0) context.invalid("height and width must be multiples of blocksize");
  const int64_t out_height = height / block, out_width = width / block;
  // Output viewed as [N, by, bx, C, H', W'] reading input (n, c, h' * b + by, w' * b + bx).
  const Shape view_shape = {batch, block, block, channels, out_height, out_width};
  const std::vector<int64_t> view_strides = {channels * height * width, width, 1, height * width, block * width, block};
  Tensor& output = context.allocate_output(0, data.dtype(), {batch, channels * block * block, out_height, out_width});
  strided_gather(data.raw_data(), output.raw_data(), dtype_size(data.dtype()), view_shape, view_strides);
}

void reverse_sequence_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const std::vector<int64_t> lengths = int64_values(context.input(1));
  if (data.rank() < 2) context.invalid("ReverseSequence expects rank >= 2");
  const int64_t rank = static_cast<int64_t>(data.rank());
  const size_t batch_axis = static_cast<size_t>(normalize_axis(context.attribute_int("batch_axis", 1), rank, context));
  const size_t time_axis = static_cast<size_t>(normalize_axis(context.attribute_int("time_axis", 0), rank, context));
  if (batch_axis == time_axis) context.invalid("batch_axis and time_axis must differ");
  if (static_cast<int64_t>(lengths.size()) != data.dim(batch_axis)) {
    context.invalid("sequence_lens has " + std::to_string(lengths.size()) + " entries for a batch of " +
                    std::to_string(data.dim(batch_axis)));
  }
  for (int64_t length : lengths) {
    if (length < 0 || length > data.dim(time_axis)) context.invalid("sequence length out of range");
  }
  Tensor& output = context.allocate_output(0, data.dtype(), data.shape());
  const std::vector<int64_t> strides = contiguous_strides(data.shape());
  const size_t element_size = dtype_size(data.dtype());
  const auto* source = static_cast<const std::byte*>(data.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  std::vector<int64_t> index(data.rank(), 0);
  for (int64_t flat = 0; flat < data.element_count(); ++flat) {
    const int64_t length = lengths[static_cast<size_t>(index[batch_axis])];
    int64_t source_flat = flat;
    if (index[time_axis] < length) {
      source_flat += (length - 1 - 2 * index[time_axis]) * strides[time_axis];
    }
    std::memcpy(destination + static_cast<size_t>(flat) * element_size,
                source + static_cast<size_t>(source_flat) * element_size, element_size);
    for (size_t axis = data.rank(); axis-- > 0;) {
      if (++index[axis] < data.dim(axis)) break;
      index[axis] = 0;
    }
  }
}

void trilu_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  if (data.rank() < 2) context.invalid("Trilu expects rank >= 2");
  const bool upper = context.attribute_int("upper", 1) != 0;
  int64_t diagonal = 0;
  if (const Tensor* k = context.optional_input(1)) diagonal = k->value_as_int64(0);
  const int64_t rows = data.dim(data.rank() - 2), columns = data.dim(data.rank() - 1);
  Tensor& output = context.allocate_output(0, data.dtype(), data.shape());
  const size_t element_size = dtype_size(data.dtype());
  const int64_t matrices = rows * columns == 0 ? 0 : data.element_count() / (rows * columns);
  const auto* source = static_cast<const std::byte*>(data.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  for (int64_t matrix = 0; matrix < matrices; ++matrix) {
    for (int64_t row = 0; row < rows; ++row) {
      // Upper keeps columns j >= row + k; lower keeps j <= row + k. The rest stays zero.
      int64_t first = upper ? std::clamp<int64_t>(row + diagonal, 0, columns) : 0;
      int64_t last = upper ? columns : std::clamp<int64_t>(row + diagonal + 1, 0, columns);
      if (last <= first) continue;
      const size_t offset = static_cast<size_t>((matrix * rows + row) * columns + first) * element_size;
      std::memcpy(destination + offset, source + offset, static_cast<size_t>(last - first) * element_size);
    }
  }
}

}  // namespace

void register_data_movement_kernels(KernelRegistry& registry) {
  registry.add("Transpose", transpose_kernel, 1, 21);
  registry.add("Concat", concat_kernel, 1, 21);
  registry.add("Split", split_kernel, 1, 21);
  registry.add("Slice", slice_kernel, 1, 21);
  registry.add("Tile", tile_kernel, 6, 21);
  registry.add("Pad", pad_kernel, 1, 21);
  registry.add("DepthToSpace", depth_to_space_kernel, 1, 21);
  registry.add("SpaceToDepth", space_to_depth_kernel, 1, 21);
  registry.add("ReverseSequence", reverse_sequence_kernel, 10, 21);
  registry.add("Trilu", trilu_kernel, 14, 21);
}

}  // namespace npukit::runtime::ref
