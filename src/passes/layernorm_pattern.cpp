#include "passes/layernorm_pattern.h"

#include <algorithm>
#include <optional>
#include <set>

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

bool is_op(const ir::Node* node, const char* op) { return node && node->op_type == op && node->domain.empty(); }

// The single-element constant of a value, or nullopt.
std::optional<double> scalar_constant(const ir::Value* value) {
  const Tensor* tensor = constant_of(value);
  if (!tensor || tensor->element_count() != 1) return std::nullopt;
  return tensor->value_as_double(0);
}

// The only node reading `value` (perhaps twice, as Mul(d, d) does), or nullptr when several nodes read it or
// it is a graph output.
ir::Node* sole_consumer(const ir::Value* value) {
  if (!value || value->is_graph_output || value->consumers.empty()) return nullptr;
  ir::Node* reader = value->consumers.front();
  for (ir::Node* other : value->consumers) {
    if (other != reader) return nullptr;
  }
  return reader;
}

// The other input of a binary node, given one of them.
ir::Value* other_input(const ir::Node* node, const ir::Value* known) {
  if (node->inputs.size() != 2) return nullptr;
  if (node->input(0) == known) return node->input(1);
  if (node->input(1) == known) return node->input(0);
  return nullptr;
}

// The first reduced axis when `node` is a keepdims ReduceMean over exactly the trailing axes of its rank-`rank`
// input, or nullopt. Axes come from the attribute (opset < 18) or a constant second input (opset 18+).
std::optional<int64_t> trailing_reduce_axis(const ir::Node* node, int64_t rank) {
  if (!is_op(node, "ReduceMean") || node->get_int("keepdims", 1) != 1) return std::nullopt;
  std::vector<int64_t> axes = node->get_ints("axes");
  if (const Tensor* input_axes = constant_of(node->input(1))) {
    axes.clear();
    for (int64_t i = 0; i < input_axes->element_count(); ++i) axes.push_back(static_cast<int64_t>(input_axes->value_as_double(i)));
  }
  if (axes.empty()) return std::nullopt;
  for (int64_t& axis : axes) axis = axis < 0 ? axis + rank : axis;
  std::sort(axes.begin(), axes.end());
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] != rank - static_cast<int64_t>(axes.size()) + static_cast<int64_t>(i)) return std::nullopt;
  }
  return axes.front();
}

// True when a constant broadcasts into the normalized shape `normalized` without widening the output.
bool fits_normalized_shape(const ir::Value* value, const std::vector<int64_t>& normalized, size_t input_rank) {
  const Tensor* tensor = constant_of(value);
  if (!tensor || tensor->dtype() != DType::f32 || static_cast<size_t>(tensor->rank()) > input_rank) return false;
  const Shape& dims = tensor->shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    const size_t from_right = dims.size() - i;  // 1 for the last dim
    const int64_t dim = dims[i];
    if (from_right > normalized.size()) {
      if (dim != 1) return false;
    } else if (dim != 1 && dim != normalized[normalized.size() - from_right]) {
      return false;
    }
  }
  return true;
}

bool is_square_of(const ir::Node* node, const ir::Value* value) {
  if (is_op(node, "Mul")) return node->input(0) == value && node->input(1) == value;
  if (is_op(node, "Pow")) return node->input(0) == value && scalar_constant(node->input(1)) == 2.0;
  return false;
}

// From the square: ReduceMean over the same trailing axes, Add epsilon, Sqrt. Appends those nodes to `match`,
// sets its epsilon and returns the Sqrt's output (the deviation), or nullptr.
const ir::Value* deviation_after_square(const ir::Node* square, int64_t rank, int64_t axis, WrittenLayerNorm& match) {
  ir::Node* variance_node = sole_consumer(square->output(0));
  if (!variance_node || trailing_reduce_axis(variance_node, rank) != axis || variance_node->input(0) != square->output(0)) {
    return nullptr;
  }
  ir::Node* add_epsilon = sole_consumer(variance_node->output(0));
  if (!is_op(add_epsilon, "Add")) return nullptr;
  std::optional<double> epsilon = scalar_constant(other_input(add_epsilon, variance_node->output(0)));
  if (!epsilon || *epsilon < 0) return nullptr;
  ir::Node* root = sole_consumer(add_epsilon->output(0));
  if (!is_op(root, "Sqrt")) return nullptr;
  match.epsilon = *epsilon;
  match.nodes.insert(match.nodes.end(), {variance_node, add_epsilon, root});
  return root->output(0);
}

