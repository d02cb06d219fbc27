// Ops that change a tensor's shape but not its elements (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
// inference-mode Dropout, Expand) and ops that read a shape (Shape, Size). The reshaping ops share the input's
// storage instead of copying it: tensors are immutable once produced, so a shared view is safe.
#include <algorithm>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/broadcast.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/strided_copy.h"

namespace npukit::runtime::ref {

namespace {

std::string to_string(const std::vector<int64_t>& values) { return shape_to_string(values); }

void reshape_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  // Opsets 1-4 carry the target shape as an attribute; later ones as an input.
  std::vector<int64_t> requested =
      context.opset() < 5 ? context.attribute_ints("shape") : int64_values(context.input(1));
  const bool allow_zero = context.attribute_int("allowzero", 0) != 0;
  Shape shape(requested.size());
  int64_t inferred_axis = -1;
  int64_t known_product = 1;
  for (size_t axis = 0; axis < requested.size(); ++axis) {
    int64_t extent = requested[axis];
    if (extent == -1) {
      if (inferred_axis >= 0) context.invalid("shape " + to_string(requested) + " has more than one -1");
      inferred_axis = static_cast<int64_t>(axis);
      continue;
    }
    if (extent == 0 && !allow_zero) {
      if (axis >= data.rank()) {
        context.invalid("shape " + to_string(requested) + " copies dimension " + std::to_string(axis) +
                        " but the input has rank " + std::to_string(data.rank()));
      }
      extent = data.dim(axis);
    }
    if (extent < 0) context.invalid("shape " + to_string(requested) + " has a negative dimension");
    shape[axis] = extent;
    known_product *= extent;
  }
  if (inferred_axis >= 0) {
    if (known_product == 0 || data.element_count() % known_product != 0) {
      context.invalid("cannot reshape " + shape_to_string(data.shape()) + " to " + to_string(requested));
    }
    shape[static_cast<size_t>(inferred_axis)] = data.element_count() / known_product;
  }
  if (shape_element_count(shape) != data.element_count()) {
    context.invalid("cannot reshape " + shape_to_string(data.shape()) + " (" + std::to_string(data.element_count()) +
                    " elements) to " + to_string(requested));
  }
  context.set_output(0, data.reshaped(shape));
}

void flatten_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const int64_t rank = static_cast<int64_t>(data.rank());
  int64_t axis = context.attribute_int("axis", 1);
  // Flatten's axis ranges over [-rank, rank]: axis == rank puts everything in the first dimension.
  if (axis < -rank || axis > rank) {
    context.invalid("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  if (axis < 0) axis += rank;
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= data.dim(static_cast<size_t>(i));
  int64_t inner = 1;
  for (int64_t i = axis; i < rank; ++i) inner *= data.dim(static_cast<size_t>(i));
  context.set_output(0, data.reshaped({outer, inner}));
}

std::vector<int64_t> axes_from_attribute_or_input(KernelContext& context, size_t input_index, int64_t first_input_opset) {
  if (context.opset() < first_input_opset) return context.attribute_ints("axes");
  const Tensor* axes = context.optional_input(input_index);
  return axes ? int64_values(*axes) : std::vector<int64_t>{};
}

void squeeze_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const int64_t rank = static_cast<int64_t>(data.rank());
  std::vector<int64_t> axes = axes_from_attribute_or_input(context, 1, 13);
  std::vector<bool> removed(static_cast<size_t>(rank), false);
  if (axes.empty()) {
    for (int64_t axis = 0; axis < rank; ++axis) removed[static_cast<size_t>(axis)] = data.dim(static_cast<size_t>(axis)) == 1;
  } else {
    for (int64_t axis : axes) {
      int64_t normalized = normalize_axis(axis, rank, context);
      if (data.dim(static_cast<size_t>(normalized)) != 1) {
        context.invalid("cannot squeeze axis " + std::to_string(axis) + " of extent " +
                        std::to_string(data.dim(static_cast<size_t>(normalized))) + " in " +
                        shape_to_string(data.shape()));
      }
      removed[static_cast<size_t>(normalized)] = true;
    }
  }
  Shape shape;
  for (int64_t axis = 0; axis < rank; ++axis) {
    if (!removed[static_cast<size_t>(axis)]) shape.push_back(data.dim(static_cast<size_t>(axis)));
  }
  context.set_output(0, data.reshaped(shape));
}

void unsqueeze_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  std::vector<int64_t> axes = axes_from_attribute_or_input(context, 1, 13);
  if (axes.empty()) context.invalid("Unsqueeze needs at least one axis");
  const int64_t output_rank = static_cast<int64_t>(data.rank() + axes.size());
  std::vector<bool> inserted(static_cast<size_t>(output_rank), false);
  for (int64_t axis : axes) {
    int64_t normalized = normalize_axis(axis, output_rank, context);
    if (inserted[static_cast<size_t>(normalized)]) context.invalid("axis " + std::to_string(axis) + " is repeated");
    inserted[static_cast<size_t>(normalized)] = true;
  }
  Shape shape;
  size_t next_input_axis = 0;
  for (int64_t axis = 0; axis < output_rank; ++axis) {
    shape.push_back(inserted[static_cast<size_t>(axis)] ? 1 : data.dim(next_input_axis++));
  }
  context.set_output(0, data.reshaped(shape));
}

