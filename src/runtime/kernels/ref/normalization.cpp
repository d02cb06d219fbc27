// Reference normalizations: BatchNormalization (inference and opset 14+ training mode),
// InstanceNormalization, LayerNormalization, LRN, MeanVarianceNormalization.
//
// Statistics (means, variances) accumulate in double whatever the element type: they are sums over many
// elements, and the result is rounded once to the output type.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/broadcast.h"
#include "runtime/kernels/ref/compute_buffer.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/window_geometry.h"

namespace npukit::runtime::ref {

namespace {

std::vector<double> per_channel_values(const KernelContext& context, const Tensor& tensor, int64_t channels,
                                       const char* what) {
  if (!dtype_is_float(tensor.dtype())) context.invalid(std::string(what) + " must be a float tensor");
  if (tensor.element_count() != channels || tensor.rank() > 1) {
    context.invalid(std::string(what) + " " + shape_to_string(tensor.shape()) + " must have one value per channel (" +
                    std::to_string(channels) + ")");
  }
  std::vector<double> values(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) values[c] = tensor.value_as_double(c);
  return values;
}

template <typename T>
void write_values(Tensor& tensor, const std::vector<double>& values) {
  T* destination = tensor.data<T>();
  for (size_t i = 0; i < values.size(); ++i) destination[i] = static_cast<T>(values[i]);
}

void write_float_values(Tensor& tensor, const std::vector<double>& values) {
  dispatch_float(tensor.dtype(), "BatchNormalization", [&]<typename T>() { write_values<T>(tensor, values); });
}

void batch_normalization_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  if (input.rank() < 2) context.invalid("the input must have rank 2 or more (N, C, ...)");
  if (context.opset() < 9 && context.attribute_int("spatial", 1) == 0) {
    context.unsupported("spatial = 0 (per-activation statistics) is not supported");
  }
  const int64_t batch = input.dim(0), channels = input.dim(1);
  const int64_t plane = product_from(input.shape(), 2);
  const std::vector<double> scale = per_channel_values(context, context.input(1), channels, "scale");
  const std::vector<double> bias = per_channel_values(context, context.input(2), channels, "B");
  std::vector<double> mean = per_channel_values(context, context.input(3), channels, "input_mean");
  std::vector<double> variance = per_channel_values(context, context.input(4), channels, "input_var");
  const double epsilon = context.attribute_float("epsilon", 1e-5);
  const bool training = context.opset() >= 14 && context.attribute_int("training_mode", 0) != 0;
  if (!training) {
    for (size_t i = 1; i < context.output_count(); ++i) {
      if (context.output_requested(i)) {
        context.unsupported("the training outputs of BatchNormalization are only supported with training_mode (opset 14+)");
      }
    }
  }
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  dispatch_float(input.dtype(), "BatchNormalization", [&]<typename T>() {
    const T* source = input.data<T>();
    if (training) {
      // Batch statistics (population variance) replace the running ones for this output; the running
      // statistics are updated with momentum, as the ONNX reference does.
      const double momentum = context.attribute_float("momentum", 0.9);
      std::vector<double> batch_mean(static_cast<size_t>(channels), 0), batch_variance(static_cast<size_t>(channels), 0);
      const double count = static_cast<double>(batch * plane);
      for (int64_t c = 0; c < channels; ++c) {
        double sum = 0;
        for (int64_t n = 0; n < batch; ++n) {
          const T* x = source + (n * channels + c) * plane;
          for (int64_t i = 0; i < plane; ++i) sum += static_cast<double>(x[i]);
        }
        batch_mean[c] = count > 0 ? sum / count : 0;
        double squares = 0;
        for (int64_t n = 0; n < batch; ++n) {
          const T* x = source + (n * channels + c) * plane;
          for (int64_t i = 0; i < plane; ++i) {
            const double d = static_cast<double>(x[i]) - batch_mean[c];
            squares += d * d;
          }
        }
        batch_variance[c] = count > 0 ? squares / count : 0;
      }
      std::vector<double> running_mean(static_cast<size_t>(channels)), running_variance(static_cast<size_t>(channels));
      for (int64_t c = 0; c < channels; ++c) {
        running_mean[c] = mean[c] * momentum + batch_mean[c] * (1 - momentum);
        running_variance[c] = variance[c] * momentum + batch_variance[c] * (1 - momentum);
      }
      if (context.output_requested(1)) {
        write_float_values(context.allocate_output(1, context.input(3).dtype(), context.input(3).shape()), running_mean);
      }
      if (context.output_requested(2)) {
        write_float_values(context.allocate_output(2, context.input(4).dtype(), context.input(4).shape()), running_variance);
      }
      mean = batch_mean;
      variance = batch_variance;
    }
    using C = compute_type_t<T>;
    T* destination = output.data<T>();
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t c = 0; c < channels; ++c) {
        const C multiplier = static_cast<C>(scale[c] / std::sqrt(variance[c] + epsilon));
        const C shift = static_cast<C>(bias[c] - mean[c] * scale[c] / std::sqrt(variance[c] + epsilon));
        const T* x = source + (n * channels + c) * plane;
        T* y = destination + (n * channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) y[i] = static_cast<T>(static_cast<C>(x[i]) * multiplier + shift);
      }
    }
  });
}

