// Recurrent layers RNN, GRU, LSTM: forward, reverse and bidirectional, both layouts, custom activations
// with alpha/beta, clip, GRU linear_before_reset, LSTM peepholes and input_forget, sequence_lens, initial states.
//
// Everything computes in double and rounds once at the store: these layers are small in the models npukit
// targets, and the oracle should not add float rounding of its own.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

enum class CellKind { rnn, gru, lstm };

struct Activation {
  enum class Kind { relu, tanh, sigmoid, affine, leaky_relu, thresholded_relu, scaled_tanh, hard_sigmoid, elu, softsign, softplus };
  Kind kind = Kind::tanh;
  double alpha = 0;
  double beta = 0;

  double operator()(double x) const {
    switch (kind) {
      case Kind::relu: return x > 0 ? x : 0;
      case Kind::tanh: return std::tanh(x);
      case Kind::sigmoid: return 1.0 / (1.0 + std::exp(-x));
      case Kind::affine: return alpha * x + beta;
      case Kind::leaky_relu: return x >= 0 ? x : alpha * x;
      case Kind::thresholded_relu: return x > alpha ? x : 0;
      case Kind::scaled_tanh: return alpha * std::tanh(beta * x);
      case Kind::hard_sigmoid: return std::max(0.0, std::min(1.0, alpha * x + beta));
      case Kind::elu: return x >= 0 ? x : alpha * (std::exp(x) - 1);
      case Kind::softsign: return x / (1 + std::fabs(x));
      case Kind::softplus: return std::log1p(std::exp(x));
    }
    return x;
  }
};

// Parses the 'activations' attribute (with activation_alpha/beta consumed in order by the functions that
// take them); missing entries get the layer's defaults.
std::vector<Activation> parse_activations(const KernelContext& context, const std::vector<std::string>& defaults,
                                          size_t directions) {
  std::vector<std::string> names;
  if (const ir::Attribute* attribute = context.node().find_attribute("activations")) names = attribute->string_values;
  const std::vector<double> alphas = context.attribute_floats("activation_alpha");
  const std::vector<double> betas = context.attribute_floats("activation_beta");
  size_t alpha_index = 0, beta_index = 0;
  std::vector<Activation> result;
  const size_t needed = defaults.size() * directions;
  for (size_t i = 0; i < needed; ++i) {
    std::string name = i < names.size() ? names[i] : defaults[i % defaults.size()];
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Activation activation;
    auto take_alpha = [&](double fallback) { return alpha_index < alphas.size() ? alphas[alpha_index++] : fallback; };
    auto take_beta = [&](double fallback) { return beta_index < betas.size() ? betas[beta_index++] : fallback; };
    using Kind = Activation::Kind;
    if (lower == "relu") activation.kind = Kind::relu;
    else if (lower == "tanh") activation.kind = Kind::tanh;
    else if (lower == "sigmoid") activation.kind = Kind::sigmoid;
    else if (lower == "affine") activation = {Kind::affine, take_alpha(1.0), take_beta(0.0)};
    else if (lower == "leakyrelu") activation = {Kind::leaky_relu, take_alpha(0.01), 0};
    else if (lower == "thresholdedrelu") activation = {Kind::thresholded_relu, take_alpha(1.0), 0};
    else if (lower == "scaledtanh") activation = {Kind::scaled_tanh, take_alpha(1.0), take_beta(1.0)};
    else if (lower == "hardsigmoid") activation = {Kind::hard_sigmoid, take_alpha(0.2), take_beta(0.5)};
    else if (lower == "elu") activation = {Kind::elu, take_alpha(1.0), 0};
    else if (lower == "softsign") activation.kind = Kind::softsign;
    else if (lower == "softplus") activation.kind = Kind::softplus;
    else context.unsupported("recurrent activation '" + name + "' is not supported");
    result.push_back(activation);
  }
  return result;
}

std::vector<double> to_double(const Tensor* tensor) {
  std::vector<double> values;
  if (!tensor) return values;
  values.resize(static_cast<size_t>(tensor->element_count()));
  dispatch_dtype(tensor->dtype(), kFloatTypes, "recurrent layer", [&]<typename T>() {
    if constexpr (std::is_floating_point_v<compute_type_t<T>>) {
      const T* source = tensor->data<T>();
      for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(static_cast<compute_type_t<T>>(source[i]));
    }
  });
  return values;
}

