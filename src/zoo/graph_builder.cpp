#include "zoo/graph_builder.h"

#include <cmath>

#include "npukit/error.h"

namespace npukit::zoo {

uint64_t WeightGenerator::next_bits() {
  // splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for weights.
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float WeightGenerator::next_symmetric() {
  // 24 random bits give every float in [0, 1) on a 2^-24 grid exactly.
  float unit = static_cast<float>(next_bits() >> 40) * (1.0f / 16777216.0f);
  return unit * 2.0f - 1.0f;
}

namespace {

// E[f(X)] and E[f(X)²] for X ~ N(mean, variance), by the trapezoid rule over ±8 standard deviations:
// exact enough for sizing weights, and deterministic.
template <typename Function>
GraphBuilder::Moments gaussian_moments(double mean, double variance, Function function) {
  const int steps = 1600;
  double deviation = std::sqrt(std::max(variance, 1e-12));
  double first = 0, second = 0, total_weight = 0;
  for (int i = 0; i <= steps; ++i) {
    double z = -8.0 + 16.0 * i / steps;
    double weight = std::exp(-0.5 * z * z) * (i == 0 || i == steps ? 0.5 : 1.0);
    double value = function(mean + deviation * z);
    first += weight * value;
    second += weight * value * value;
    total_weight += weight;
  }
  return {first / total_weight, second / total_weight};
}

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

GraphBuilder::GraphBuilder(ir::Model& model, uint64_t seed)
    : model_(model), graph_(*model.graph), generator_(seed) {}

ir::Value* GraphBuilder::new_value(const std::string& name, const Shape& shape, DType dtype) {
  ir::TensorType type;
  type.dtype = dtype;
  std::vector<ir::Dim> dims;
  for (int64_t size : shape) dims.push_back(ir::Dim::fixed(size));
  type.shape = std::move(dims);
  return graph_.add_value(name, std::move(type));
}

Shape GraphBuilder::shape_of(const ir::Value* value) const { return value->type.static_shape(); }

GraphBuilder::Moments GraphBuilder::moments_of(const ir::Value* value) const {
  auto found = moments_.find(value);
  return found == moments_.end() ? Moments{} : found->second;
}

ir::Value* GraphBuilder::with_moments(ir::Value* value, Moments moments) {
  moments_[value] = moments;
  return value;
}

ir::Node* GraphBuilder::add_node(const std::string& op, const std::string& name, std::vector<ir::Value*> inputs,
                                 std::vector<ir::Value*> outputs) {
  return graph_.add_node(op, std::move(inputs), std::move(outputs), name);
}

void GraphBuilder::set_ints(ir::Node* node, const std::string& key, std::vector<int64_t> values) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::integers;
  attribute.int_values = std::move(values);
  node->attributes[key] = std::move(attribute);
}

void GraphBuilder::set_int(ir::Node* node, const std::string& key, int64_t value) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::integer;
  attribute.int_value = value;
  node->attributes[key] = std::move(attribute);
}

void GraphBuilder::set_string(ir::Node* node, const std::string& key, std::string value) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::string;
  attribute.string_value = std::move(value);
  node->attributes[key] = std::move(attribute);
}

ir::Value* GraphBuilder::input(const std::string& name, DType dtype, const Shape& shape, Moments moments) {
  ir::Value* value = new_value(name, shape, dtype);
  value->is_graph_input = true;
  graph_.inputs.push_back(value);
  return with_moments(value, moments);
}

void GraphBuilder::output(ir::Value* value, const std::string& name) {
  // Graph outputs keep the name users look for (output0), so the last op writes straight into it.
  if (value->name != name) {
    throw Error(ErrorKind::internal, "GraphBuilder::output: value '" + value->name + "' should be named '" + name + "'");
  }
  value->is_graph_output = true;
  graph_.outputs.push_back(value);
}

ir::Value* GraphBuilder::constant(const std::string& name, Tensor data) {
  return graph_.add_initializer(name, std::move(data));
}

ir::Value* GraphBuilder::scalar(float value) {
  Tensor data(DType::f32, {});
  data.data<float>()[0] = value;
  return constant("scalar_" + std::to_string(scalar_count_++), std::move(data));
}

ir::Value* GraphBuilder::int64_vector(const std::string& name, const std::vector<int64_t>& values) {
  return constant(name, Tensor::from_vector<int64_t>(DType::i64, {static_cast<int64_t>(values.size())}, values));
}