// The node computing 1 / deviation (Reciprocal, or Div(1, deviation)) when that is the deviation's only reader.
ir::Node* reciprocal_of(const ir::Value* deviation) {
  ir::Node* reader = sole_consumer(deviation);
  if (is_op(reader, "Reciprocal")) return reader;
  if (is_op(reader, "Div") && reader->input(1) == deviation && scalar_constant(reader->input(0)) == 1.0) return reader;
  return nullptr;
}

// tf.nn.batch_normalization as Keras' LayerNormalization calls it, after tf2onnx (SquaredDifference → Sub, Mul;
// Rsqrt → Sqrt, Reciprocal):  t = Reciprocal(Sqrt(var + eps)) [· gamma];  y = x · t + (beta - mean · t).
std::optional<WrittenLayerNorm> match_scaled_shift_form(ir::Node* mean_node, int64_t rank, int64_t axis,
                                                        const std::vector<int64_t>& normalized) {
  WrittenLayerNorm match;
  match.input = mean_node->input(0);
  match.axis = axis;
  ir::Value* mean = mean_node->output(0);
  ir::Node* sub = nullptr;
  ir::Node* mean_times_t = nullptr;
  for (ir::Node* consumer : mean->consumers) {
    if (is_op(consumer, "Sub") && consumer->input(0) == match.input && consumer->input(1) == mean && !sub) {
      sub = consumer;
    } else if (is_op(consumer, "Mul") && !mean_times_t) {
      mean_times_t = consumer;
    } else {
      return std::nullopt;
    }
  }
  if (!sub || !mean_times_t) return std::nullopt;
  ir::Node* square = sole_consumer(sub->output(0));
  if (!is_square_of(square, sub->output(0))) return std::nullopt;
  match.nodes = {mean_node, sub, square};
  const ir::Value* deviation = deviation_after_square(square, rank, axis, match);
  if (!deviation) return std::nullopt;
  ir::Node* reciprocal = reciprocal_of(deviation);
  if (!reciprocal) return std::nullopt;
  match.nodes.push_back(reciprocal);
  // t: the reciprocal, or the reciprocal times gamma.
  ir::Value* t = reciprocal->output(0);
  if (t->consumers.size() == 1 && !t->is_graph_output && is_op(t->consumers.front(), "Mul")) {
    ir::Node* scale = t->consumers.front();
    ir::Value* gamma = other_input(scale, t);
    if (!gamma || !fits_normalized_shape(gamma, normalized, static_cast<size_t>(rank))) return std::nullopt;
    match.scale = gamma;
    match.nodes.push_back(scale);
    t = scale->output(0);
  }
  // t read by exactly x · t and mean · t.
  if (t->is_graph_output || t->consumers.size() != 2 || other_input(mean_times_t, mean) != t) return std::nullopt;
  ir::Node* x_times_t = t->consumers[0] == mean_times_t ? t->consumers[1] : t->consumers[0];
  if (!is_op(x_times_t, "Mul") || other_input(x_times_t, t) != match.input) return std::nullopt;
  ir::Node* shift = sole_consumer(mean_times_t->output(0));
  if (!is_op(shift, "Sub") || shift->input(1) != mean_times_t->output(0) ||
      !fits_normalized_shape(shift->input(0), normalized, static_cast<size_t>(rank))) {
    return std::nullopt;
  }
  match.shift = shift->input(0);
  ir::Node* sum = sole_consumer(x_times_t->output(0));
  if (!is_op(sum, "Add") || other_input(sum, x_times_t->output(0)) != shift->output(0) ||
      sole_consumer(shift->output(0)) != sum) {
    return std::nullopt;
  }
  match.nodes.insert(match.nodes.end(), {mean_times_t, x_times_t, shift, sum});
  match.output = sum->output(0);
  return match;
}