void instance_normalization_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  if (input.rank() < 3) context.invalid("the input must have rank 3 or more (N, C, spatial...)");
  const int64_t batch = input.dim(0), channels = input.dim(1);
  const int64_t plane = product_from(input.shape(), 2);
  const std::vector<double> scale = per_channel_values(context, context.input(1), channels, "scale");
  const std::vector<double> bias = per_channel_values(context, context.input(2), channels, "B");
  const double epsilon = context.attribute_float("epsilon", 1e-5);
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  dispatch_float(input.dtype(), "InstanceNormalization", [&]<typename T>() {
    const T* source = input.data<T>();
    T* destination = output.data<T>();
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t c = 0; c < channels; ++c) {
        const T* x = source + (n * channels + c) * plane;
        T* y = destination + (n * channels + c) * plane;
        double sum = 0;
        for (int64_t i = 0; i < plane; ++i) sum += static_cast<double>(x[i]);
        const double mean = plane > 0 ? sum / static_cast<double>(plane) : 0;
        double squares = 0;
        for (int64_t i = 0; i < plane; ++i) squares += (static_cast<double>(x[i]) - mean) * (static_cast<double>(x[i]) - mean);
        const double variance = plane > 0 ? squares / static_cast<double>(plane) : 0;
        const double multiplier = scale[c] / std::sqrt(variance + epsilon);
        for (int64_t i = 0; i < plane; ++i) {
          y[i] = static_cast<T>((static_cast<double>(x[i]) - mean) * multiplier + bias[c]);
        }
      }
    }
  });
}

// Index into a parameter that broadcasts unidirectionally to `target`, for every element of target.
std::vector<int64_t> broadcast_indices(const KernelContext& context, const Tensor& parameter, const Shape& target,
                                       const char* what) {
  if (!broadcasts_to(parameter.shape(), target)) {
    context.invalid(std::string(what) + " " + shape_to_string(parameter.shape()) + " does not broadcast to " +
                    shape_to_string(target));
  }
  BroadcastMapper mapper({parameter.shape()}, target);
  std::vector<int64_t> indices(static_cast<size_t>(shape_element_count(target)));
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = mapper.input_index(0, static_cast<int64_t>(i));
  return indices;
}

void layer_normalization_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& scale = context.input(1);
  const Tensor* bias = context.optional_input(2);
  const int64_t rank = static_cast<int64_t>(input.rank());
  if (rank == 0) context.invalid("the input must have rank 1 or more");
  const int64_t axis = normalize_axis(context.attribute_int("axis", -1), rank, context);
  const double epsilon = context.attribute_float("epsilon", 1e-5);
  const int64_t stash_type = context.attribute_int("stash_type", 1);
  DType stash_dtype = DType::f32;
  if (stash_type == 11) {
    stash_dtype = DType::f64;
  } else if (stash_type != 1) {
    context.unsupported("stash_type " + std::to_string(stash_type) + " is not supported (1 = float, 11 = double)");
  }
  const Shape normalized_shape(input.shape().begin() + axis, input.shape().end());
  const int64_t outer = shape_element_count(Shape(input.shape().begin(), input.shape().begin() + axis));
  const int64_t length = shape_element_count(normalized_shape);
  const std::vector<int64_t> scale_index = broadcast_indices(context, scale, normalized_shape, "Scale");
  const std::vector<int64_t> bias_index = bias ? broadcast_indices(context, *bias, normalized_shape, "B") : std::vector<int64_t>{};
  Shape statistics_shape(input.shape().begin(), input.shape().begin() + axis);
  statistics_shape.resize(static_cast<size_t>(rank), 1);
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  std::vector<double> means(static_cast<size_t>(outer)), inverse_deviations(static_cast<size_t>(outer));
  dispatch_float(input.dtype(), "LayerNormalization", [&]<typename T>() {
    if (scale.dtype() != input.dtype() || (bias && bias->dtype() != input.dtype())) {
      context.invalid("Scale and B must have the element type of X");
    }
    const T* source = input.data<T>();
    const T* scale_data = scale.data<T>();
    const T* bias_data = bias ? bias->data<T>() : nullptr;
    T* destination = output.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      const T* x = source + o * length;
      T* y = destination + o * length;
      double sum = 0;
      for (int64_t i = 0; i < length; ++i) sum += static_cast<double>(x[i]);
      const double mean = length > 0 ? sum / static_cast<double>(length) : 0;
      double squares = 0;
      for (int64_t i = 0; i < length; ++i) squares += (static_cast<double>(x[i]) - mean) * (static_cast<double>(x[i]) - mean);
      const double inverse_deviation = 1.0 / std::sqrt((length > 0 ? squares / static_cast<double>(length) : 0) + epsilon);
      means[o] = mean;
      inverse_deviations[o] = inverse_deviation;
      for (int64_t i = 0; i < length; ++i) {
        double value = (static_cast<double>(x[i]) - mean) * inverse_deviation * static_cast<double>(scale_data[scale_index[i]]);
        if (bias_data) value += static_cast<double>(bias_data[bias_index[i]]);
        y[i] = static_cast<T>(value);
      }
    }
  });
  if (context.output_requested(1)) {
    Tensor& mean_output = context.allocate_output(1, stash_dtype, statistics_shape);
    dispatch_float(stash_dtype, "LayerNormalization", [&]<typename T>() { write_values<T>(mean_output, means); });
  }
  if (context.output_requested(2)) {
    Tensor& deviation_output = context.allocate_output(2, stash_dtype, statistics_shape);
    dispatch_float(stash_dtype, "LayerNormalization", [&]<typename T>() { write_values<T>(deviation_output, inverse_deviations); });
  }
}

