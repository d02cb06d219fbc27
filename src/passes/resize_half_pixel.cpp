#include "passes/resize_half_pixel.h"

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult resize_nearest_to_half_pixel(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "resize-half-pixel";
  for (const auto& owned : model.graph->nodes()) {
    ir::Node& node = *owned;
    if (node.op_type != "Resize" || !filter(node)) continue;
    if (node.get_string("mode", "nearest") != "nearest") continue;
    if (node.get_string("coordinate_transformation_mode", "half_pixel") != "asymmetric") continue;
    if (node.get_string("nearest_mode", "round_prefer_floor") != "floor") continue;
    auto in = static_dims_of(node.input(0));
    auto out = static_dims_of(node.output(0));
    if (!in || !out || in->size() != out->size()) continue;
    bool integer_upscale = true;
    for (size_t axis = 0; axis < in->size(); ++axis) {
      if ((*in)[axis] <= 0 || (*out)[axis] % (*in)[axis] != 0) integer_upscale = false;
    }
    if (!integer_upscale) continue;
    node.attributes["coordinate_transformation_mode"] = string_attribute("half_pixel");
    node.attributes["nearest_mode"] = string_attribute("round_prefer_floor");
    result.notes.push_back("Resize " + node.describe() + ": asymmetric/floor → half_pixel (same pixels)");
    ++result.rewrites;
  }
  return result;
}

}  // namespace npukit::passes
