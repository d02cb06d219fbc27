#include "passes/fold_input_normalization.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "npukit/error.h"
#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

[[noreturn]] void refuse(const std::string& why) {
  throw Error(ErrorKind::invalid_argument, "cannot fold the normalization: " + why);
}

std::string join_numbers(const std::vector<double>& values) {
  std::ostringstream text;
  for (size_t i = 0; i < values.size(); ++i) text << (i ? "," : "") << values[i];
  return text.str();
}

}  // namespace

NormalizationFold fold_input_normalization(ir::Model& model, const InputNormalization& normalization) {
  NormalizationFold fold;
  fold.pass.pass = "fold-normalization";
  ir::Graph& graph = *model.graph;
  if (graph.inputs.size() != 1) {
    refuse("the model has " + std::to_string(graph.inputs.size()) + " inputs; folding needs exactly one image input");
  }
  ir::Value* input = graph.inputs.front();
  auto dims = static_dims_of(input);
  if (!dims || dims->size() != 4 || input->type.dtype != DType::f32) {
    refuse("input '" + input->name + "' is " + input->type.to_string() +
           ", not a static 4-D float32 [N, C, H, W] tensor (give --input-shape)");
  }
  const int64_t channels = (*dims)[1];
  auto per_channel = [&](const std::vector<double>& values, const char* what) {
    if (values.size() == 1) return std::vector<double>(static_cast<size_t>(channels), values.front());
    if (static_cast<int64_t>(values.size()) != channels) {
      refuse(std::string(what) + " has " + std::to_string(values.size()) + " values but input '" + input->name +
             "' has " + std::to_string(channels) + " channels");
    }
    return values;
  };
  const std::vector<double> mean = per_channel(normalization.mean, "mean");
  const std::vector<double> deviation = per_channel(normalization.std, "std");
  for (double value : deviation) {
    if (value == 0) refuse("a std of 0 divides by zero");
  }
  if (input->is_graph_output) refuse("input '" + input->name + "' is also a graph output");
  if (input->consumers.empty()) refuse("input '" + input->name + "' is not read by any node");
  for (const ir::Node* consumer : input->consumers) {
    if (consumer->op_type != "Conv" || consumer->input(0) != input) {
      refuse("input '" + input->name + "' is read by " + consumer->describe() +
             ", not only as the data of a Conv: the normalization has no weights to go into (run it on the host)");
    }
    const ir::Value* weight = consumer->input(1);
    if (!constant_of(weight) || weight->type.dtype != DType::f32 || !static_dims_of(weight) ||
        static_dims_of(weight)->size() != 4) {
      refuse(consumer->describe() + " has no constant float32 4-D weight to fold into");
    }
    if (consumer->input(2) && (!constant_of(consumer->input(2)) || consumer->input(2)->type.dtype != DType::f32)) {
      refuse(consumer->describe() + " has a bias that is not a constant float32");
    }
  }

  // Each Conv: 1/std into its weights; the mean into its bias when it does not pad, else into one shared Sub.
  std::vector<ir::Node*> convs(input->consumers.begin(), input->consumers.end());
  const size_t conv_count = convs.size();
  bool any_padded = false;
  for (ir::Node* conv : convs) {
    const std::vector<int64_t> pads = conv->get_ints("pads", std::vector<int64_t>(4, 0));
    const std::string auto_pad = conv->get_string("auto_pad", "NOTSET");
    bool padded = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
    for (int64_t pad : pads) padded = padded || pad != 0;
    any_padded = any_padded || padded;
  }
  // A zero mean (YOLO's x / 255) pads the same zeros raw or normalized: nothing to keep in front.
  if (std::all_of(mean.begin(), mean.end(), [](double value) { return value == 0; })) any_padded = false;
  fold.mean_kept_as_sub = any_padded;
  for (ir::Node* conv : convs) {
    const Tensor& weight = *conv->input(1)->initializer;
    const std::vector<int64_t> shape = *static_dims_of(conv->input(1));
    const int64_t outputs = shape[0], per_group = shape[1], taps = shape[2] * shape[3];
    const int64_t group = conv->get_int("group", 1);
    if (group < 1 || per_group * group != channels || outputs % group != 0) {
      refuse(conv->describe() + " weight " + conv->input(1)->type.to_string() + " does not match the input's " +
             std::to_string(channels) + " channels");
    }
    std::vector<float> scaled(weight.values<float>().begin(), weight.values<float>().end());
    std::vector<float> bias(static_cast<size_t>(outputs), 0.0f);
    if (conv->input(2)) {
      const auto values = conv->input(2)->initializer->values<float>();
      if (static_cast<int64_t>(values.size()) != outputs) refuse(conv->describe() + " bias size differs from its outputs");
      bias.assign(values.begin(), values.end());
    }
    for (int64_t o = 0; o < outputs; ++o) {
      const int64_t first_channel = (o / (outputs / group)) * per_group;
      double correction = 0;
      for (int64_t ci = 0; ci < per_group; ++ci) {
        const size_t c = static_cast<size_t>(first_channel + ci);
        for (int64_t t = 0; t < taps; ++t) {
          const size_t at = static_cast<size_t>((o * per_group + ci) * taps + t);
          correction += static_cast<double>(scaled[at]) * mean[c] / deviation[c];
          scaled[at] = static_cast<float>(static_cast<double>(scaled[at]) / deviation[c]);
        }
      }
      if (!any_padded) bias[static_cast<size_t>(o)] = static_cast<float>(bias[static_cast<size_t>(o)] - correction);
    }
    // The Conv again, reading the new weight and bias (the old constants may be shared, so they stay).
    const std::string name = conv->name.empty() ? "conv" : conv->name;
    ir::Value* new_weight = add_float_constant(graph, name + ".weight_normalized", shape, scaled);
    ir::Value* new_bias = add_float_constant(graph, name + ".bias_normalized", {outputs}, bias);
    std::vector<ir::Value*> outputs_of_conv = conv->outputs;
    std::map<std::string, ir::Attribute> attributes = conv->attributes;
    const std::string conv_name = conv->name;
    graph.remove_node(conv);
    ir::Node* rebuilt = graph.add_node("Conv", {input, new_weight, new_bias}, outputs_of_conv, conv_name);
    rebuilt->attributes = attributes;
  }

  // The front: raw input → [Transpose NHWC→NCHW] → [Cast to float] → [Sub mean] → the Convs.
  ir::Value* front = add_typed_value(graph, input->name + ".normalized", DType::f32, *dims);
  graph.replace_all_uses(input, front);
  ir::Value* current = input;
  std::vector<int64_t> raw_shape = *dims;
  if (normalization.nhwc_input) raw_shape = {(*dims)[0], (*dims)[2], (*dims)[3], (*dims)[1]};
  input->type.dtype = normalization.uint8_input ? DType::u8 : DType::f32;
  input->type.shape = std::vector<ir::Dim>();
  for (int64_t dim : raw_shape) input->type.shape->push_back(ir::Dim::fixed(dim));
  auto step = [&](const std::string& op, DType dtype, const std::vector<int64_t>& shape, bool last) {
    ir::Value* out = last ? front : add_typed_value(graph, input->name + "." + op, dtype, shape);
    ir::Node* node = graph.add_node(op, {current}, {out}, input->name + "." + op);
    current = out;
    return node;
  };
  const bool needs_cast = normalization.uint8_input, needs_sub = any_padded;
  if (normalization.nhwc_input) {
    ir::Node* transpose = step("Transpose", input->type.dtype, *dims, !needs_cast && !needs_sub);
    transpose->attributes["perm"] = integers_attribute({0, 3, 1, 2});
  }
  if (needs_cast) {
    ir::Node* cast = step("Cast", DType::f32, *dims, !needs_sub);
    cast->attributes["to"] = integer_attribute(static_cast<int64_t>(1));  // TensorProto FLOAT
  }
  if (needs_sub) {
    std::vector<float> values(mean.begin(), mean.end());
    ir::Value* means = add_float_constant(graph, input->name + ".mean", {1, channels, 1, 1}, values);
    ir::Value* out = front;
    graph.add_node("Sub", {current, means}, {out}, input->name + ".subtract_mean");
    current = out;
  }
  if (current != front) {
    // Nothing in front (float NCHW input, unpadded Convs): the Convs read the raw input directly.
    graph.replace_all_uses(front, input);
  }
  tidy_after_rewrites(graph);

  fold.input_name = input->name;
  fold.raw_shape = raw_shape;
  fold.raw_dtype = normalization.uint8_input ? "uint8" : "float32";
  fold.raw_layout = normalization.nhwc_input ? "NHWC" : "NCHW";
  fold.pass.rewrites = static_cast<int>(conv_count);
  fold.pass.notes.push_back("input '" + input->name + "' now takes raw " + fold.raw_dtype + " " + fold.raw_layout +
                            "; (x − [" + join_numbers(mean) + "]) / [" + join_numbers(deviation) + "] folded into " +
                            std::to_string(conv_count) + " Conv" + (conv_count == 1 ? "" : "s"));
  if (any_padded) {
    fold.pass.notes.push_back("the first Conv pads with zeros of the normalized input (raw value = mean), so the mean "
                              "stays as one Sub before it; 1/std is in its weights");
  }
  return fold;
}

}  // namespace npukit::passes
