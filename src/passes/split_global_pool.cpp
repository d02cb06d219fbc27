#include "passes/split_global_pool.h"

#include <algorithm>
#include <string>

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

// (kernel, stride) per step along one axis.
using AxisSteps = std::vector<std::pair<int64_t, int64_t>>;

// Tiling windows (kernel = stride), the largest dividing factor first, that take `size` to at most
// `max_global`; nullopt when some remainder above `max_global` has no factor within `max_window`.
std::optional<AxisSteps> tiling_steps(int64_t size, int64_t max_window, int64_t max_global) {
  AxisSteps steps;
  while (size > max_global) {
    int64_t factor = 0;
    for (int64_t candidate = std::min(max_window, size); candidate >= 2; --candidate) {
      if (size % candidate == 0) {
        factor = candidate;
        break;
      }
    }
    if (factor == 0) return std::nullopt;
    steps.push_back({factor, factor});
    size /= factor;
  }
  return steps;
}

// Covering windows (stride <= kernel, the last window ending at the edge) for the maximum: each step picks
// the kernel and stride that leave the fewest positions. Always exists: kernel 2 stride 1 shrinks by one.
AxisSteps covering_steps(int64_t size, int64_t max_window, int64_t max_global) {
  AxisSteps steps;
  while (size > max_global) {
    int64_t best_kernel = 2, best_stride = 1, best_left = size - 1;
    for (int64_t kernel = 2; kernel <= std::min(max_window, size); ++kernel) {
      for (int64_t stride = 1; stride <= kernel; ++stride) {
        if ((size - kernel) % stride != 0) continue;
        const int64_t left = (size - kernel) / stride + 1;
        if (left < best_left) {
          best_kernel = kernel;
          best_stride = stride;
          best_left = left;
        }
      }
    }
    steps.push_back({best_kernel, best_stride});
    size = best_left;
  }
  return steps;
}

std::optional<AxisSteps> axis_steps(int64_t size, int64_t max_window, int64_t max_global, bool overlapping_windows) {
  std::optional<AxisSteps> tiling = tiling_steps(size, max_window, max_global);
  if (tiling || !overlapping_windows) return tiling;
  return covering_steps(size, max_window, max_global);
}

std::string size_text(int64_t height, int64_t width) { return std::to_string(height) + "×" + std::to_string(width); }

}  // namespace

std::optional<PoolSteps> plan_global_pool_chain(int64_t height, int64_t width, int64_t max_window, int64_t max_global,
                                                bool overlapping_windows) {
  if (height <= 0 || width <= 0 || max_global < 1 || max_window < 2) return std::nullopt;
  std::optional<AxisSteps> rows = axis_steps(height, max_window, max_global, overlapping_windows);
  std::optional<AxisSteps> columns = axis_steps(width, max_window, max_global, overlapping_windows);
  if (!rows || !columns) return std::nullopt;
  PoolSteps steps(std::max(rows->size(), columns->size()));
  for (size_t i = 0; i < rows->size(); ++i) {
    steps[i].kernel_height = (*rows)[i].first;
    steps[i].stride_height = (*rows)[i].second;
  }
  for (size_t i = 0; i < columns->size(); ++i) {
    steps[i].kernel_width = (*columns)[i].first;
    steps[i].stride_width = (*columns)[i].second;
  }
  return steps;
}

std::optional<std::pair<int64_t, int64_t>> global_pool_map_size(const ir::Node& node) {
  if ((node.op_type != "GlobalAveragePool" && node.op_type != "GlobalMaxPool") || !node.domain.empty()) return std::nullopt;
  auto dims = static_dims_of(node.input(0));
  if (!dims || dims->size() != 4) return std::nullopt;
  return std::make_pair((*dims)[2], (*dims)[3]);
}

PassResult split_global_pool(ir::Model& model, const GlobalPoolLimits& average, const GlobalPoolLimits& maximum,
                             const NodeFilter& filter) {
  PassResult result;
  result.pass = "split-global-pool";
  ir::Graph& graph = *model.graph;
  struct Planned {
    ir::Node* node;
    PoolSteps steps;
  };
  std::vector<Planned> planned;
  for (const auto& node : graph.nodes()) {
    std::optional<std::pair<int64_t, int64_t>> size = global_pool_map_size(*node);
    if (!size || !filter(*node)) continue;
    const GlobalPoolLimits& limits = node->op_type == "GlobalAveragePool" ? average : maximum;
    if (limits.max_global <= 0 || limits.max_window <= 0) continue;
    std::optional<PoolSteps> steps = plan_global_pool_chain(size->first, size->second, limits.max_window, limits.max_global,
                                                            node->op_type == "GlobalMaxPool");
    if (!steps) {
      result.notes.push_back(node->op_type + " " + node->describe() + " over " + size_text(size->first, size->second) +
                             " kept: no exact chain of windows of at most " + std::to_string(limits.max_window) +
                             " takes it to " + std::to_string(limits.max_global) + " or less (a prime factor is too large)");
      continue;
    }
    if (!steps->empty()) planned.push_back({node.get(), *steps});
  }
  for (const Planned& plan : planned) {
    ir::Node* pool = plan.node;
    const bool is_average = pool->op_type == "GlobalAveragePool";
    const std::string windowed_op = is_average ? "AveragePool" : "MaxPool";
    const std::string global_op = pool->op_type;
    const std::string name = pool->name.empty() ? (is_average ? "global_average_pool" : "global_max_pool") : pool->name;
    ir::Value* x = pool->input(0);
    ir::Value* y = pool->output(0);
    std::vector<int64_t> dims = *static_dims_of(x);
    const std::string original_size = size_text(dims[2], dims[3]);
    graph.remove_node(pool);
    std::string chain;
    ir::Value* current = x;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const PoolStep& window = plan.steps[i];
      dims[2] = (dims[2] - window.kernel_height) / window.stride_height + 1;
      dims[3] = (dims[3] - window.kernel_width) / window.stride_width + 1;
      const std::string step_name = name + ".step" + std::to_string(i + 1);
      ir::Value* pooled = add_typed_value(graph, step_name, x->type.dtype, dims);
      ir::Node* step = graph.add_node(windowed_op, {current}, {pooled}, step_name);
      step->attributes["kernel_shape"] = integers_attribute({window.kernel_height, window.kernel_width});
      step->attributes["strides"] = integers_attribute({window.stride_height, window.stride_width});
      chain += " → " + windowed_op + " " + size_text(window.kernel_height, window.kernel_width) + " stride " +
               size_text(window.stride_height, window.stride_width);
      current = pooled;
    }
    graph.add_node(global_op, {current}, {y}, name);
    result.notes.push_back(global_op + " '" + name + "' over " + original_size + chain + " → " + global_op + " over " +
                           size_text(dims[2], dims[3]));
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