std::optional<WrittenLayerNorm> match_from_mean(ir::Node* mean_node) {
  WrittenLayerNorm match;
  match.input = mean_node->input(0);
  auto dims = static_dims_of(match.input);
  if (!dims || match.input->type.dtype != DType::f32) return std::nullopt;
  const int64_t rank = static_cast<int64_t>(dims->size());
  std::optional<int64_t> axis = trailing_reduce_axis(mean_node, rank);
  if (!axis) return std::nullopt;
  match.axis = *axis;
  const std::vector<int64_t> normalized(dims->begin() + *axis, dims->end());
  ir::Value* mean = mean_node->output(0);
  if (!mean || mean->is_graph_output || mean->consumers.empty() || mean->consumers.size() > 2) return std::nullopt;
  if (std::any_of(mean->consumers.begin(), mean->consumers.end(), [](const ir::Node* node) { return is_op(node, "Mul"); })) {
    return match_scaled_shift_form(mean_node, rank, *axis, normalized);
  }
  match.nodes.push_back(mean_node);

  // The centring Sub(s): one read by both the square and the normalizing node, or two twins.
  std::vector<ir::Node*> subs;
  for (ir::Node* consumer : mean->consumers) {
    if (!is_op(consumer, "Sub") || consumer->input(0) != match.input || consumer->input(1) != mean) return std::nullopt;
    subs.push_back(consumer);
  }
  std::vector<ir::Node*> readers;  // of the centred values: the square and the normalizing node
  for (ir::Node* sub : subs) {
    const ir::Value* centred = sub->output(0);
    if (!centred || centred->is_graph_output) return std::nullopt;
    for (ir::Node* reader : centred->consumers) {
      if (std::find(readers.begin(), readers.end(), reader) == readers.end()) readers.push_back(reader);
    }
    match.nodes.push_back(sub);
  }
  if (readers.size() != 2) return std::nullopt;
  auto is_square = [&](const ir::Node* node) {
    return std::any_of(subs.begin(), subs.end(), [&](const ir::Node* sub) { return is_square_of(node, sub->output(0)); });
  };
  ir::Node* square = is_square(readers[0]) ? readers[0] : readers[1];
  ir::Node* other_reader = square == readers[0] ? readers[1] : readers[0];  // the normalizing node, or gamma's Mul
  if (!is_square(square)) return std::nullopt;
  // Each Sub's output is read only by the square and the other reader.
  for (ir::Node* sub : subs) {
    for (const ir::Node* reader : sub->output(0)->consumers) {
      if (reader != square && reader != other_reader) return std::nullopt;
    }
  }
  match.nodes.push_back(square);

  const ir::Value* deviation = deviation_after_square(square, rank, *axis, match);
  if (!deviation) return std::nullopt;

  // Divide by the deviation, or multiply by its reciprocal; `numerator` is what gets divided.
  ir::Node* after_root = sole_consumer(deviation);
  ir::Node* normalize = nullptr;
  ir::Value* numerator = nullptr;
  if (reciprocal_of(deviation)) {
    normalize = sole_consumer(after_root->output(0));
    if (!is_op(normalize, "Mul")) return std::nullopt;
    numerator = other_input(normalize, after_root->output(0));
    match.nodes.push_back(after_root);
  } else if (is_op(after_root, "Div") && after_root->input(1) == deviation) {
    normalize = after_root;
    numerator = normalize->input(0);
  } else {
    return std::nullopt;
  }
  auto is_centred = [&](const ir::Value* value) {
    return std::any_of(subs.begin(), subs.end(), [&](const ir::Node* sub) { return sub->output(0) == value; });
  };
  if (!numerator) return std::nullopt;
  if (!is_centred(numerator) || other_reader != normalize) {
    // gamma applied before the division, as `w * (x - u) / sqrt(v + eps)` exports: Mul(gamma, d) → Div.
    if (!is_op(other_reader, "Mul") || other_reader->output(0) != numerator || sole_consumer(numerator) != normalize) {
      return std::nullopt;
    }
    ir::Value* gamma = nullptr;
    for (ir::Value* input : other_reader->inputs) {
      if (!is_centred(input)) gamma = input;
    }
    if (!gamma || !fits_normalized_shape(gamma, normalized, dims->size())) return std::nullopt;
    match.scale = gamma;
    match.nodes.push_back(other_reader);
  }
  match.nodes.push_back(normalize);
  match.output = normalize->output(0);

  // Optional Mul by gamma, then Add of beta, both constants of the normalized shape.
  if (ir::Node* scale = sole_consumer(match.output); !match.scale && is_op(scale, "Mul")) {
    ir::Value* gamma = other_input(scale, match.output);
    if (gamma && fits_normalized_shape(gamma, normalized, dims->size())) {
      match.scale = gamma;
      match.nodes.push_back(scale);
      match.output = scale->output(0);
    }
  }
  if (ir::Node* shift = sole_consumer(match.output); is_op(shift, "Add")) {
    ir::Value* beta = other_input(shift, match.output);
    if (beta && fits_normalized_shape(beta, normalized, dims->size())) {
      match.shift = beta;
      match.nodes.push_back(shift);
      match.output = shift->output(0);
    }
  }
  return match;
}

}  // namespace

std::vector<WrittenLayerNorm> find_written_layernorms(const ir::Graph& graph) {
  std::vector<WrittenLayerNorm> found;
  std::set<const ir::Node*> taken;
  for (const auto& node : graph.nodes()) {
    if (!is_op(node.get(), "ReduceMean") || taken.count(node.get())) continue;
    std::optional<WrittenLayerNorm> match = match_from_mean(node.get());
    if (!match) continue;
    for (const ir::Node* member : match->nodes) taken.insert(member);
    found.push_back(std::move(*match));
  }
  return found;
}

}  // namespace npukit::passes
