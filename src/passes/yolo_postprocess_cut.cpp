#include "passes/yolo_postprocess_cut.h"

#include <nlohmann/json.hpp>

#include "passes/graph_editing.h"
#include "passes/yolo_head_detection.h"
#include "passes/yolo_sidecar.h"

namespace npukit::passes {

namespace {

// Makes `value` a graph output under `name` (renaming it when the name is free).
void expose_as_output(ir::Graph& graph, ir::Value* value, const std::string& name) {
  if (!graph.find_value(name)) {
    ir::Value* renamed = graph.add_value(name, value->type);
    ir::Node* producer = value->producer;
    for (ir::Value*& output : producer->outputs) {
      if (output == value) output = renamed;
    }
    renamed->producer = producer;
    graph.replace_all_uses(value, renamed);
    graph.remove_value(value);
    value = renamed;
  }
  value->is_graph_output = true;
  graph.outputs.push_back(value);
}

// One Conv computing the rows `rows` of `conv`'s output channels: same input, attributes and weights.
ir::Value* conv_with_rows(ir::Graph& graph, const ir::Node& conv, const std::vector<int64_t>& rows,
                          const std::string& output_name) {
  const Tensor& weight = *conv.input(1)->initializer;
  const Shape& shape = weight.shape();
  const int64_t row_size = shape_element_count(shape) / shape[0];
  std::vector<int64_t> new_shape(shape.begin(), shape.end());
  new_shape[0] = static_cast<int64_t>(rows.size());
  std::vector<float> weights, biases;
  for (int64_t row : rows) {
    for (int64_t i = 0; i < row_size; ++i) weights.push_back(static_cast<float>(weight.value_as_double(row * row_size + i)));
    if (conv.input(2)) biases.push_back(static_cast<float>(conv.input(2)->initializer->value_as_double(row)));
  }
  std::vector<ir::Value*> inputs = {conv.input(0), add_float_constant(graph, output_name + ".weight", new_shape, weights)};
  if (conv.input(2)) inputs.push_back(add_float_constant(graph, output_name + ".bias", {new_shape[0]}, biases));
  // The Conv's output type with the channel count changed: a dynamic batch stays dynamic.
  ir::TensorType type = conv.output(0)->type;
  (*type.shape)[1] = ir::Dim::fixed(new_shape[0]);
  ir::Value* output = graph.add_value(unused_value_name(graph, output_name), type);
  ir::Node* node = graph.add_node("Conv", inputs, {output}, output_name);
  node->attributes = conv.attributes;
  return output;
}

bool has_float_constant_weights(const ir::Node& conv) {
  for (size_t i = 1; i < conv.inputs.size(); ++i) {
    const ir::Value* input = conv.input(i);
    if (input && (!input->initializer || input->initializer->dtype() != DType::f32)) return false;
  }
  const ir::Value* output = conv.output(0);
  return conv.input(1) && output && output->type.shape && output->type.shape->size() == 4;
}

bool image_size_is_static(const ir::Graph& graph) {
  for (const ir::Value* input : graph.inputs) {
    if (input->initializer || !input->type.shape) continue;
    for (size_t axis = 1; axis < input->type.shape->size(); ++axis) {
      if (!(*input->type.shape)[axis].is_static()) return false;
    }
  }
  return true;
}

}  // namespace

YoloCutResult cut_yolo_postprocess(ir::Model& model) {
  YoloCutResult result;
  result.pass.pass = "cut-yolo-postprocess";
  ir::Graph& graph = *model.graph;
  YoloHeadSearch search = search_yolo_head(graph);
  if (!search.head) {
    // Never silent: either why a detector-looking graph was not matched, or that nothing looked like one.
    result.pass.notes = search.notes;
    if (result.pass.notes.empty()) {
      result.pass.notes.push_back(std::string("no YOLO head (no DFL, no 5-D anchor reshape, no per-stride head maps); ") +
                                  (image_size_is_static(graph) ? "nothing cut" : "nothing cut; with a dynamic input size, give --input-shape"));
    }
    return result;
  }
  std::optional<YoloHead>& head = search.head;
  if (head->input_height <= 0) {
    result.pass.notes.push_back("YOLO head found, but the input size is dynamic: give --input-shape; not cut");
    return result;
  }

  if (head->family == YoloFamily::anchor_based) {
    for (const YoloLevel& level : head->levels) {
      if (has_float_constant_weights(*level.box_conv)) continue;
      result.pass.notes.push_back("YOLO head Conv " + level.box_conv->describe() + " has no constant float32 weights "
                                  "to split into box and score Convs; not cut");
      return result;
    }
  }

  // Old outputs go with the post-processing; the head maps replace them.
  std::vector<std::string> names_before;
  for (const ir::Value* output : graph.outputs) names_before.push_back(output->name);
  for (ir::Value* output : graph.outputs) output->is_graph_output = false;
  graph.outputs.clear();
  nlohmann::json outputs = nlohmann::json::array();
  std::vector<ir::Node*> replaced_convs;
  for (const YoloLevel& level : head->levels) {
    const std::string suffix = "_stride" + std::to_string(level.stride);
    if (head->family == YoloFamily::anchor_free) {
      expose_as_output(graph, level.box_conv->output(0), "boxes" + suffix);
      expose_as_output(graph, level.class_conv->output(0), "scores" + suffix);
      outputs.push_back({{"name", graph.outputs[graph.outputs.size() - 2]->name}, {"kind", "boxes"}, {"stride", level.stride},
                         {"layout", "[batch, 4 * reg_max, H, W]: for each side (left, top, right, bottom) reg_max logits"}});
      outputs.push_back({{"name", graph.outputs.back()->name}, {"kind", "scores"}, {"stride", level.stride},
                         {"layout", "[batch, classes, H, W]: class logits"}});
      continue;
    }
    // Per anchor: rows a*(5+classes) + 0..3 are the box, the rest objectness and classes.
    const int64_t per_anchor = 5 + head->class_count;
    std::vector<int64_t> box_rows, score_rows;
    for (int64_t anchor = 0; anchor < head->anchors_per_cell; ++anchor) {
      for (int64_t i = 0; i < per_anchor; ++i) (i < 4 ? box_rows : score_rows).push_back(anchor * per_anchor + i);
    }
    ir::Value* boxes = conv_with_rows(graph, *level.box_conv, box_rows, "boxes" + suffix);
    ir::Value* scores = conv_with_rows(graph, *level.box_conv, score_rows, "scores" + suffix);
    for (ir::Value* output : {boxes, scores}) {
      output->is_graph_output = true;
      graph.outputs.push_back(output);
    }
    replaced_convs.push_back(level.box_conv);
    outputs.push_back({{"name", boxes->name}, {"kind", "boxes"}, {"stride", level.stride},
                       {"layout", "[batch, anchors * 4, H, W]: per anchor tx, ty, tw, th logits"}});
    outputs.push_back({{"name", scores->name}, {"kind", "scores"}, {"stride", level.stride},
                       {"layout", "[batch, anchors * (1 + classes), H, W]: per anchor objectness then class logits"}});
  }

  // Remove the post-processing, the replaced Convs, and whatever only fed them (grids, shape arithmetic).
  int removed = 0;
  for (const ir::Node* node : head->postprocess) {
    graph.remove_node(const_cast<ir::Node*>(node));
    ++removed;
  }
  for (ir::Node* conv : replaced_convs) {
    graph.remove_node(conv);
    ++removed;
  }
  removed += remove_unused_nodes_and_values(graph);
  graph.sort_topologically();
  graph.renumber();

  nlohmann::json sidecar = make_yolo_sidecar(model, *head, outputs, result.pass.notes);
  result.sidecar_json = sidecar.dump(2);
  std::vector<std::string> names_after;
  for (const ir::Value* output : graph.outputs) names_after.push_back(output->name);
  // A head already cut (the output of an earlier patch) matches again with nothing to do: no rewrite, so the pass
  // list reaches its fixed point; the sidecar is written all the same.
  const bool unchanged = removed == 0 && replaced_convs.empty() && names_after == names_before;
  result.pass.rewrites = unchanged ? 0 : static_cast<int>(head->levels.size());
  if (unchanged) {
    result.pass.notes.insert(result.pass.notes.begin(), "the head maps are already the outputs (" +
                                                            std::to_string(head->levels.size()) + " levels): nothing to cut");
    return result;
  }
  const std::string what = head->decode_in_graph ? "cut " + std::to_string(removed) + " post-processing nodes; "
                                                 : std::string("raw head, no decode to cut; ");
  result.pass.notes.insert(result.pass.notes.begin(), what +
                              std::to_string(graph.outputs.size()) + " head outputs (" +
                              std::to_string(head->levels.size()) + " levels, box and score apart)");
  return result;
}

}  // namespace npukit::passes
