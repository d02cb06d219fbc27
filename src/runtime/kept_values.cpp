#include "runtime/kept_values.h"

#include <unordered_set>

namespace npukit::runtime {

std::set<std::string> value_names(const ir::Graph& graph) {
  std::set<std::string> names;
  for (const auto& value : graph.values()) names.insert(value->name);
  return names;
}

std::vector<const ir::Value*> find_kept_values(const ir::Graph& executed, const std::vector<std::string>& requested,
                                               const std::set<std::string>& names_before_passes,
                                               const std::string& backend, const std::string& file) {
  std::vector<const ir::Value*> kept;
  std::unordered_set<const ir::Value*> seen;
  auto add = [&](const ir::Value* value) {
    if (value && !value->is_graph_output && seen.insert(value).second) kept.push_back(value);
  };
  for (const std::string& name : requested) {
    if (name == keep_all_values) {
      for (const auto& node : executed.nodes()) {
        for (const ir::Value* output : node->outputs) {
          if (output && !output->name.empty()) add(output);
        }
      }
      continue;
    }
    const ir::Value* value = executed.find_value(name);
    if (value && value->producer) {
      add(value);
      continue;
    }
    std::string reason;
    if (value && value->is_graph_input) {
      reason = "it is a graph input, not a computed value";
    } else if (value && value->initializer) {
      reason = "it is a constant (a weight, or folded to one), not a computed value";
    } else if (names_before_passes.count(name)) {
      reason = "the " + backend + " backend does not compute it: its pass list folded or fused it away (a Conv "
               "output inside a FusedConv, a SiLU's Sigmoid, a BatchNorm folded into its Conv); keep the fused "
               "node's output instead (--keep all lists what is computed), or run with --backend ref";
    } else {
      reason = "the model has no value of that name";
    }
    throw Error(ErrorKind::invalid_argument, "cannot keep '" + name + "': " + reason, file);
  }
  return kept;
}

}  // namespace npukit::runtime
