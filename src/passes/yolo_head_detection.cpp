#include "passes/yolo_head_detection.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>

namespace npukit::passes {

namespace {


bool moves_data_only(const std::string& op) {
  return op == "Reshape" || op == "Transpose" || op == "Split" || op == "Slice" || op == "Concat" ||
         op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity";
}

// The inputs that carry the data (not the shape or index operands) of a data-movement op.
std::vector<ir::Value*> data_inputs(const ir::Node& node) {
  if (node.op_type == "Concat") return node.inputs;
  return {node.input(0)};
}

// A 1×1 Conv with weight [1, bins, 1, 1] holding 0, 1, …, bins-1 and no bias: the DFL expectation.
std::optional<int64_t> dfl_bins(const ir::Node& node) {
  if (node.op_type != "Conv" || node.input(2)) return std::nullopt;
  const ir::Value* weight = node.input(1);
  if (!weight || !weight->initializer) return std::nullopt;
  const Tensor& values = *weight->initializer;
  const Shape& shape = values.shape();
  if (shape.size() != 4 || shape[0] != 1 || shape[2] != 1 || shape[3] != 1 || shape[1] < 2) return std::nullopt;
  for (int64_t i = 0; i < shape[1]; ++i) {
    if (values.value_as_double(i) != static_cast<double>(i)) return std::nullopt;
  }
  return shape[1];
}

std::pair<int64_t, int64_t> graph_image_size(const ir::Graph& graph) {
  for (const ir::Value* input : graph.inputs) {
    auto dims = ir::static_dims_of(input);
    if (dims && dims->size() == 4) return {(*dims)[2], (*dims)[3]};
  }
  return {0, 0};
}

std::set<const ir::Node*> descendants(const std::vector<ir::Node*>& roots) {
  std::set<const ir::Node*> reached;
  std::deque<const ir::Node*> queue;
  for (const ir::Node* root : roots) {
    for (const ir::Value* output : root->outputs) {
      if (!output) continue;
      for (const ir::Node* consumer : output->consumers) queue.push_back(consumer);
    }
  }
  while (!queue.empty()) {
    const ir::Node* node = queue.front();
    queue.pop_front();
    if (!reached.insert(node).second) continue;
    for (const ir::Value* output : node->outputs) {
      if (!output) continue;
      for (const ir::Node* consumer : output->consumers) queue.push_back(consumer);
    }
  }
  return reached;
}

// Anchor sizes of one anchor-based level: a constant [1, A, h, w, 2] (or [1, A, 1, 1, 2]) in its decode
// whose pairs are the same at every cell and positive — the anchor grid. The cell grid varies by cell.
std::vector<float> find_anchors(const ir::Node* head_conv, int64_t anchors_per_cell) {
  for (const ir::Node* node : descendants({const_cast<ir::Node*>(head_conv)})) {
    for (const ir::Value* input : node->inputs) {
      if (!input || !input->initializer) continue;
      const Tensor& values = *input->initializer;
      const Shape& shape = values.shape();
      if (shape.size() != 5 || shape[1] != anchors_per_cell || shape[4] != 2) continue;
      const int64_t cells = shape[2] * shape[3];
      std::vector<float> anchors;
      bool consistent = true;
      for (int64_t anchor = 0; anchor < anchors_per_cell && consistent; ++anchor) {
        const int64_t base = anchor * cells * 2;
        const double w = values.value_as_double(base), h = values.value_as_double(base + 1);
        consistent = w > 0 && h > 0;
        for (int64_t cell = 1; cell < cells && consistent; ++cell) {
          consistent = values.value_as_double(base + cell * 2) == w && values.value_as_double(base + cell * 2 + 1) == h;
        }
        anchors.push_back(static_cast<float>(w));
        anchors.push_back(static_cast<float>(h));
      }
      if (consistent) return anchors;
    }
  }
  return {};
}

std::optional<YoloHead> find_anchor_free_head(const ir::Graph& graph) {
  for (const auto& owned : graph.nodes()) {
    const ir::Node& softmax = *owned;
    if (softmax.op_type != "Softmax" || !softmax.output(0)) continue;
    std::optional<int64_t> bins;
    for (const ir::Node* consumer : softmax.output(0)->consumers) {
      const ir::Node* candidate = consumer;
      if (candidate->op_type == "Transpose" && candidate->output(0) && candidate->output(0)->consumers.size() == 1) {
        candidate = candidate->output(0)->consumers.front();
      }
      if ((bins = dfl_bins(*candidate))) break;
    }
    if (!bins) continue;
    // Walk back to the Convs that feed the DFL through data movement only.
    std::vector<ir::Node*> convs;
    std::set<const ir::Value*> seen;
    std::deque<ir::Value*> queue{softmax.input(0)};
    while (!queue.empty()) {
      ir::Value* value = queue.front();
      queue.pop_front();
      if (!value || !seen.insert(value).second || !value->producer) continue;
      ir::Node* producer = value->producer;
      if (producer->op_type == "Conv") {
        if (std::find(convs.begin(), convs.end(), producer) == convs.end()) convs.push_back(producer);
      } else if (moves_data_only(producer->op_type)) {
        for (ir::Value* input : data_inputs(*producer)) queue.push_back(input);
      }
    }
    YoloHead head;
    head.family = YoloFamily::anchor_free;
    head.reg_max = *bins;
    std::tie(head.input_height, head.input_width) = graph_image_size(graph);
    std::map<std::pair<int64_t, int64_t>, YoloLevel> levels;
    for (ir::Node* conv : convs) {
      auto dims = ir::static_dims_of(conv->output(0));
      if (!dims || dims->size() != 4) return std::nullopt;
      YoloLevel& level = levels[{(*dims)[2], (*dims)[3]}];
      level.height = (*dims)[2];
      level.width = (*dims)[3];
      if ((*dims)[1] == 4 * head.reg_max && !level.box_conv) {
        level.box_conv = conv;
      } else {
        if (level.class_conv) return std::nullopt;
        level.class_conv = conv;
        head.class_count = (*dims)[1];
      }
    }
    std::vector<ir::Node*> roots;
    for (auto& [size, level] : levels) {
      if (!level.box_conv || !level.class_conv) return std::nullopt;
      level.stride = level.height > 0 && head.input_height > 0 ? head.input_height / level.height : 0;
      roots.push_back(level.box_conv);
      roots.push_back(level.class_conv);
      head.levels.push_back(level);
    }
    if (head.levels.empty()) return std::nullopt;
    std::sort(head.levels.begin(), head.levels.end(), [](const YoloLevel& a, const YoloLevel& b) { return a.stride < b.stride; });
    head.postprocess = descendants(roots);
    return head;
  }
  return std::nullopt;
}

std::optional<YoloHead> find_anchor_based_head(const ir::Graph& graph) {
  YoloHead head;
  head.family = YoloFamily::anchor_based;
  std::tie(head.input_height, head.input_width) = graph_image_size(graph);
  std::vector<ir::Node*> roots;
  for (const auto& owned : graph.nodes()) {
    ir::Node* conv = owned.get();
    if (conv->op_type != "Conv" || !conv->output(0)) continue;
    auto conv_dims = ir::static_dims_of(conv->output(0));
    if (!conv_dims || conv_dims->size() != 4) continue;
    for (const ir::Node* consumer : conv->output(0)->consumers) {
      if (consumer->op_type != "Reshape") continue;
      auto dims = ir::static_dims_of(consumer->output(0));
      // [batch, anchors, 5 + classes, H, W] with the Conv's H and W.
      if (!dims || dims->size() != 5 || (*dims)[3] != (*conv_dims)[2] || (*dims)[4] != (*conv_dims)[3] ||
          (*dims)[1] * (*dims)[2] != (*conv_dims)[1] || (*dims)[2] <= 5) {
        continue;
      }
      const ir::Value* reshaped = consumer->output(0);
      bool to_channels_last = std::any_of(reshaped->consumers.begin(), reshaped->consumers.end(), [](const ir::Node* next) {
        return next->op_type == "Transpose" && next->get_ints("perm") == std::vector<int64_t>{0, 1, 3, 4, 2};
      });
      if (!to_channels_last) continue;
      if (head.anchors_per_cell && (head.anchors_per_cell != (*dims)[1] || head.class_count != (*dims)[2] - 5)) continue;
      head.anchors_per_cell = (*dims)[1];
      head.class_count = (*dims)[2] - 5;
      YoloLevel level;
      level.box_conv = conv;
      level.height = (*conv_dims)[2];
      level.width = (*conv_dims)[3];
      level.stride = level.height > 0 && head.input_height > 0 ? head.input_height / level.height : 0;
      level.anchors = find_anchors(conv, head.anchors_per_cell);
      head.levels.push_back(level);
      roots.push_back(conv);
      break;
    }
  }
  if (head.levels.empty()) return std::nullopt;
  std::sort(head.levels.begin(), head.levels.end(), [](const YoloLevel& a, const YoloLevel& b) { return a.stride < b.stride; });
  head.postprocess = descendants(roots);
  return head;
}

}  // namespace

std::optional<YoloHead> find_yolo_head(const ir::Graph& graph) {
  if (auto head = find_anchor_free_head(graph)) return head;
  return find_anchor_based_head(graph);
}

}  // namespace npukit::passes
