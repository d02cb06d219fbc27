// Ops that read or write elements at computed positions: Gather, GatherElements, GatherND, Scatter,
// ScatterElements, ScatterND, OneHot, NonZero, Compress, Unique.
//
// Indices may be negative (counted from the end, as ONNX allows); an index outside [-extent, extent) is
// an invalid_argument error naming the index, never a read out of bounds.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/strided_copy.h"

namespace npukit::runtime::ref {

namespace {

std::vector<int64_t> read_indices(const Tensor& tensor, const std::string& operation) {
  return dispatch_dtype(tensor.dtype(), kIntegerTypes, operation, [&]<typename T>() {
    std::vector<int64_t> values(static_cast<size_t>(tensor.element_count()));
    const T* source = tensor.data<T>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int64_t>(source[i]);
    return values;
  });
}

int64_t checked_index(int64_t index, int64_t extent, const KernelContext& context) {
  if (index < -extent || index >= extent) {
    context.invalid("index " + std::to_string(index) + " is out of range for an axis of extent " +
                    std::to_string(extent));
  }
  return index < 0 ? index + extent : index;
}

int64_t product(const Shape& shape, size_t first, size_t last) {
  int64_t result = 1;
  for (size_t axis = first; axis < last; ++axis) result *= shape[axis];
  return result;
}

void gather_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& indices_tensor = context.input(1);
  const int64_t rank = static_cast<int64_t>(data.rank());
  if (rank == 0) context.invalid("Gather needs an input of rank >= 1");
  const size_t axis = static_cast<size_t>(normalize_axis(context.attribute_int("axis", 0), rank, context));
  std::vector<int64_t> indices = read_indices(indices_tensor, "Gather");
  const int64_t extent = data.dim(axis);
  for (int64_t& index : indices) index = checked_index(index, extent, context);
  Shape shape(data.shape().begin(), data.shape().begin() + static_cast<std::ptrdiff_t>(axis));
  shape.insert(shape.end(), indices_tensor.shape().begin(), indices_tensor.shape().end());
  shape.insert(shape.end(), data.shape().begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.shape().end());
  Tensor& output = context.allocate_output(0, data.dtype(), shape);
  const size_t element_size = dtype_size(data.dtype());
  const int64_t outer = product(data.shape(), 0, axis);
  const size_t block = static_cast<size_t>(product(data.shape(), axis + 1, data.rank())) * element_size;
  const auto* source = static_cast<const std::byte*>(data.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t index : indices) {
      std::memcpy(destination, source + (static_cast<size_t>(o * extent + index)) * block, block);
      destination += block;
    }
  }
}

void gather_elements_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& indices_tensor = context.input(1);
  const int64_t rank = static_cast<int64_t>(data.rank());
  if (rank == 0 || indices_tensor.rank() != data.rank()) context.invalid("data and indices must have the same rank >= 1");
  const size_t axis = static_cast<size_t>(normalize_axis(context.attribute_int("axis", 0), rank, context));
  for (size_t d = 0; d < data.rank(); ++d) {
    if (d != axis && indices_tensor.dim(d) > data.dim(d)) context.invalid("indices shape exceeds data shape");
  }
  const std::vector<int64_t> indices = read_indices(indices_tensor, "GatherElements");
  Tensor& output = context.allocate_output(0, data.dtype(), indices_tensor.shape());
  const std::vector<int64_t> strides = contiguous_strides(data.shape());
  const size_t element_size = dtype_size(data.dtype());
  const auto* source = static_cast<const std::byte*>(data.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  std::vector<int64_t> position(data.rank(), 0);
  for (size_t flat = 0; flat < indices.size(); ++flat) {
    int64_t offset = 0;
    for (size_t d = 0; d < data.rank(); ++d) {
      const int64_t coordinate = d == axis ? checked_index(indices[flat], data.dim(axis), context) : position[d];
      offset += coordinate * strides[d];
    }
    std::memcpy(destination + flat * element_size, source + static_cast<size_t>(offset) * element_size, element_size);
    for (size_t d = data.rank(); d-- > 0;) {
      if (++position[d] < indices_tensor.dim(d)) break;
      position[d] = 0;
    }
  }
}