void shape_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const int64_t rank = static_cast<int64_t>(data.rank());
  // start/end (opset 15) slice the shape; out-of-range values are clamped, as the spec says.
  int64_t start = context.attribute_int("start", 0);
  int64_t end = context.attribute_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  const int64_t count = std::max<int64_t>(end - start, 0);
  Tensor& output = context.allocate_output(0, DType::i64, {count});
  for (int64_t i = 0; i < count; ++i) output.data<int64_t>()[i] = data.dim(static_cast<size_t>(start + i));
}

void size_kernel(KernelContext& context) {
  Tensor& output = context.allocate_output(0, DType::i64, {});
  output.data<int64_t>()[0] = context.input(0).element_count();
}

void identity_kernel(KernelContext& context) { context.set_output(0, context.input(0)); }

// Writes Dropout's mask output (all kept) when the model asks for it. Opsets before 10 type the mask
// like the data; later ones as bool.
void write_all_kept_mask(KernelContext& context, const Tensor& data) {
  if (!context.output_requested(1)) return;
  DType mask_type = context.opset() < 10 ? data.dtype() : DType::boolean;
  Tensor& mask = context.allocate_output(1, mask_type, data.shape());
  dispatch_dtype(mask_type, kAllTypes, "Dropout", [&]<typename T>() {
    T* values = mask.data<T>();
    for (int64_t i = 0; i < mask.element_count(); ++i) values[i] = static_cast<T>(1.0f);
  });
}

void dropout_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  bool training = false;
  double ratio = 0.5;
  if (context.opset() < 7) {
    training = context.attribute_int("is_test", 0) == 0;
    ratio = context.attribute_float("ratio", 0.5);
  } else if (context.opset() < 12) {
    ratio = context.attribute_float("ratio", 0.5);
  } else {
    if (const Tensor* ratio_input = context.optional_input(1)) ratio = ratio_input->value_as_double(0);
    if (const Tensor* training_input = context.optional_input(2)) training = training_input->value_as_int64(0) != 0;
  }
  // In inference, or with nothing to drop, Dropout is the identity. Training-mode dropout draws random
  // numbers, which no reference can reproduce.
  if (training && ratio != 0.0) {
    context.unsupported("training-mode Dropout with ratio " + std::to_string(ratio) +
                        " draws random numbers: output not reproducible");
  }
  context.set_output(0, data);
  write_all_kept_mask(context, data);
}

void expand_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const Shape requested = int64_values(context.input(1));
  const Shape shape = broadcast_shapes({data.shape(), requested}, "Expand");
  const BroadcastMapper mapper({data.shape()}, shape);
  Tensor& output = context.allocate_output(0, data.dtype(), shape);
  dispatch_dtype(data.dtype(), kAllTypes, "Expand", [&]<typename T>() {
    const T* source = data.data<T>();
    T* destination = output.data<T>();
    const bool contiguous = mapper.step(0) != 0;
    mapper.for_each_run([&](int64_t output_offset, const int64_t* input_offsets, int64_t length) {
      const T* run_source = source + input_offsets[0];
      T* run_destination = destination + output_offset;
      if (contiguous) {
        std::copy(run_source, run_source + length, run_destination);
      } else {
        std::fill(run_destination, run_destination + length, run_source[0]);
      }
    });
  });
}

}  // namespace

void register_shape_kernels(KernelRegistry& registry) {
  registry.add("Reshape", reshape_kernel, 1, 21);
  registry.add("Flatten", flatten_kernel, 1, 21);
  registry.add("Squeeze", squeeze_kernel, 1, 21);
  registry.add("Unsqueeze", unsqueeze_kernel, 1, 21);
  registry.add("Shape", shape_kernel, 1, 21);
  registry.add("Size", size_kernel, 1, 21);
  registry.add("Identity", identity_kernel, 1, 21);
  registry.add("Dropout", dropout_kernel, 1, 21);
  registry.add("Expand", expand_kernel, 8, 21);
}

}  // namespace npukit::runtime::ref
