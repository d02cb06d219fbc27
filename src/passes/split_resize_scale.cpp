#include "passes/split_resize_scale.h"

#include <algorithm>
#include <map>

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

// Nearest resizing by integer factors is the plain floor(i / s) mapping in these modes.
bool maps_by_floor(const ir::Node& node) {
  if (node.get_string("mode", "nearest") != "nearest") return false;
  const std::string coordinates = node.get_string("coordinate_transformation_mode", "half_pixel");
  const std::string rounding = node.get_string("nearest_mode", "round_prefer_floor");
  if (coordinates == "asymmetric") return rounding == "floor";
  if (coordinates == "half_pixel" || coordinates == "pytorch_half_pixel") {
    return rounding == "round_prefer_floor" || rounding == "round_prefer_ceil";
  }
  return false;
}

// a · b = factor with both in [low, high], a as large as possible; 0 when there is none.
int64_t first_factor(int64_t factor, int64_t low, int64_t high) {
  for (int64_t a = std::min(factor, high); a >= low; --a) {
    if (factor % a == 0 && factor / a >= low && factor / a <= high) return a;
  }
  return 0;
}

}  // namespace

PassResult split_resize_scale(ir::Model& model, int64_t min_factor, int64_t max_factor, const NodeFilter& filter) {
  PassResult result;
  result.pass = "split-resize-scale";
  ir::Graph& graph = *model.graph;
  if (max_factor < 2) return result;
  min_factor = std::max<int64_t>(min_factor, 2);
  std::vector<ir::Node*> resizes;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Resize" && filter(*node) && maps_by_floor(*node)) resizes.push_back(node.get());
  }
  for (ir::Node* resize : resizes) {
    auto in = static_dims_of(resize->input(0));
    auto out = static_dims_of(resize->output(0));
    if (!in || !out || in->size() != 4 || out->size() != 4 || (*in)[0] != (*out)[0] || (*in)[1] != (*out)[1]) continue;
    std::vector<int64_t> first(2), second(2);
    bool splittable = true, needed = false;
    for (int axis = 0; axis < 2; ++axis) {
      const int64_t from = (*in)[axis + 2], to = (*out)[axis + 2];
      if (from <= 0 || to % from) {
        splittable = false;
        break;
      }
      const int64_t factor = to / from;
      if (factor == 1 || (factor >= min_factor && factor <= max_factor)) {
        first[axis] = factor;
        second[axis] = 1;
        continue;
      }
      needed = true;
      first[axis] = first_factor(factor, min_factor, max_factor);
      if (!first[axis]) {
        splittable = false;
        break;
      }
      second[axis] = factor / first[axis];
    }
    if (!splittable || !needed) continue;
    const std::string name = resize->name.empty() ? "resize" : resize->name;
    std::map<std::string, ir::Attribute> attributes = resize->attributes;
    ir::Value* x = resize->input(0);
    ir::Value* y = resize->output(0);
    graph.remove_node(resize);
    ir::Value* middle = add_typed_value(graph, name + ".step1", x->type.dtype,
                                        {(*in)[0], (*in)[1], (*in)[2] * first[0], (*in)[3] * first[1]});
    auto scales = [&](const std::vector<int64_t>& factors, const std::string& suffix) {
      return add_float_constant(graph, name + suffix, {4},
                                {1.0f, 1.0f, static_cast<float>(factors[0]), static_cast<float>(factors[1])});
    };
    ir::Node* step1 = graph.add_node("Resize", {x, nullptr, scales(first, ".scales1")}, {middle}, name + ".step1");
    ir::Node* step2 = graph.add_node("Resize", {middle, nullptr, scales(second, ".scales2")}, {y}, name + ".step2");
    step1->attributes = attributes;
    step2->attributes = attributes;
    result.notes.push_back("Resize '" + name + "' ×" + std::to_string((*out)[2] / (*in)[2]) + " → ×" +
                           std::to_string(first[0]) + " then ×" + std::to_string(second[0]));
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
