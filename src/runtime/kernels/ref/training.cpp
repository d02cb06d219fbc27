// Reference optimizer steps of the ai.onnx.preview.training domain: Adagrad, Adam, Momentum (standard and
// Nesterov). Each takes a learning rate R, a step count T and n groups of tensors (X..., G..., state...)
// and returns the updated X and state tensors, element by element, computed in double.
#include <cmath>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/compute_buffer.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

constexpr const char* kTrainingDomain = "ai.onnx.preview.training";

// The tensors of one optimized parameter: inputs X, G and `state_count` state tensors.
struct OptimizerStep {
  double learning_rate = 0;
  int64_t step = 0;
  size_t parameter_count = 0;
};

OptimizerStep optimizer_step(const KernelContext& context, size_t groups) {
  OptimizerStep step;
  if (context.input_count() < 2 + groups || (context.input_count() - 2) % groups != 0) {
    context.invalid("expected R, T and " + std::to_string(groups) + " tensors per optimized parameter");
  }
  step.parameter_count = (context.input_count() - 2) / groups;
  const Tensor& rate = context.input(0);
  const Tensor& count = context.input(1);
  if (rate.element_count() != 1 || count.element_count() != 1) context.invalid("R and T must be scalars");
  step.learning_rate = rate.value_as_double(0);
  step.step = count.value_as_int64(0);
  for (size_t group = 1; group < groups; ++group) {
    for (size_t p = 0; p < step.parameter_count; ++p) {
      const Tensor& reference = context.input(2 + p);
      const Tensor& other = context.input(2 + group * step.parameter_count + p);
      if (other.shape() != reference.shape() || other.dtype() != reference.dtype()) {
        context.invalid("every tensor of parameter " + std::to_string(p) + " must have the shape and type of X");
      }
    }
  }
  return step;
}

// Runs update(x, g, state_in..., state_out...) for each element of each parameter, where the per-element
// values are doubles; `update` writes the new x and the new states.
template <size_t state_count, typename Update>
void run_optimizer(KernelContext& context, const char* name, Update&& update) {
  const size_t groups = 2 + state_count;
  const OptimizerStep step = optimizer_step(context, groups);
  const size_t n = step.parameter_count;
  for (size_t p = 0; p < n; ++p) {
    const Tensor& x = context.input(2 + p);
    std::vector<Tensor*> outputs;
    outputs.push_back(&context.allocate_output(p, x.dtype(), x.shape()));
    for (size_t s = 0; s < state_count; ++s) outputs.push_back(&context.allocate_output((s + 1) * n + p, x.dtype(), x.shape()));
    dispatch_float(x.dtype(), name, [&]<typename T>() {
      std::vector<const T*> inputs;
      for (size_t group = 0; group < groups; ++group) inputs.push_back(context.input(2 + group * n + p).data<T>());
      for (int64_t i = 0; i < x.element_count(); ++i) {
        double state[state_count > 0 ? state_count : 1];
        for (size_t s = 0; s < state_count; ++s) state[s] = static_cast<double>(inputs[2 + s][i]);
        double new_x = 0;
        update(step, static_cast<double>(inputs[0][i]), static_cast<double>(inputs[1][i]), state, new_x);
        outputs[0]->data<T>()[i] = static_cast<T>(new_x);
        for (size_t s = 0; s < state_count; ++s) outputs[s + 1]->data<T>()[i] = static_cast<T>(state[s]);
      }
    });
  }
}

void adagrad_kernel(KernelContext& context) {
  const double decay_factor = context.attribute_float("decay_factor", 0.0);
  const double epsilon = context.attribute_float("epsilon", 1e-6);  // the schema's default
  const double norm_coefficient = context.attribute_float("norm_coefficient", 0.0);
  run_optimizer<1>(context, "Adagrad", [&](const OptimizerStep& step, double x, double g, double* state, double& new_x) {
    const double rate = step.learning_rate / (1 + static_cast<double>(step.step) * decay_factor);
    const double regularized = norm_coefficient * x + g;
    state[0] += regularized * regularized;  // accumulated squared gradient H
    new_x = x - rate * regularized / (std::sqrt(state[0]) + epsilon);
  });
}

void adam_kernel(KernelContext& context) {
  const double alpha = context.attribute_float("alpha", 0.9);
  const double beta = context.attribute_float("beta", 0.999);
  const double epsilon = context.attribute_float("epsilon", 1e-6);  // the schema's default
  const double norm_coefficient = context.attribute_float("norm_coefficient", 0.0);
  const double norm_coefficient_post = context.attribute_float("norm_coefficient_post", 0.0);
  run_optimizer<2>(context, "Adam", [&](const OptimizerStep& step, double x, double g, double* state, double& new_x) {
    const double regularized = norm_coefficient * x + g;
    state[0] = alpha * state[0] + (1 - alpha) * regularized;                 // momentum V
    state[1] = beta * state[1] + (1 - beta) * regularized * regularized;     // second moment H
    double rate = step.learning_rate;
    if (step.step > 0) {
      // Bias correction of both moments.
      const double t = static_cast<double>(step.step);
      rate = rate * std::sqrt(1 - std::pow(beta, t)) / (1 - std::pow(alpha, t));
    }
    new_x = (1 - norm_coefficient_post) * (x - rate * (state[0] / (std::sqrt(state[1]) + epsilon)));
  });
}

void momentum_kernel(KernelContext& context) {
  const double alpha = context.attribute_float("alpha", 0.0);
  const double beta = context.attribute_float("beta", 0.0);
  const double norm_coefficient = context.attribute_float("norm_coefficient", 0.0);
  const std::string mode = context.attribute_string("mode", "standard");
  if (mode != "standard" && mode != "nesterov") context.unsupported("mode '" + mode + "' is not supported");
  const bool nesterov = mode == "nesterov";
  run_optimizer<1>(context, "Momentum", [&](const OptimizerStep& step, double x, double g, double* state, double& new_x) {
    const double regularized = norm_coefficient * x + g;
    // The first step (T = 0) takes the whole gradient.
    const double beta_adjusted = step.step > 0 ? beta : 1.0;
    state[0] = alpha * state[0] + beta_adjusted * regularized;  // velocity V
    new_x = nesterov ? x - step.learning_rate * (regularized + alpha * state[0]) : x - step.learning_rate * state[0];
  });
}

}  // namespace

void register_training_kernels(KernelRegistry& registry) {
  registry.add("Adagrad", adagrad_kernel, 1, 1, kTrainingDomain);
  registry.add("Adam", adam_kernel, 1, 1, kTrainingDomain);
  registry.add("Momentum", momentum_kernel, 1, 1, kTrainingDomain);
}

}  // namespace npukit::runtime::ref