void lrn_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  if (input.rank() < 3) context.invalid("the input must have rank 3 or more (N, C, spatial...)");
  const int64_t size = context.attribute_int("size", 0);
  if (size <= 0) context.invalid("size must be positive");
  const double alpha = context.attribute_float("alpha", 1e-4);
  const double beta = context.attribute_float("beta", 0.75);
  const double bias = context.attribute_float("bias", 1.0);
  const int64_t batch = input.dim(0), channels = input.dim(1);
  const int64_t plane = product_from(input.shape(), 2);
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  dispatch_float(input.dtype(), "LRN", [&]<typename T>() {
    using C = compute_type_t<T>;
    const T* source = input.data<T>();
    T* destination = output.data<T>();
    std::vector<C> square_sum(static_cast<size_t>(plane));
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t c = 0; c < channels; ++c) {
        std::fill(square_sum.begin(), square_sum.end(), C(0));
        for (int64_t k = std::max<int64_t>(0, c - before); k <= std::min(channels - 1, c + after); ++k) {
          const T* x = source + (n * channels + k) * plane;
          for (int64_t i = 0; i < plane; ++i) square_sum[i] += static_cast<C>(x[i]) * static_cast<C>(x[i]);
        }
        const T* x = source + (n * channels + c) * plane;
        T* y = destination + (n * channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) {
          const C denominator = static_cast<C>(std::pow(bias + alpha / static_cast<double>(size) * square_sum[i], beta));
          y[i] = static_cast<T>(static_cast<C>(x[i]) / denominator);
        }
      }
    }
  });
}

void mean_variance_normalization_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const int64_t rank = static_cast<int64_t>(input.rank());
  std::vector<int64_t> axes = context.attribute_ints("axes", {0, 2, 3});
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  for (int64_t axis : axes) reduced[normalize_axis(axis, rank, context)] = true;
  // Statistics shape: the input with reduced axes set to 1; each element maps to one statistic.
  Shape statistics_shape = input.shape();
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d]) statistics_shape[d] = 1;
  }
  const int64_t count = input.element_count();
  const int64_t statistics_count = shape_element_count(statistics_shape);
  std::vector<int64_t> statistic_of(static_cast<size_t>(count));
  {
    BroadcastMapper mapper({statistics_shape}, input.shape());
    for (int64_t i = 0; i < count; ++i) statistic_of[i] = mapper.input_index(0, i);
  }
  const double group_size = statistics_count > 0 ? static_cast<double>(count) / static_cast<double>(statistics_count) : 1;
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  dispatch_float(input.dtype(), "MeanVarianceNormalization", [&]<typename T>() {
    const T* source = input.data<T>();
    T* destination = output.data<T>();
    std::vector<double> sum(static_cast<size_t>(statistics_count), 0), squares(static_cast<size_t>(statistics_count), 0);
    for (int64_t i = 0; i < count; ++i) {
      const double value = static_cast<double>(source[i]);
      sum[statistic_of[i]] += value;
      squares[statistic_of[i]] += value * value;
    }
    for (int64_t s = 0; s < statistics_count; ++s) {
      const double mean = sum[s] / group_size;
      sum[s] = mean;
      // sqrt(E[x^2] - E[x]^2) + 1e-9, the ONNX function body's formula.
      squares[s] = std::sqrt(std::max(0.0, squares[s] / group_size - mean * mean)) + 1e-9;
    }
    for (int64_t i = 0; i < count; ++i) {
      destination[i] = static_cast<T>((static_cast<double>(source[i]) - sum[statistic_of[i]]) / squares[statistic_of[i]]);
    }
  });
}

}  // namespace

void register_normalization_kernels(KernelRegistry& registry) {
  registry.add("BatchNormalization", batch_normalization_kernel, 1, 17);
  registry.add("InstanceNormalization", instance_normalization_kernel, 1, 17);
  registry.add("LayerNormalization", layer_normalization_kernel, 17, 17);
  registry.add("LRN", lrn_kernel, 1, 17);
  registry.add("MeanVarianceNormalization", mean_variance_normalization_kernel, 9, 17);
}

}  // namespace npukit::runtime::ref
