// Shape rules of ops with subgraph bodies: If, Loop, Scan. Each rule gives the body's inputs the types the
// node feeds them, infers the body, and reads the outputs' types off the body's outputs.
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"

namespace npukit::ir {

namespace {

Graph* body_of(const ShapeInferenceContext& context, const std::string& key) {
  const Attribute* attribute = context.node().find_attribute(key);
  if (!attribute || attribute->kind != Attribute::Kind::graph || !attribute->graph_value) {
    context.fail("the graph attribute '" + key + "' is missing");
  }
  return attribute->graph_value.get();
}

// Gives a body input the type the node feeds it: the dtype when the body left it open, the shape when
// `replace_shape` (the node fixes it, as Scan does) or when the body declares none.
void feed_body_input(Value* body_input, DType dtype, const std::optional<Dims>& shape, bool replace_shape) {
  if (!body_input) return;
  if (body_input->type.dtype == DType::undefined) body_input->type.dtype = dtype;
  if (shape && (replace_shape || !body_input->type.shape)) body_input->type.shape = shape;
}

void if_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  Graph* then_branch = body_of(context, "then_branch");
  Graph* else_branch = body_of(context, "else_branch");
  context.infer_subgraph(*then_branch);
  context.infer_subgraph(*else_branch);
  if (then_branch->outputs.size() != context.output_count() || else_branch->outputs.size() != context.output_count()) {
    context.fail("the branches have " + std::to_string(then_branch->outputs.size()) + " and " +
                 std::to_string(else_branch->outputs.size()) + " outputs, the node " + std::to_string(context.output_count()));
  }
  for (size_t i = 0; i < context.output_count(); ++i) {
    const TensorType& first = then_branch->outputs[i]->type;
    const TensorType& second = else_branch->outputs[i]->type;
    DType dtype = first.dtype != DType::undefined ? first.dtype : second.dtype;
    if (first.dtype != DType::undefined && second.dtype != DType::undefined && first.dtype != second.dtype) {
      context.fail("output " + std::to_string(i) + " is " + first.to_string() + " in then_branch but " +
                   second.to_string() + " in else_branch");
    }
    // Where the branches disagree on a dim, the output's dim depends on the condition: unknown.
    std::optional<Dims> shape;
    if (first.shape && second.shape && first.shape->size() == second.shape->size()) {
      shape = Dims();
      for (size_t d = 0; d < first.shape->size(); ++d) {
        const Dim& a = (*first.shape)[d];
        shape->push_back(same_dim(a, (*second.shape)[d]) ? a : unknown_dim());
      }
    }
    context.set_output(i, dtype, shape);
  }
}

// Loop (M, cond, carried...): the body takes (iteration, cond, carried...) and gives (cond, carried...,
// scan outputs...). A carried value keeps its shape only when the body gives back the shape it got; a scan
// output gains a leading dim of unknown size (the trip count may depend on the condition).
void loop_rule(ShapeInferenceContext& context) {
  Graph* body = body_of(context, "body");
  const size_t carried = context.input_count() >= 2 ? context.input_count() - 2 : 0;
  if (body->inputs.size() != carried + 2 || body->outputs.size() < carried + 1) {
    context.fail("the body has " + std::to_string(body->inputs.size()) + " inputs and " +
                 std::to_string(body->outputs.size()) + " outputs for " + std::to_string(carried) + " carried values");
  }
  feed_body_input(body->inputs[0], DType::i64, Dims{}, true);
  feed_body_input(body->inputs[1], DType::boolean, Dims{}, true);
  for (size_t k = 0; k < carried; ++k) {
    const Dims* shape = context.input_shape(2 + k);
    feed_body_input(body->inputs[2 + k], context.input_dtype(2 + k), shape ? std::optional<Dims>(*shape) : std::nullopt, false);
  }
  context.infer_subgraph(*body);
  for (size_t i = 0; i < context.output_count() && i + 1 < body->outputs.size(); ++i) {
    const TensorType& produced = body->outputs[i + 1]->type;
    if (i < carried) {
      const Dims* initial = context.input_shape(2 + i);
      bool invariant = initial && produced.shape && initial->size() == produced.shape->size();
      for (size_t d = 0; invariant && d < initial->size(); ++d) invariant = same_dim((*initial)[d], (*produced.shape)[d]);
      context.set_output(i, produced.dtype != DType::undefined ? produced.dtype : context.input_dtype(2 + i),
                         invariant ? std::optional<Dims>(*initial) : std::nullopt);
      continue;
    }
    std::optional<Dims> shape;
    if (produced.shape) {
      shape = Dims{unknown_dim()};
      shape->insert(shape->end(), produced.shape->begin(), produced.shape->end());
    }
    context.set_output(i, produced.dtype, shape);
  }
}

// Scan (opset 9 on): inputs (state..., scan inputs...), each scan input sliced along its scan axis; the body
// gives (state..., scan slices...), stacked along each scan output's axis. Opset 8 (a leading
// sequence_lens input, a batch dim on everything) is recognized by its `directions` attribute or omitted
// sequence_lens.
void scan_rule(ShapeInferenceContext& context) {
  const Node& node = context.node();
  Graph* body = body_of(context, "body");
  const bool batched = node.has_attribute("directions") || (context.input_count() > 0 && !context.has_input(0));
  const size_t first = batched ? 1 : 0;
  const int64_t scan_inputs = node.get_int("num_scan_inputs", 0);
  if (scan_inputs <= 0 || context.input_count() < first + static_cast<size_t>(scan_inputs)) {
    context.fail("num_scan_inputs must be between 1 and the number of inputs");
  }
  const size_t states = context.input_count() - first - static_cast<size_t>(scan_inputs);
  if (body->inputs.size() != states + static_cast<size_t>(scan_inputs) || body->outputs.size() < states) {
    context.fail("the body's inputs and outputs do not match the node's");
  }
  const size_t skipped = batched ? 1 : 0;  // opset 8: states lose their batch dim inside the body
  auto strip = [&](const Dims& dims, size_t count) { return Dims(dims.begin() + std::min(count, dims.size()), dims.end()); };
  for (size_t k = 0; k < states; ++k) {
    const Dims* shape = context.input_shape(first + k);
    feed_body_input(body->inputs[k], context.input_dtype(first + k),
                    shape ? std::optional<Dims>(strip(*shape, skipped)) : std::nullopt, true);
  }
  const std::vector<int64_t> input_axes = node.get_ints("scan_input_axes", std::vector<int64_t>(scan_inputs, 0));
  Dim sequence_length = unknown_dim();
  Dim batch = unknown_dim();
  for (int64_t k = 0; k < scan_inputs; ++k) {
    const size_t index = first + states + static_cast<size_t>(k);
    const Dims* shape = context.input_shape(index);
    std::optional<Dims> slice;
    if (shape) {
      Dims dims = *shape;
      if (batched) {
        if (dims.size() < 2) context.fail("a scan input needs [batch, sequence, ...]");
        if (k == 0) batch = dims[0], sequence_length = dims[1];
        slice = strip(dims, 2);
      } else {
        if (static_cast<size_t>(k) >= input_axes.size()) context.fail("scan_input_axes needs one axis per scan input");
        const int64_t axis = context.normalize_axis(input_axes[k], static_cast<int64_t>(dims.size()), "scan input axis");
        if (k == 0) sequence_length = dims[axis];
        dims.erase(dims.begin() + axis);
        slice = dims;
      }
    }
    feed_body_input(body->inputs[states + k], context.input_dtype(index), slice, true);
  }
  context.infer_subgraph(*body);
  const size_t scan_outputs = body->outputs.size() - states;
  const std::vector<int64_t> output_axes =
      node.get_ints("scan_output_axes", std::vector<int64_t>(scan_outputs, 0));
  for (size_t i = 0; i < context.output_count() && i < body->outputs.size(); ++i) {
    const TensorType& produced = body->outputs[i]->type;
    if (!produced.shape) {
      context.set_output(i, produced.dtype, std::nullopt);
      continue;
    }
    Dims shape = *produced.shape;
    if (i >= states) {
      if (batched) {
        shape.insert(shape.begin(), sequence_length);
      } else {
        if (i - states >= output_axes.size()) context.fail("scan_output_axes needs one axis per scan output");
        const int64_t axis = context.normalize_axis(output_axes[i - states], static_cast<int64_t>(shape.size()) + 1,
                                                    "scan output axis");
        shape.insert(shape.begin() + axis, sequence_length);
      }
    }
    if (batched) shape.insert(shape.begin(), batch);
    context.set_output(i, produced.dtype, shape);
  }
}

}  // namespace

void register_control_flow_shape_rules(ShapeRuleTable& table) {
  table["If"] = if_rule;
  table["Loop"] = loop_rule;
  table["Scan"] = scan_rule;
}

}  // namespace npukit::ir