ir::Value* GraphBuilder::conv(const std::string& name, ir::Value* x, int64_t out_channels, int64_t kernel,
                              int64_t stride, int64_t pad, double output_std) {
  Shape in = shape_of(x);
  int64_t in_channels = in.at(1);
  Tensor weight(DType::f32, {out_channels, in_channels, kernel, kernel});
  double fan_in = static_cast<double>(in_channels * kernel * kernel);
  // E[y²] = fan_in × Var(w) × E[x²] for zero-mean weights; uniform on [-a, a] has variance a²/3.
  double input_mean_square = std::max(moments_of(x).mean_square, 1e-6);
  float limit = static_cast<float>(output_std * std::sqrt(3.0 / (fan_in * input_mean_square)));
  for (float& w : weight.values<float>()) w = limit * generator_.next_symmetric();
  Tensor bias(DType::f32, {out_channels});
  for (float& b : bias.values<float>()) b = 0.1f * generator_.next_symmetric();
  ir::Value* weight_value = constant(name + ".weight", std::move(weight));
  ir::Value* bias_value = constant(name + ".bias", std::move(bias));
  const double bias_variance = 0.01 / 3.0;
  int64_t height = (in.at(2) + 2 * pad - kernel) / stride + 1;
  int64_t width = (in.at(3) + 2 * pad - kernel) / stride + 1;
  ir::Value* y = new_value(name + "_output", {in.at(0), out_channels, height, width});
  ir::Node* node = add_node("Conv", name, {x, weight_value, bias_value}, {y});
  set_ints(node, "kernel_shape", {kernel, kernel});
  set_ints(node, "strides", {stride, stride});
  set_ints(node, "pads", {pad, pad, pad, pad});
  set_ints(node, "dilations", {1, 1});
  set_int(node, "group", 1);
  return with_moments(y, {0.0, output_std * output_std + bias_variance});
}

ir::Value* GraphBuilder::sigmoid(const std::string& name, ir::Value* x) {
  ir::Value* y = new_value(name + "_output", shape_of(x));
  add_node("Sigmoid", name, {x}, {y});
  Moments in = moments_of(x);
  return with_moments(y, gaussian_moments(in.mean, in.mean_square - in.mean * in.mean, logistic));
}

ir::Value* GraphBuilder::silu(const std::string& name, ir::Value* x) {
  ir::Value* gate = sigmoid(name + ".sigmoid", x);
  ir::Value* y = mul(name + ".mul", x, gate);
  Moments in = moments_of(x);
  return with_moments(y, gaussian_moments(in.mean, in.mean_square - in.mean * in.mean,
                                          [](double v) { return v * logistic(v); }));
}

ir::Value* GraphBuilder::elementwise(const std::string& op, const std::string& name, ir::Value* a, ir::Value* b) {
  // Numpy broadcasting: align on the right, a dimension of 1 stretches.
  Shape left = shape_of(a), right = shape_of(b);
  size_t rank = std::max(left.size(), right.size());
  Shape result(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t l = i < rank - left.size() ? 1 : left[i - (rank - left.size())];
    int64_t r = i < rank - right.size() ? 1 : right[i - (rank - right.size())];
    if (l != r && l != 1 && r != 1) {
      throw Error(ErrorKind::internal, "GraphBuilder: " + op + " '" + name + "' cannot broadcast " +
                                           shape_to_string(left) + " with " + shape_to_string(right));
    }
    result[i] = l == 1 ? r : l;
  }
  ir::Value* y = new_value(name + "_output", result);
  add_node(op, name, {a, b}, {y});
  // Moments as if the operands were independent (silu() overrides this for its correlated Mul).
  Moments left_moments = moments_of(a), right_moments = moments_of(b);
  Moments moments;
  if (op == "Add") {
    moments = {left_moments.mean + right_moments.mean,
               left_moments.mean_square + right_moments.mean_square + 2 * left_moments.mean * right_moments.mean};
  } else if (op == "Mul") {
    moments = {left_moments.mean * right_moments.mean, left_moments.mean_square * right_moments.mean_square};
  } else {
    moments = left_moments;  // Pow: only used after the last Conv, where no weights depend on it
  }
  return with_moments(y, moments);
}

ir::Value* GraphBuilder::mul(const std::string& name, ir::Value* a, ir::Value* b) { return elementwise("Mul", name, a, b); }
ir::Value* GraphBuilder::add(const std::string& name, ir::Value* a, ir::Value* b) { return elementwise("Add", name, a, b); }
ir::Value* GraphBuilder::pow(const std::string& name, ir::Value* a, ir::Value* exponent) {
  return elementwise("Pow", name, a, exponent);
}