void gather_nd_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& indices_tensor = context.input(1);
  const size_t batch_dims = static_cast<size_t>(context.attribute_int("batch_dims", 0));
  if (indices_tensor.rank() < 1 || data.rank() < 1) context.invalid("data and indices need rank >= 1");
  if (batch_dims >= std::min(data.rank(), indices_tensor.rank())) context.invalid("batch_dims is too large");
  const size_t tuple = static_cast<size_t>(indices_tensor.shape().back());
  if (tuple + batch_dims > data.rank()) context.invalid("index tuples are longer than the data rank allows");
  for (size_t d = 0; d < batch_dims; ++d) {
    if (data.dim(d) != indices_tensor.dim(d)) context.invalid("batch dimensions of data and indices differ");
  }
  const std::vector<int64_t> indices = read_indices(indices_tensor, "GatherND");
  Shape shape(indices_tensor.shape().begin(), indices_tensor.shape().end() - 1);
  shape.insert(shape.end(), data.shape().begin() + static_cast<std::ptrdiff_t>(batch_dims + tuple), data.shape().end());
  Tensor& output = context.allocate_output(0, data.dtype(), shape);
  const size_t element_size = dtype_size(data.dtype());
  const std::vector<int64_t> strides = contiguous_strides(data.shape());
  const int64_t batches = product(data.shape(), 0, batch_dims);
  const int64_t batch_stride = product(data.shape(), batch_dims, data.rank());
  const int64_t tuples_per_batch = product(indices_tensor.shape(), batch_dims, indices_tensor.rank() - 1);
  const size_t block = static_cast<size_t>(product(data.shape(), batch_dims + tuple, data.rank())) * element_size;
  const auto* source = static_cast<const std::byte*>(data.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  size_t next_index = 0;
  for (int64_t batch = 0; batch < batches; ++batch) {
    for (int64_t t = 0; t < tuples_per_batch; ++t) {
      int64_t offset = batch * batch_stride;
      for (size_t k = 0; k < tuple; ++k) {
        const size_t d = batch_dims + k;
        offset += checked_index(indices[next_index++], data.dim(d), context) * strides[d];
      }
      std::memcpy(destination, source + static_cast<size_t>(offset) * element_size, block);
      destination += block;
    }
  }
}

// Combines an existing element with an update according to a Scatter reduction attribute.
template <typename T>
T reduce_element(T current, T update, const std::string& reduction) {
  using C = compute_type_t<T>;
  if (reduction == "add") return static_cast<T>(static_cast<C>(current) + static_cast<C>(update));
  if (reduction == "mul") return static_cast<T>(static_cast<C>(current) * static_cast<C>(update));
  if (reduction == "max") return static_cast<C>(update) > static_cast<C>(current) ? update : current;
  if (reduction == "min") return static_cast<C>(update) < static_cast<C>(current) ? update : current;
  return update;
}

std::string scatter_reduction(const KernelContext& context) {
  std::string reduction = context.attribute_string("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" && reduction != "max" && reduction != "min") {
    context.unsupported("reduction '" + reduction + "' is not supported");
  }
  return reduction;
}

