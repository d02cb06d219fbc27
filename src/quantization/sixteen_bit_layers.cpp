#include "quantization/sixteen_bit_layers.h"

#include <set>

#include "npukit/error.h"

namespace npukit::quantization {

namespace {

std::string listed_dtypes(const targets::TargetProfile& target) {
  std::string listed;
  for (const std::string& dtype : target.dtypes) listed += (listed.empty() ? "" : ", ") + dtype;
  return listed.empty() ? std::string("no data types") : listed;
}

bool is_unsigned_grid(targets::StorageGrid grid) {
  return grid == targets::StorageGrid::uint8 || grid == targets::StorageGrid::uint16 || grid == targets::StorageGrid::uint4;
}

}  // namespace

std::optional<targets::StorageGrid> sixteen_bit_activation_grid(const targets::TargetProfile& target, std::string& why) {
  bool lists_int16 = false;
  for (const std::string& dtype : target.dtypes) {
    // "int16", "int16 (dynamic_fixed_point)"; not "int16 weights only" (no profile says that today).
    if (dtype.rfind("int16", 0) == 0 || dtype.rfind("uint16", 0) == 0) lists_int16 = true;
  }
  if (!lists_int16) {
    why = "its profile lists " + listed_dtypes(target);
    return std::nullopt;
  }
  if (!target.numerics.present) {
    why = "its profile has no numerics section";
    return std::nullopt;
  }
  return is_unsigned_grid(target.numerics.activations.storage.value) ? targets::StorageGrid::uint16
                                                                     : targets::StorageGrid::int16;
}

targets::StorageGrid require_sixteen_bit_activations(const targets::TargetProfile& target, const std::string& option) {
  std::string why;
  const std::optional<targets::StorageGrid> grid = sixteen_bit_activation_grid(target, why);
  if (!grid) {
    throw Error(ErrorKind::invalid_argument,
                option + ": target '" + target.id + "' runs no 16-bit layers (" + why +
                    "): use --keep-float N instead, or a target whose profile lists int16 (npukit targets shows them; "
                    "e.g. hailo8, hailo8l, qualcomm-htp)");
  }
  return *grid;
}

void widen_to_sixteen_bits(const ir::Graph& graph, const std::vector<std::string>& nodes, QuantizationPlan& plan) {
  std::set<std::string> groups;
  auto mark = [&](const ir::Value* value) {
    if (!value) return;
    const PlannedPoint* point = plan.find(value->name);
    if (point && point->role == PointRole::activation) groups.insert(point->scale_group);
  };
  for (const std::string& name : nodes) {
    const ir::Node* found = nullptr;
    for (const auto& node : graph.nodes()) {
      if (node->name == name) found = node.get();
    }
    if (!found) {
      throw Error(ErrorKind::invalid_argument, "16-bit layer node '" + name + "' is no node of the model (npukit "
                                               "inspect lists the node names)");
    }
    for (const ir::Value* input : found->inputs) mark(input);
    for (const ir::Value* output : found->outputs) mark(output);
  }
  for (PlannedPoint& point : plan.points) {
    if (point.role != PointRole::activation || !groups.count(point.scale_group)) continue;
    point.storage = point.storage == DType::u8 || point.storage == DType::u16 ? DType::u16 : DType::i16;
    point.narrow_range = false;
  }
}

}  // namespace npukit::quantization