ir::Value* GraphBuilder::concat(const std::string& name, const std::vector<ir::Value*>& parts, int64_t axis,
                                const std::string& output_name) {
  Shape result = shape_of(parts.at(0));
  int64_t positive_axis = axis < 0 ? axis + static_cast<int64_t>(result.size()) : axis;
  result[positive_axis] = 0;
  for (ir::Value* part : parts) result[positive_axis] += shape_of(part).at(positive_axis);
  ir::Value* y = new_value(output_name.empty() ? name + "_output" : output_name, result);
  ir::Node* node = add_node("Concat", name, parts, {y});
  set_int(node, "axis", axis);
  // Each part contributes in proportion to its share of the concatenated axis.
  Moments moments{0, 0};
  for (ir::Value* part : parts) {
    double share = static_cast<double>(shape_of(part).at(positive_axis)) / static_cast<double>(result[positive_axis]);
    moments.mean += share * moments_of(part).mean;
    moments.mean_square += share * moments_of(part).mean_square;
  }
  return with_moments(y, moments);
}

ir::Value* GraphBuilder::max_pool(const std::string& name, ir::Value* x, int64_t kernel, int64_t stride, int64_t pad) {
  Shape in = shape_of(x);
  Shape out = {in.at(0), in.at(1), (in.at(2) + 2 * pad - kernel) / stride + 1, (in.at(3) + 2 * pad - kernel) / stride + 1};
  ir::Value* y = new_value(name + "_output", out);
  ir::Node* node = add_node("MaxPool", name, {x}, {y});
  set_ints(node, "kernel_shape", {kernel, kernel});
  set_ints(node, "strides", {stride, stride});
  set_ints(node, "pads", {pad, pad, pad, pad});
  // The maximum of a window of neighbouring (hence correlated) activations: about twice the mean square,
  // as measured on this model. Only the scale of the next Conv depends on it.
  Moments before = moments_of(x);
  return with_moments(y, {before.mean * 1.5, before.mean_square * 2.0});
}

ir::Value* GraphBuilder::resize_nearest(const std::string& name, ir::Value* x, int64_t scale) {
  Shape in = shape_of(x);
  Tensor scales(DType::f32, {4});
  float* data = scales.data<float>();
  data[0] = 1.0f;
  data[1] = 1.0f;
  data[2] = static_cast<float>(scale);
  data[3] = static_cast<float>(scale);
  ir::Value* scales_value = constant(name + ".scales", std::move(scales));
  ir::Value* y = new_value(name + "_output", {in.at(0), in.at(1), in.at(2) * scale, in.at(3) * scale});
  ir::Node* node = add_node("Resize", name, {x, nullptr, scales_value}, {y});
  set_string(node, "mode", "nearest");
  set_string(node, "coordinate_transformation_mode", "asymmetric");
  set_string(node, "nearest_mode", "floor");
  return with_moments(y, moments_of(x));
}

ir::Value* GraphBuilder::reshape(const std::string& name, ir::Value* x, const Shape& shape) {
  if (shape_element_count(shape) != shape_element_count(shape_of(x))) {
    throw Error(ErrorKind::internal, "GraphBuilder: reshape '" + name + "' changes the element count");
  }
  ir::Value* target = int64_vector(name + ".shape", shape);
  ir::Value* y = new_value(name + "_output", shape);
  add_node("Reshape", name, {x, target}, {y});
  return with_moments(y, moments_of(x));
}

ir::Value* GraphBuilder::transpose(const std::string& name, ir::Value* x, const std::vector<int64_t>& permutation) {
  Shape in = shape_of(x);
  Shape out;
  for (int64_t axis : permutation) out.push_back(in.at(axis));
  ir::Value* y = new_value(name + "_output", out);
  ir::Node* node = add_node("Transpose", name, {x}, {y});
  set_ints(node, "perm", permutation);
  return with_moments(y, moments_of(x));
}

std::vector<ir::Value*> GraphBuilder::split(const std::string& name, ir::Value* x, const std::vector<int64_t>& sizes,
                                            int64_t axis) {
  Shape in = shape_of(x);
  std::vector<ir::Value*> outputs;
  for (size_t i = 0; i < sizes.size(); ++i) {
    Shape part = in;
    part.at(axis) = sizes[i];
    outputs.push_back(new_value(name + "_output_" + std::to_string(i), part));
  }
  ir::Value* split_sizes = int64_vector(name + ".split", sizes);
  ir::Node* node = add_node("Split", name, {x, split_sizes}, outputs);
  set_int(node, "axis", axis);
  for (ir::Value* output : outputs) with_moments(output, moments_of(x));
  return outputs;
}

}  // namespace npukit::zoo