void scatter_elements_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& indices_tensor = context.input(1);
  const Tensor& updates = context.input(2);
  const int64_t rank = static_cast<int64_t>(data.rank());
  if (rank == 0 || indices_tensor.rank() != data.rank()) context.invalid("data and indices must have the same rank >= 1");
  if (updates.shape() != indices_tensor.shape()) context.invalid("updates and indices must have the same shape");
  if (updates.dtype() != data.dtype()) context.invalid("updates and data must have the same dtype");
  const size_t axis = static_cast<size_t>(normalize_axis(context.attribute_int("axis", 0), rank, context));
  for (size_t d = 0; d < data.rank(); ++d) {
    if (d != axis && indices_tensor.dim(d) > data.dim(d)) context.invalid("indices shape exceeds data shape");
  }
  const std::string reduction = scatter_reduction(context);
  const std::vector<int64_t> indices = read_indices(indices_tensor, "ScatterElements");
  Tensor& output = context.allocate_output(0, data.dtype(), data.shape());
  std::memcpy(output.raw_data(), data.raw_data(), data.byte_size());
  const std::vector<int64_t> strides = contiguous_strides(data.shape());
  dispatch_dtype(data.dtype(), kAllTypes, "ScatterElements", [&]<typename T>() {
    T* destination = output.data<T>();
    const T* update_values = updates.data<T>();
    std::vector<int64_t> position(data.rank(), 0);
    for (size_t flat = 0; flat < indices.size(); ++flat) {
      int64_t offset = 0;
      for (size_t d = 0; d < data.rank(); ++d) {
        const int64_t coordinate = d == axis ? checked_index(indices[flat], data.dim(axis), context) : position[d];
        offset += coordinate * strides[d];
      }
      destination[offset] = reduce_element(destination[offset], update_values[flat], reduction);
      for (size_t d = data.rank(); d-- > 0;) {
        if (++position[d] < indices_tensor.dim(d)) break;
        position[d] = 0;
      }
    }
  });
}

void scatter_nd_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& indices_tensor = context.input(1);
  const Tensor& updates = context.input(2);
  if (indices_tensor.rank() < 1) context.invalid("indices need rank >= 1");
  if (updates.dtype() != data.dtype()) context.invalid("updates and data must have the same dtype");
  const size_t tuple = static_cast<size_t>(indices_tensor.shape().back());
  if (tuple > data.rank()) context.invalid("index tuples are longer than the data rank");
  Shape expected_updates(indices_tensor.shape().begin(), indices_tensor.shape().end() - 1);
  expected_updates.insert(expected_updates.end(), data.shape().begin() + static_cast<std::ptrdiff_t>(tuple), data.shape().end());
  if (updates.shape() != expected_updates) {
    context.invalid("updates have shape " + shape_to_string(updates.shape()) + "; expected " +
                    shape_to_string(expected_updates));
  }
  const std::string reduction = scatter_reduction(context);
  const std::vector<int64_t> indices = read_indices(indices_tensor, "ScatterND");
  Tensor& output = context.allocate_output(0, data.dtype(), data.shape());
  std::memcpy(output.raw_data(), data.raw_data(), data.byte_size());
  const std::vector<int64_t> strides = contiguous_strides(data.shape());
  const int64_t block = product(data.shape(), tuple, data.rank());
  const int64_t tuples = product(indices_tensor.shape(), 0, indices_tensor.rank() - 1);
  dispatch_dtype(data.dtype(), kAllTypes, "ScatterND", [&]<typename T>() {
    T* destination = output.data<T>();
    const T* update_values = updates.data<T>();
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t offset = 0;
      for (size_t k = 0; k < tuple; ++k) {
        offset += checked_index(indices[static_cast<size_t>(t) * tuple + k], data.dim(k), context) * strides[k];
      }
      for (int64_t j = 0; j < block; ++j) {
        destination[offset + j] = reduce_element(destination[offset + j], update_values[t * block + j], reduction);
      }
    }
  });
}

void one_hot_kernel(KernelContext& context) {
  const Tensor& indices_tensor = context.input(0);
  const Tensor& depth_tensor = context.input(1);
  const Tensor& values = context.input(2);
  if (depth_tensor.element_count() != 1) context.invalid("depth must hold one value");
  if (values.element_count() != 2) context.invalid("values must hold [off_value, on_value]");
  const int64_t depth = static_cast<int64_t>(depth_tensor.value_as_double(0));
  if (depth <= 0) context.invalid("depth must be positive");
  const int64_t output_rank = static_cast<int64_t>(indices_tensor.rank()) + 1;
  const size_t axis = static_cast<size_t>(normalize_axis(context.attribute_int("axis", -1), output_rank, context));
  Shape shape = indices_tensor.shape();
  shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(axis), depth);
  Tensor& output = context.allocate_output(0, values.dtype(), shape);
  const int64_t outer = product(indices_tensor.shape(), 0, axis);
  const int64_t inner = product(indices_tensor.shape(), axis, indices_tensor.rank());
  dispatch_dtype(values.dtype(), kAllTypes, "OneHot", [&]<typename T>() {
    const T off_value = values.data<T>()[0];
    const T on_value = values.data<T>()[1];
    T* destination = output.data<T>();
    std::fill(destination, destination + output.element_count(), off_value);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        // Float indices are truncated toward zero; negative ones count from the end; others are all-off.
        int64_t index = static_cast<int64_t>(indices_tensor.value_as_double(o * inner + i));
        if (index < 0) index += depth;
        if (index < 0 || index >= depth) continue;
        destination[(o * depth + index) * inner + i] = on_value;
      }
    }
  });
}

