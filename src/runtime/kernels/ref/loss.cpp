// Reference losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (weights, ignore_index, the
// three reductions, and SoftmaxCrossEntropyLoss's optional log_prob output).
//
// Inputs are [N, C] or [N, C, d1, ...] with targets [N] or [N, d1, ...]; both losses are views of one
// computation: SoftmaxCrossEntropyLoss is NegativeLogLikelihoodLoss of LogSoftmax along axis 1.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/compute_buffer.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/window_geometry.h"

namespace npukit::runtime::ref {

namespace {

enum class Reduction { none, sum, mean };

Reduction reduction_of(const KernelContext& context) {
  const std::string reduction = context.attribute_string("reduction", "mean");
  if (reduction == "none") return Reduction::none;
  if (reduction == "sum") return Reduction::sum;
  if (reduction == "mean") return Reduction::mean;
  context.unsupported("reduction '" + reduction + "' is not supported");
}

// loss[n, d] = -log_probabilities[n, target[n, d], d] * weight[target]; reduced as the node asks.
// `log_probabilities` is [N, C, D] flattened, in double.
std::vector<double> negative_log_likelihood(const KernelContext& context, const std::vector<double>& log_probabilities,
                                            const Shape& input_shape, const Tensor& target, const Tensor* weight,
                                            Reduction reduction) {
  const int64_t batch = input_shape[0], classes = input_shape[1];
  const int64_t inner = product_from(input_shape, 2);
  Shape expected_target(input_shape);
  expected_target.erase(expected_target.begin() + 1);
  if (target.shape() != expected_target) {
    context.invalid("target " + shape_to_string(target.shape()) + " must have shape " + shape_to_string(expected_target));
  }
  if (target.dtype() != DType::i32 && target.dtype() != DType::i64) context.invalid("target must be int32 or int64");
  std::vector<double> weights;
  if (weight) {
    if (weight->rank() != 1 || weight->dim(0) != classes) context.invalid("weight must be 1-D with one value per class");
    for (int64_t c = 0; c < classes; ++c) weights.push_back(weight->value_as_double(c));
  }
  const bool has_ignore = context.node().has_attribute("ignore_index");
  const int64_t ignore_index = context.attribute_int("ignore_index", 0);
  const std::vector<int64_t> targets = target.to_int64_vector();
  std::vector<double> losses(targets.size(), 0);
  double weight_sum = 0, loss_sum = 0;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t d = 0; d < inner; ++d) {
      const size_t index = static_cast<size_t>(n * inner + d);
      const int64_t label = targets[index];
      if (has_ignore && label == ignore_index) continue;
      if (label < 0 || label >= classes) {
        context.invalid("target " + std::to_string(label) + " is outside [0, " + std::to_string(classes) + ")");
      }
      const double label_weight = weight ? weights[label] : 1.0;
      losses[index] = -log_probabilities[(n * classes + label) * inner + d] * label_weight;
      weight_sum += label_weight;
      loss_sum += losses[index];
    }
  }
  if (reduction == Reduction::none) return losses;
  if (reduction == Reduction::sum) return {loss_sum};
  return {loss_sum / weight_sum};
}

template <typename T>
void write_doubles(Tensor& tensor, const std::vector<double>& values) {
  T* destination = tensor.data<T>();
  for (size_t i = 0; i < values.size(); ++i) destination[i] = static_cast<T>(values[i]);
}

void write_losses(KernelContext& context, DType dtype, const Shape& target_shape, Reduction reduction,
                  const std::vector<double>& losses, const char* name) {
  Tensor& output = context.allocate_output(0, dtype, reduction == Reduction::none ? target_shape : Shape{});
  dispatch_float(dtype, name, [&]<typename T>() { write_doubles<T>(output, losses); });
}

std::vector<double> as_doubles(const KernelContext& context, const Tensor& input, const char* name) {
  std::vector<double> values(static_cast<size_t>(input.element_count()));
  dispatch_float(input.dtype(), name, [&]<typename T>() {
    const T* source = input.data<T>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(source[i]);
  });
  return values;
}

void negative_log_likelihood_loss_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& target = context.input(1);
  const Tensor* weight = context.optional_input(2);
  if (input.rank() < 2) context.invalid("the input must have rank 2 or more (N, C, ...)");
  if (weight && weight->dtype() != input.dtype()) context.invalid("weight must have the element type of the input");
  const Reduction reduction = reduction_of(context);
  const std::vector<double> log_probabilities = as_doubles(context, input, "NegativeLogLikelihoodLoss");
  const std::vector<double> losses = negative_log_likelihood(context, log_probabilities, input.shape(), target, weight, reduction);
  write_losses(context, input.dtype(), target.shape(), reduction, losses, "NegativeLogLikelihoodLoss");
}

void softmax_cross_entropy_loss_kernel(KernelContext& context) {
  const Tensor& scores = context.input(0);
  const Tensor& labels = context.input(1);
  const Tensor* weight = context.optional_input(2);
  if (scores.rank() < 2) context.invalid("scores must have rank 2 or more (N, C, ...)");
  if (weight && weight->dtype() != scores.dtype()) context.invalid("weights must have the element type of the scores");
  const Reduction reduction = reduction_of(context);
  std::vector<double> log_probabilities = as_doubles(context, scores, "SoftmaxCrossEntropyLoss");
  const int64_t batch = scores.dim(0), classes = scores.dim(1), inner = product_from(scores.shape(), 2);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t d = 0; d < inner; ++d) {
      double maximum = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < classes; ++c) maximum = std::max(maximum, log_probabilities[(n * classes + c) * inner + d]);
      double sum = 0;
      for (int64_t c = 0; c < classes; ++c) sum += std::exp(log_probabilities[(n * classes + c) * inner + d] - maximum);
      const double log_sum = std::log(sum) + maximum;
      for (int64_t c = 0; c < classes; ++c) log_probabilities[(n * classes + c) * inner + d] -= log_sum;
    }
  }
  const std::vector<double> losses = negative_log_likelihood(context, log_probabilities, scores.shape(), labels, weight, reduction);
  write_losses(context, scores.dtype(), labels.shape(), reduction, losses, "SoftmaxCrossEntropyLoss");
  if (context.output_requested(1)) {
    Tensor& log_prob = context.allocate_output(1, scores.dtype(), scores.shape());
    dispatch_float(scores.dtype(), "SoftmaxCrossEntropyLoss", [&]<typename T>() { write_doubles<T>(log_prob, log_probabilities); });
  }
}

}  // namespace

void register_loss_kernels(KernelRegistry& registry) {
  registry.add("NegativeLogLikelihoodLoss", negative_log_likelihood_loss_kernel, 12, 17);
  registry.add("SoftmaxCrossEntropyLoss", softmax_cross_entropy_loss_kernel, 12, 17);
}

}  // namespace npukit::runtime::ref