void store(Tensor& tensor, const std::vector<double>& values) {
  dispatch_dtype(tensor.dtype(), kFloatTypes, "recurrent layer", [&]<typename T>() {
    if constexpr (std::is_floating_point_v<compute_type_t<T>>) {
      T* destination = tensor.data<T>();
      for (size_t i = 0; i < values.size(); ++i) destination[i] = static_cast<T>(static_cast<compute_type_t<T>>(values[i]));
    }
  });
}

void expect_shape(const KernelContext& context, const Tensor* tensor, const Shape& expected, const char* what) {
  if (tensor && tensor->shape() != expected) {
    context.invalid(std::string(what) + " has shape " + shape_to_string(tensor->shape()) + ", expected " +
                    shape_to_string(expected));
  }
}

void recurrent_kernel(KernelContext& context, CellKind kind) {
  const size_t gates = kind == CellKind::rnn ? 1 : kind == CellKind::gru ? 3 : 4;
  const Tensor& x_tensor = context.input(0);
  const Tensor& w_tensor = context.input(1);
  const Tensor& r_tensor = context.input(2);
  const bool batch_first = context.attribute_int("layout", 0) != 0;
  const std::string direction = context.attribute_string("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional") {
    context.invalid("direction must be forward, reverse or bidirectional, got '" + direction + "'");
  }
  const int64_t directions = direction == "bidirectional" ? 2 : 1;
  if (x_tensor.rank() != 3 || w_tensor.rank() != 3 || r_tensor.rank() != 3) context.invalid("X, W and R must have rank 3");
  const int64_t seq_length = x_tensor.dim(batch_first ? 1 : 0);
  const int64_t batch = x_tensor.dim(batch_first ? 0 : 1);
  const int64_t input_size = x_tensor.dim(2);
  const int64_t hidden = context.attribute_int("hidden_size", r_tensor.dim(2));
  const int64_t gate_rows = static_cast<int64_t>(gates) * hidden;
  expect_shape(context, &w_tensor, {directions, gate_rows, input_size}, "W");
  expect_shape(context, &r_tensor, {directions, gate_rows, hidden}, "R");
  const Tensor* b_tensor = context.optional_input(3);
  const Tensor* lens_tensor = context.optional_input(4);
  const Tensor* h0_tensor = context.optional_input(5);
  const Tensor* c0_tensor = kind == CellKind::lstm ? context.optional_input(6) : nullptr;
  const Tensor* p_tensor = kind == CellKind::lstm ? context.optional_input(7) : nullptr;
  expect_shape(context, b_tensor, {directions, 2 * gate_rows}, "B");
  const Shape state_shape = batch_first ? Shape{batch, directions, hidden} : Shape{directions, batch, hidden};
  expect_shape(context, h0_tensor, state_shape, "initial_h");
  expect_shape(context, c0_tensor, state_shape, "initial_c");
  expect_shape(context, p_tensor, {directions, 3 * hidden}, "P");
  if (lens_tensor && lens_tensor->element_count() != batch) context.invalid("sequence_lens must have one entry per batch");
  for (const Tensor* t : {&w_tensor, &r_tensor, b_tensor, h0_tensor, c0_tensor, p_tensor}) {
    if (t && t->dtype() != x_tensor.dtype()) context.invalid("W, R, B, initial states and P must have X's element type");
  }

  const std::vector<double> x = to_double(&x_tensor), w = to_double(&w_tensor), r = to_double(&r_tensor);
  const std::vector<double> bias = to_double(b_tensor), h0 = to_double(h0_tensor), c0 = to_double(c0_tensor);
  const std::vector<double> peephole = to_double(p_tensor);
  std::vector<int64_t> lengths(static_cast<size_t>(batch), seq_length);
  if (lens_tensor) {
    lengths = lens_tensor->to_int64_vector();
    for (int64_t length : lengths) {
      if (length < 0 || length > seq_length) context.invalid("sequence_lens value out of [0, seq_length]");
    }
  }
  const double clip = context.attribute_float("clip", 0.0);
  const bool has_clip = context.node().has_attribute("clip");
  const bool linear_before_reset = context.attribute_int("linear_before_reset", 0) != 0;
  const bool input_forget = context.attribute_int("input_forget", 0) != 0;
  std::vector<std::string> default_activations = kind == CellKind::rnn   ? std::vector<std::string>{"Tanh"}
                                                 : kind == CellKind::gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                         : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  const std::vector<Activation> activations =
      parse_activations(context, default_activations, static_cast<size_t>(directions));

  const Shape y_shape = batch_first ? Shape{batch, seq_length, directions, hidden} : Shape{seq_length, directions, batch, hidden};
  std::vector<double> y(static_cast<size_t>(shape_element_count(y_shape)), 0.0);
  std::vector<double> y_h(static_cast<size_t>(directions * batch * hidden), 0.0);
  std::vector<double> y_c(y_h.size(), 0.0);
  auto x_at = [&](int64_t t, int64_t b) {
    return &x[static_cast<size_t>(batch_first ? (b * seq_length + t) * input_size : (t * batch + b) * input_size)];
  };
  auto y_index = [&](int64_t t, int64_t d, int64_t b) {
    return static_cast<size_t>(batch_first ? ((b * seq_length + t) * directions + d) * hidden
                                           : ((t * directions + d) * batch + b) * hidden);
  };
  auto state_index = [&](int64_t d, int64_t b) {
    return static_cast<size_t>(batch_first ? (b * directions + d) * hidden : (d * batch + b) * hidden);
  };
  auto clipped = [&](double value) { return has_clip ? std::max(-clip, std::min(clip, value)) : value; };

  std::vector<double> h(static_cast<size_t>(hidden)), c(static_cast<size_t>(hidden)), pre(static_cast<size_t>(gate_rows));
  std::vector<double> recurrent(static_cast<size_t>(gate_rows)), scratch(static_cast<size_t>(hidden));
  for (int64_t d = 0; d < directions; ++d) {
    const bool reverse = direction == "reverse" || d == 1;
    const double* w_d = &w[static_cast<size_t>(d * gate_rows * input_size)];
    const double* r_d = &r[static_cast<size_t>(d * gate_rows * hidden)];
    const double* wb = bias.empty() ? nullptr : &bias[static_cast<size_t>(d * 2 * gate_rows)];
    const double* rb = bias.empty() ? nullptr : wb + gate_rows;
    const double* p_d = peephole.empty() ? nullptr : &peephole[static_cast<size_t>(d * 3 * hidden)];
    const Activation* f = &activations[static_cast<size_t>(d) * default_activations.size()];
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j = 0; j < hidden; ++j) {
        h[static_cast<size_t>(j)] = h0.empty() ? 0.0 : h0[state_index(d, b) + static_cast<size_t>(j)];
        c[static_cast<size_t>(j)] = c0.empty() ? 0.0 : c0[state_index(d, b) + static_cast<size_t>(j)];
      }
      const int64_t length = lengths[static_cast<size_t>(b)];
      for (int64_t step = 0; step < length; ++step) {
        const int64_t t = reverse ? length - 1 - step : step;
        const double* xt = x_at(t, b);
        // pre = X W^T + Wb, recurrent = H R^T + Rb, per gate row.
        for (int64_t row = 0; row < gate_rows; ++row) {
          double sum = wb ? wb[row] : 0.0;
          const double* w_row = w_d + row * input_size;
          for (int64_t i = 0; i < input_size; ++i) sum += xt[i] * w_row[i];
          pre[static_cast<size_t>(row)] = sum;
          double recurrent_sum = rb ? rb[row] : 0.0;
          const double* r_row = r_d + row * hidden;
          for (int64_t i = 0; i < hidden; ++i) recurrent_sum += h[static_cast<size_t>(i)] * r_row[i];
          recurrent[static_cast<size_t>(row)] = recurrent_sum;
        }
        if (kind == CellKind::rnn) {
          for (int64_t j = 0; j < hidden; ++j) {
            h[static_cast<size_t>(j)] = f[0](clipped(pre[static_cast<size_t>(j)] + recurrent[static_cast<size_t>(j)]));
          }
        } else if (kind == CellKind::gru) {
          // Gate order z, r, h.
          for (int64_t j = 0; j < hidden; ++j) {
            const size_t z_row = static_cast<size_t>(j), r_row = static_cast<size_t>(hidden + j);
            const size_t h_row = static_cast<size_t>(2 * hidden + j);
            const double z = f[0](clipped(pre[z_row] + recurrent[z_row]));
            const double reset = f[0](clipped(pre[r_row] + recurrent[r_row]));
            double candidate_input;
            if (linear_before_reset) {
              candidate_input = pre[h_row] + reset * recurrent[h_row];
            } else {
              // (r ⊙ H) Rh^T + Rbh: needs the reset-gated state, not H Rh^T.
              double sum = rb ? rb[h_row] : 0.0;
              const double* r_h_row = r_d + static_cast<int64_t>(h_row) * hidden;
              for (int64_t i = 0; i < hidden; ++i) {
                const size_t ri = static_cast<size_t>(hidden + i);
                const double reset_i = f[0](clipped(pre[ri] + recurrent[ri]));
                sum += reset_i * h[static_cast<size_t>(i)] * r_h_row[i];
              }
              candidate_input = pre[h_row] + sum;
            }
            const double candidate = f[1](clipped(candidate_input));
            scratch[static_cast<size_t>(j)] = (1.0 - z) * candidate + z * h[static_cast<size_t>(j)];
          }
          h = scratch;
        } else {
          // Gate order i, o, f, c; peepholes i, o, f.
          for (int64_t j = 0; j < hidden; ++j) {
            const size_t i_row = static_cast<size_t>(j), o_row = static_cast<size_t>(hidden + j);
            const size_t f_row = static_cast<size_t>(2 * hidden + j), c_row = static_cast<size_t>(3 * hidden + j);
            const double c_previous = c[static_cast<size_t>(j)];
            const double input_gate =
                f[0](clipped(pre[i_row] + recurrent[i_row] + (p_d ? p_d[j] * c_previous : 0.0)));
            const double forget_gate =
                input_forget ? 1.0 - input_gate
                             : f[0](clipped(pre[f_row] + recurrent[f_row] + (p_d ? p_d[2 * hidden + j] * c_previous : 0.0)));
            const double cell_candidate = f[1](clipped(pre[c_row] + recurrent[c_row]));
            const double cell = forget_gate * c_previous + input_gate * cell_candidate;
            const double output_gate = f[0](clipped(pre[o_row] + recurrent[o_row] + (p_d ? p_d[hidden + j] * cell : 0.0)));
            c[static_cast<size_t>(j)] = cell;
            scratch[static_cast<size_t>(j)] = output_gate * f[2](cell);
          }
          h = scratch;
        }
        std::copy(h.begin(), h.end(), y.begin() + static_cast<std::ptrdiff_t>(y_index(t, d, b)));
      }
      std::copy(h.begin(), h.end(), y_h.begin() + static_cast<std::ptrdiff_t>(state_index(d, b)));
      std::copy(c.begin(), c.end(), y_c.begin() + static_cast<std::ptrdiff_t>(state_index(d, b)));
    }
  }
  const DType dtype = x_tensor.dtype();
  if (context.output_requested(0)) store(context.allocate_output(0, dtype, y_shape), y);
  if (context.output_requested(1)) store(context.allocate_output(1, dtype, state_shape), y_h);
  if (kind == CellKind::lstm && context.output_requested(2)) store(context.allocate_output(2, dtype, state_shape), y_c);
}

void rnn_kernel(KernelContext& context) { recurrent_kernel(context, CellKind::rnn); }
void gru_kernel(KernelContext& context) { recurrent_kernel(context, CellKind::gru); }
void lstm_kernel(KernelContext& context) { recurrent_kernel(context, CellKind::lstm); }

}  // namespace

void register_recurrent_kernels(KernelRegistry& registry) {
  registry.add("RNN", rnn_kernel);
  registry.add("GRU", gru_kernel);
  registry.add("LSTM", lstm_kernel);
}

}  // namespace npukit::runtime::ref