void non_zero_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  // A scalar behaves as a one-element vector, as ONNX Runtime does.
  const Shape shape = data.rank() == 0 ? Shape{1} : data.shape();
  std::vector<int64_t> nonzero_flat;
  dispatch_dtype(data.dtype(), kAllTypes, "NonZero", [&]<typename T>() {
    const T* values = data.data<T>();
    for (int64_t i = 0; i < data.element_count(); ++i) {
      if (static_cast<compute_type_t<T>>(values[i]) != compute_type_t<T>{}) nonzero_flat.push_back(i);
    }
  });
  const int64_t count = static_cast<int64_t>(nonzero_flat.size());
  Tensor& output = context.allocate_output(0, DType::i64, {static_cast<int64_t>(shape.size()), count});
  int64_t* destination = output.data<int64_t>();
  const std::vector<int64_t> strides = contiguous_strides(shape);
  for (size_t d = 0; d < shape.size(); ++d) {
    for (int64_t j = 0; j < count; ++j) {
      destination[static_cast<int64_t>(d) * count + j] = (nonzero_flat[static_cast<size_t>(j)] / strides[d]) % shape[d];
    }
  }
}

void compress_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& condition = context.input(1);
  if (condition.rank() != 1) context.invalid("condition must be 1-D");
  const bool has_axis = context.node().has_attribute("axis");
  // Without an axis the input is flattened first.
  const Shape view = has_axis ? data.shape() : Shape{data.element_count()};
  const size_t axis =
      has_axis ? static_cast<size_t>(normalize_axis(context.attribute_int("axis", 0), static_cast<int64_t>(data.rank()), context))
               : 0;
  if (condition.element_count() > view[axis]) context.invalid("condition is longer than the axis");
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < condition.element_count(); ++i) {
    if (condition.value_as_int64(i) != 0) kept.push_back(i);
  }
  Shape shape = view;
  shape[axis] = static_cast<int64_t>(kept.size());
  Tensor& output = context.allocate_output(0, data.dtype(), shape);
  const size_t element_size = dtype_size(data.dtype());
  const int64_t outer = product(view, 0, axis);
  const size_t block = static_cast<size_t>(product(view, axis + 1, view.size())) * element_size;
  const auto* source = static_cast<const std::byte*>(data.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t index : kept) {
      std::memcpy(destination, source + static_cast<size_t>(o * view[axis] + index) * block, block);
      destination += block;
    }
  }
}

