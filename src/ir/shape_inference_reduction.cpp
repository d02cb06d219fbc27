// Shape rules of ops that reduce or normalize along axes: Reduce*, ArgMax / ArgMin, TopK, the Softmax family
// and the normalizations, and the losses.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"

namespace npukit::ir {

namespace {

// Reduce*: axes as an attribute (before opset 13/18) or as input 1 (after), keepdims, noop_with_empty_axes.
void reduce_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Node& node = context.node();
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  const bool keep_dims = node.get_int("keepdims", 1) != 0;
  std::optional<std::vector<int64_t>> axes;
  if (node.has_attribute("axes")) {
    axes = node.get_ints("axes");
  } else if (context.has_input(1)) {
    axes = context.constant_ints(1);
    if (!axes) {  // axes computed at run time: with keepdims the rank stays, the dims are unknown
      context.set_output(0, dtype, input && keep_dims ? std::optional<Dims>(unknown_dims(input->size())) : std::nullopt);
      return;
    }
  } else {
    axes = std::vector<int64_t>{};
  }
  if (!input) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const int64_t rank = static_cast<int64_t>(input->size());
  if (axes->empty()) {
    if (node.get_int("noop_with_empty_axes", 0) != 0) {
      context.set_output(0, dtype, *input);
      return;
    }
    for (int64_t axis = 0; axis < rank; ++axis) axes->push_back(axis);
  }
  std::set<int64_t> reduced;
  for (int64_t axis : *axes) reduced.insert(context.normalize_axis(axis, rank, "reduction axis"));
  Dims output;
  for (int64_t axis = 0; axis < rank; ++axis) {
    if (!reduced.count(axis)) {
      output.push_back((*input)[axis]);
    } else if (keep_dims) {
      output.push_back(Dim::fixed(1));
    }
  }
  context.set_output(0, dtype, output);
}

void arg_reduce_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) {
    context.set_output(0, DType::i64, std::nullopt);
    return;
  }
  const int64_t rank = static_cast<int64_t>(input->size());
  const int64_t axis = context.normalize_axis(context.node().get_int("axis", 0), rank);
  Dims output = *input;
  if (context.node().get_int("keepdims", 1) != 0) {
    output[axis] = Dim::fixed(1);
  } else {
    output.erase(output.begin() + axis);
  }
  context.set_output(0, DType::i64, output);
}

void top_k_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Node& node = context.node();
  const Dims* input = context.input_shape(0);
  if (!input) {
    context.set_output(0, context.input_dtype(0), std::nullopt);
    context.set_output(1, DType::i64, std::nullopt);
    return;
  }
  const int64_t rank = static_cast<int64_t>(input->size());
  const int64_t axis = context.normalize_axis(node.get_int("axis", -1), rank);
  Dim k = unknown_dim();
  if (node.has_attribute("k")) {
    k = Dim::fixed(node.get_int("k", 0));
  } else if (std::optional<std::vector<int64_t>> given = context.constant_ints(1)) {
    if (given->size() != 1) context.fail("K must hold one value");
    k = Dim::fixed((*given)[0]);
  }
  if (k.is_static()) {
    if (k.value < 0) context.fail("K must not be negative");
    if ((*input)[axis].is_static() && k.value > (*input)[axis].value) {
      context.fail("K = " + std::to_string(k.value) + " is larger than the axis size " + std::to_string((*input)[axis].value));
    }
  }
  Dims output = *input;
  output[axis] = k;
  context.set_output(0, context.input_dtype(0), output);
  context.set_output(1, DType::i64, output);
}

void batch_normalization_rule(ShapeInferenceContext& context) {
  context.require_inputs(5);
  context.set_output_like_input(0, 0);
  // Training outputs: running mean and variance (and, before opset 14, the saved ones), one per channel.
  for (size_t i = 1; i < context.output_count(); ++i) context.set_output_like_input(i, 3);
}

void layer_normalization_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  context.set_output_like_input(0, 0);
  const Dims* input = context.input_shape(0);
  if (!input) return;
  const int64_t rank = static_cast<int64_t>(input->size());
  const int64_t axis = context.normalize_axis(context.node().get_int("axis", -1), rank);
  // Mean and InvStdDev keep the leading dims, with 1 for each normalized one, in the stash type.
  Dims statistics = *input;
  for (int64_t i = axis; i < rank; ++i) statistics[i] = Dim::fixed(1);
  const DType stash = context.node().get_int("stash_type", 1) == 1 ? DType::f32 : context.input_dtype(0);
  context.set_output(1, stash, statistics);
  context.set_output(2, stash, statistics);
}

// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: per element with reduction "none", else a scalar;
// the latter's optional second output is the log-probabilities, shaped like the scores.
void loss_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const DType dtype = context.input_dtype(0);
  if (context.node().get_string("reduction", "mean") == "none") {
    const Dims* target = context.input_shape(1);
    context.set_output(0, dtype, target ? std::optional<Dims>(*target) : std::nullopt);
  } else {
    context.set_output(0, dtype, Dims{});
  }
  if (context.output_count() > 1) context.set_output_like_input(1, 0);
}

}  // namespace

void register_reduction_shape_rules(ShapeRuleTable& table) {
  for (const char* op : {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
                         "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare"}) {
    table[op] = reduce_rule;
  }
  table["ArgMax"] = arg_reduce_rule;
  table["ArgMin"] = arg_reduce_rule;
  table["TopK"] = top_k_rule;
  for (const char* op : {"Softmax", "LogSoftmax", "Hardmax", "InstanceNormalization", "LRN",
                         "MeanVarianceNormalization", "LpNormalization"}) {
    table[op] = same_as_first_input;
  }
  table["BatchNormalization"] = batch_normalization_rule;
  table["LayerNormalization"] = layer_normalization_rule;
  table["NegativeLogLikelihoodLoss"] = loss_rule;
  table["SoftmaxCrossEntropyLoss"] = loss_rule;
}

}  // namespace npukit::ir