void unique_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const bool sorted = context.attribute_int("sorted", 1) != 0;
  const bool has_axis = context.node().has_attribute("axis");
  const Shape view = has_axis ? data.shape() : Shape{data.element_count()};
  const size_t axis =
      has_axis ? static_cast<size_t>(normalize_axis(context.attribute_int("axis", 0), static_cast<int64_t>(data.rank()), context))
               : 0;
  // Items are the slices data[..., j, ...] along the axis (single elements without an axis).
  const int64_t outer = product(view, 0, axis);
  const int64_t extent = view[axis];
  const int64_t inner = product(view, axis + 1, view.size());
  std::vector<int64_t> order(static_cast<size_t>(extent));
  std::iota(order.begin(), order.end(), 0);
  std::vector<int64_t> group_of(static_cast<size_t>(extent));
  std::vector<int64_t> representatives;  // first occurrence of each unique item, in sorted order
  dispatch_dtype(data.dtype(), kAllTypes, "Unique", [&]<typename T>() {
    using C = compute_type_t<T>;
    const T* values = data.data<T>();
    // -1, 0, 1 as item a sorts before, equal to, after item b (lexicographic over the slice).
    auto compare = [&](int64_t a, int64_t b) {
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          const C value_a = static_cast<C>(values[(o * extent + a) * inner + i]);
          const C value_b = static_cast<C>(values[(o * extent + b) * inner + i]);
          if (value_a < value_b) return -1;
          if (value_b < value_a) return 1;
        }
      }
      return 0;
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
    for (size_t k = 0; k < order.size(); ++k) {
      if (k == 0 || compare(order[k - 1], order[k]) != 0) representatives.push_back(order[k]);
      group_of[static_cast<size_t>(order[k])] = static_cast<int64_t>(representatives.size()) - 1;
    }
  });
  const int64_t unique_count = static_cast<int64_t>(representatives.size());
  // Position of each group in the output: sorted order, or order of first occurrence.
  std::vector<int64_t> output_position(representatives.size());
  std::vector<int64_t> by_output(representatives.size());
  std::iota(by_output.begin(), by_output.end(), 0);
  if (!sorted) {
    std::sort(by_output.begin(), by_output.end(),
              [&](int64_t a, int64_t b) { return representatives[static_cast<size_t>(a)] < representatives[static_cast<size_t>(b)]; });
  }
  for (size_t k = 0; k < by_output.size(); ++k) output_position[static_cast<size_t>(by_output[k])] = static_cast<int64_t>(k);

  Shape shape = view;
  shape[axis] = unique_count;
  Tensor& output = context.allocate_output(0, data.dtype(), shape);
  const size_t element_size = dtype_size(data.dtype());
  const size_t block = static_cast<size_t>(inner) * element_size;
  const auto* source = static_cast<const std::byte*>(data.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < unique_count; ++k) {
      const int64_t item = representatives[static_cast<size_t>(by_output[static_cast<size_t>(k)])];
      std::memcpy(destination + static_cast<size_t>(o * unique_count + k) * block,
                  source + static_cast<size_t>(o * extent + item) * block, block);
    }
  }
  if (context.output_requested(1)) {
    Tensor& first = context.allocate_output(1, DType::i64, {unique_count});
    for (int64_t k = 0; k < unique_count; ++k) {
      first.data<int64_t>()[k] = representatives[static_cast<size_t>(by_output[static_cast<size_t>(k)])];
    }
  }
  if (context.output_requested(2)) {
    Tensor& inverse = context.allocate_output(2, DType::i64, {extent});
    for (int64_t j = 0; j < extent; ++j) {
      inverse.data<int64_t>()[j] = output_position[static_cast<size_t>(group_of[static_cast<size_t>(j)])];
    }
  }
  if (context.output_requested(3)) {
    Tensor& counts = context.allocate_output(3, DType::i64, {unique_count});
    for (int64_t j = 0; j < extent; ++j) {
      ++counts.data<int64_t>()[output_position[static_cast<size_t>(group_of[static_cast<size_t>(j)])]];
    }
  }
}

}  // namespace

void register_indexing_kernels(KernelRegistry& registry) {
  registry.add("Gather", gather_kernel, 1, 21);
  registry.add("GatherElements", gather_elements_kernel, 11, 21);
  registry.add("GatherND", gather_nd_kernel, 11, 21);
  registry.add("Scatter", scatter_elements_kernel, 9, 10);
  registry.add("ScatterElements", scatter_elements_kernel, 11, 21);
  registry.add("ScatterND", scatter_nd_kernel, 11, 21);
  registry.add("OneHot", one_hot_kernel, 9, 21);
  registry.add("NonZero", non_zero_kernel, 9, 21);
  registry.add("Compress", compress_kernel, 9, 21);
  registry.add("Unique", unique_kernel, 11, 21);
}

}  // namespace npukit::runtime::ref
