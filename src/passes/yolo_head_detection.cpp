#include "passes/yolo_head_detection.h"

#include <algorithm>
#include <deque>
#include <map>

namespace npukit::passes {

namespace {

using MapSize = std::pair<int64_t, int64_t>;  // height, width

bool moves_data_only(const std::string& op) {
  return op == "Reshape" || op == "Transpose" || op == "Split" || op == "Slice" || op == "Concat" ||
         op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity";
}

// The inputs that carry the data (not the shape or index operands) of a data-movement op.
std::vector<ir::Value*> data_inputs(const ir::Node& node) {
  if (node.op_type == "Concat") return node.inputs;
  return {node.input(0)};
}

// The data inputs of an op a YOLO decode is made of; empty for any other op (the walk stops there). Shape
// operands (a Reshape's shape, Shape of a map) are not data: following them would reach unrelated Convs.
std::vector<ir::Value*> decode_data_inputs(const ir::Node& node) {
  static const std::set<std::string> first_input = {"Reshape", "Transpose", "Split",   "Slice",   "Flatten",
                                                    "Squeeze", "Unsqueeze", "Identity", "Expand",  "Tile",
                                                    "Gather",  "Sigmoid",   "Softmax",  "Exp",     "Cast",
                                                    "ReduceSum", "Clip"};
  static const std::set<std::string> every_input = {"Concat", "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};
  if (first_input.count(node.op_type)) return {node.input(0)};
  if (every_input.count(node.op_type)) return node.inputs;
  if (node.op_type == "ScatterND") return {node.input(0), node.input(2)};  // in-place slice assignment
  return {};
}

// A constant holding 0, 1, …, n-1 along one axis (every other dim 1): the DFL's bin positions.
std::optional<int64_t> arange_length(const ir::Value* value) {
  if (!value || !value->initializer) return std::nullopt;
  const Tensor& values = *value->initializer;
  const int64_t count = values.element_count();
  int64_t non_unit_dims = 0;
  for (int64_t dim : values.shape()) non_unit_dims += dim != 1;
  if (count < 2 || non_unit_dims != 1) return std::nullopt;
  for (int64_t i = 0; i < count; ++i) {
    if (values.value_as_double(i) != static_cast<double>(i)) return std::nullopt;
  }
  return count;
}

// The DFL expectation: a 1×1 Conv with weight [1, bins, 1, 1] = 0 … bins-1 and no bias (Ultralytics), or a
// MatMul by a [bins] or [bins, 1] arange (exporters that write softmax(x) @ arange).
std::optional<int64_t> dfl_bins(const ir::Node& node) {
  if (node.op_type == "Conv") {
    if (node.input(2)) return std::nullopt;
    const ir::Value* weight = node.input(1);
    if (!weight || !weight->initializer) return std::nullopt;
    const Shape& shape = weight->initializer->shape();
    if (shape.size() != 4 || shape[0] != 1 || shape[2] != 1 || shape[3] != 1) return std::nullopt;
    return arange_length(weight);
  }
  if (node.op_type == "MatMul" && node.input(1) && node.input(1)->initializer) {
    const Shape& shape = node.input(1)->initializer->shape();
    if (shape.size() == 1 || (shape.size() == 2 && shape[1] == 1)) return arange_length(node.input(1));
  }
  return std::nullopt;
}

// Height and width of a 4-D value whose spatial dims are static (the batch may be dynamic).
std::optional<MapSize> map_size(const ir::Value* value) {
  if (!value || !value->type.shape || value->type.shape->size() != 4) return std::nullopt;
  const std::vector<ir::Dim>& dims = *value->type.shape;
  if (!dims[2].is_static() || !dims[3].is_static()) return std::nullopt;
  return MapSize{dims[2].value, dims[3].value};
}

int64_t channel_count(const ir::Value* value) {
  if (!value || !value->type.shape || value->type.shape->size() < 2) return -1;
  return (*value->type.shape)[1].value;
}

MapSize graph_image_size(const ir::Graph& graph) {
  for (const ir::Value* input : graph.inputs) {
    if (input->initializer) continue;
    if (auto size = map_size(input)) return *size;
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

// The Convs whose outputs reach a graph output through decode ops only, in the order the outputs and their
// Concat inputs name them. The DFL's arange Conv or MatMul is decode: the walk goes through it.
std::vector<ir::Node*> head_convs_before_outputs(const ir::Graph& graph) {
  std::vector<ir::Node*> convs;
  std::set<const ir::Value*> seen;
  std::deque<ir::Value*> queue(graph.outputs.begin(), graph.outputs.end());
  while (!queue.empty()) {
    ir::Value* value = queue.front();
    queue.pop_front();
    if (!value || !seen.insert(value).second || !value->producer) continue;
    ir::Node* producer = value->producer;
    if (dfl_bins(*producer)) {
      queue.push_back(producer->input(0));
    } else if (producer->op_type == "Conv") {
      if (std::find(convs.begin(), convs.end(), producer) == convs.end()) convs.push_back(producer);
    } else {
      for (ir::Value* input : decode_data_inputs(*producer)) queue.push_back(input);
    }
  }
  return convs;
}

std::string size_text(const MapSize& size) { return std::to_string(size.first) + "x" + std::to_string(size.second); }

// Fills strides and sorts levels largest map first; false (with a note) when a map does not divide the input.
bool set_strides(YoloHead& head, std::vector<std::string>& notes) {
  std::sort(head.levels.begin(), head.levels.end(), [](const YoloLevel& a, const YoloLevel& b) { return a.height > b.height; });
  if (head.input_height <= 0) return true;  // the cut says the input size is dynamic
  for (YoloLevel& level : head.levels) {
    if (level.height <= 0 || head.input_height % level.height != 0 || level.width <= 0 ||
        head.input_width % level.width != 0 || head.input_height / level.height != head.input_width / level.width) {
      notes.push_back("head map " + size_text({level.height, level.width}) + " does not divide the input " +
                      size_text({head.input_height, head.input_width}) + " into one stride: not a YOLO level");
      return false;
    }
    level.stride = head.input_height / level.height;
  }
  return true;
}

// Follows Expand / Reshape / Tile / Identity back to the constant they repeat.
const Tensor* constant_behind(const ir::Value* value) {
  for (int depth = 0; value && depth < 4; ++depth) {
    if (value->initializer) return &*value->initializer;
    const ir::Node* producer = value->producer;
    if (!producer || !(producer->op_type == "Expand" || producer->op_type == "Reshape" || producer->op_type == "Tile" ||
                       producer->op_type == "Identity")) {
      return nullptr;
    }
    value = producer->input(0);
  }
  return nullptr;
}

// Anchor sizes of one anchor-based level: a constant [1, A, h, w, 2] (or [1, A, 1, 1, 2], maybe expanded) in
// its decode whose pairs are the same at every cell and positive — the anchor grid. The cell grid varies.
std::vector<float> find_anchors(const ir::Node* head_conv, int64_t anchors_per_cell) {
  for (const ir::Node* node : descendants({const_cast<ir::Node*>(head_conv)})) {
    for (const ir::Value* input : node->inputs) {
      const Tensor* constant = constant_behind(input);
      if (!constant) continue;
      const Tensor& values = *constant;
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

std::vector<ir::Node*> level_roots(const YoloHead& head) {
  std::vector<ir::Node*> roots;
  for (const YoloLevel& level : head.levels) {
    roots.push_back(level.box_conv);
    if (level.class_conv) roots.push_back(level.class_conv);
  }
  return roots;
}

// Anchor-free levels from box Convs and class Convs; nullopt (with notes) when they do not pair up by map size.
std::optional<YoloHead> pair_box_and_class_convs(const ir::Graph& graph, const std::vector<ir::Node*>& box_convs,
                                                 const std::vector<ir::Node*>& class_convs, int64_t reg_max,
                                                 std::vector<std::string>& notes) {
  YoloHead head;
  head.family = YoloFamily::anchor_free;
  head.reg_max = reg_max;
  std::tie(head.input_height, head.input_width) = graph_image_size(graph);
  std::map<MapSize, YoloLevel, std::greater<>> levels;
  for (ir::Node* conv : box_convs) {
    auto size = map_size(conv->output(0));
    if (!size) {
      notes.push_back("YOLO head found, but the map size of " + conv->describe() + " is not static: give --input-shape; "
                      "not cut");
      return std::nullopt;
    }
    if (channel_count(conv->output(0)) != 4 * reg_max || levels[*size].box_conv) {
      notes.push_back("DFL with " + std::to_string(reg_max) + " bins found, but its box Conv " + conv->describe() +
                      " is not one [batch, " + std::to_string(4 * reg_max) + ", H, W] map per level: not cut");
      return std::nullopt;
    }
    levels[*size].box_conv = conv;
    std::tie(levels[*size].height, levels[*size].width) = *size;
  }
  for (ir::Node* conv : class_convs) {
    auto size = map_size(conv->output(0));
    auto level = size ? levels.find(*size) : levels.end();
    if (level == levels.end()) {
      notes.push_back("head Conv " + conv->describe() + " feeds the outputs but matches no box map size: not cut");
      return std::nullopt;
    }
    const int64_t channels = channel_count(conv->output(0));
    if (level->second.class_conv) {
      notes.push_back("head map " + size_text(*size) + " has two class Conv candidates (" +
                      level->second.class_conv->describe() + ", " + conv->describe() + "): not cut");
      return std::nullopt;
    }
    if (channels <= 0 || (head.class_count && channels != head.class_count)) {
      notes.push_back("class Conv " + conv->describe() + " has " + std::to_string(channels) + " channels where " +
                      "other levels have " + std::to_string(head.class_count) + ": not cut");
      return std::nullopt;
    }
    head.class_count = channels;
    level->second.class_conv = conv;
  }
  for (auto& [size, level] : levels) {
    if (!level.class_conv) {
      notes.push_back("head map " + size_text(size) + " has a box Conv but no class Conv feeding the outputs: not cut");
      return std::nullopt;
    }
    head.levels.push_back(level);
  }
  if (head.levels.empty() || !set_strides(head, notes)) return std::nullopt;
  head.postprocess = descendants(level_roots(head));
  return head;
}

// The bins of the DFL expectation a Softmax feeds (directly or through one Transpose), if it feeds one.
std::optional<int64_t> dfl_after_softmax(const ir::Node& softmax) {
  if (softmax.op_type != "Softmax" || !softmax.output(0)) return std::nullopt;
  for (const ir::Node* candidate : softmax.output(0)->consumers) {
    if (candidate->op_type == "Transpose" && candidate->output(0) && candidate->output(0)->consumers.size() == 1) {
      candidate = candidate->output(0)->consumers.front();
    }
    if (auto bins = dfl_bins(*candidate)) return bins;
  }
  return std::nullopt;
}

// Adds to `convs` the Convs that feed `start` through data movement only.
void collect_convs_through_data_movement(ir::Value* start, std::set<const ir::Value*>& seen, std::vector<ir::Node*>& convs) {
  std::deque<ir::Value*> queue{start};
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
}

// YOLOv8 / YOLO11 with the decode in the graph: Softmax feeding the DFL expectation, once for all levels
// (Ultralytics concatenates first) or once per level (exporters that decode level by level).
std::optional<YoloHead> find_anchor_free_head(const ir::Graph& graph, std::vector<std::string>& notes) {
  std::optional<int64_t> bins;
  std::vector<ir::Node*> box_convs;
  std::set<const ir::Value*> seen;
  for (const auto& owned : graph.nodes()) {
    std::optional<int64_t> softmax_bins = dfl_after_softmax(*owned);
    if (!softmax_bins) continue;
    if (bins && *bins != *softmax_bins) {
      notes.push_back("two DFL expectations with different bin counts (" + std::to_string(*bins) + ", " +
                      std::to_string(*softmax_bins) + "): not cut");
      return std::nullopt;
    }
    bins = softmax_bins;
    collect_convs_through_data_movement(owned->input(0), seen, box_convs);
  }
  if (!bins) return std::nullopt;
  if (box_convs.empty()) {
    notes.push_back("DFL (Softmax then " + std::to_string(*bins) + "-bin expectation) found, but no box Conv feeds it "
                    "through data movement only: not cut");
    return std::nullopt;
  }
  // When box and class maps are joined before the DFL's split (Ultralytics), the class Convs are behind the
  // Softmax too: per map size the box Conv is the first of 4·reg_max channels (Concat lists box first).
  std::vector<ir::Node*> boxes_per_size;
  std::set<MapSize> sizes_with_box;
  for (ir::Node* conv : box_convs) {
    auto size = map_size(conv->output(0));
    if (!size) {  // left in: pairing says the map size is unknown
      boxes_per_size.push_back(conv);
    } else if (channel_count(conv->output(0)) == 4 * *bins && sizes_with_box.insert(*size).second) {
      boxes_per_size.push_back(conv);
    }
  }
  std::vector<ir::Node*> class_convs;
  for (ir::Node* conv : head_convs_before_outputs(graph)) {
    if (std::find(boxes_per_size.begin(), boxes_per_size.end(), conv) == boxes_per_size.end()) class_convs.push_back(conv);
  }
  return pair_box_and_class_convs(graph, boxes_per_size, class_convs, *bins, notes);
}

// YOLOv5 with the decode in the graph: a head Conv reshaped to [batch, anchors, 5 + classes, H, W].
std::optional<YoloHead> find_anchor_based_head(const ir::Graph& graph, std::vector<std::string>& notes) {
  YoloHead head;
  head.family = YoloFamily::anchor_based;
  std::tie(head.input_height, head.input_width) = graph_image_size(graph);
  for (const auto& owned : graph.nodes()) {
    ir::Node* conv = owned.get();
    if (conv->op_type != "Conv" || !conv->output(0)) continue;
    auto size = map_size(conv->output(0));
    const int64_t channels = channel_count(conv->output(0));
    if (!size || channels <= 0) continue;
    for (const ir::Node* consumer : conv->output(0)->consumers) {
      if (consumer->op_type != "Reshape" || !consumer->output(0) || !consumer->output(0)->type.shape) continue;
      const std::vector<ir::Dim>& dims = *consumer->output(0)->type.shape;
      // [batch, anchors, 5 + classes, H, W] with the Conv's H and W (the batch may be dynamic).
      if (dims.size() != 5 || !dims[1].is_static() || !dims[2].is_static() || dims[3].value != size->first ||
          dims[4].value != size->second || dims[1].value * dims[2].value != channels || dims[2].value <= 5) {
        continue;
      }
      const ir::Value* reshaped = consumer->output(0);
      bool to_channels_last = std::any_of(reshaped->consumers.begin(), reshaped->consumers.end(), [](const ir::Node* next) {
        return next->op_type == "Transpose" && next->get_ints("perm") == std::vector<int64_t>{0, 1, 3, 4, 2};
      });
      if (!to_channels_last) continue;
      if (head.anchors_per_cell && (head.anchors_per_cell != dims[1].value || head.class_count != dims[2].value - 5)) {
        notes.push_back("anchor head Conv " + conv->describe() + " has another anchor or class count than the first level; "
                        "left out");
        continue;
      }
      head.anchors_per_cell = dims[1].value;
      head.class_count = dims[2].value - 5;
      YoloLevel level;
      level.box_conv = conv;
      std::tie(level.height, level.width) = *size;
      level.anchors = find_anchors(conv, head.anchors_per_cell);
      head.levels.push_back(level);
      break;
    }
  }
  if (head.levels.empty() || !set_strides(head, notes)) return std::nullopt;
  for (const YoloLevel& level : head.levels) {
    if (level.anchors.empty()) {
      notes.push_back("no constant anchor grid found in the decode of the stride " + std::to_string(level.stride) +
                      " level: give the anchors your model was trained with");
    }
  }
  head.postprocess = descendants(level_roots(head));
  return head;
}

// Strides a raw head must have to be taken for YOLO: known (a static input), powers of two from 8, each level
// twice the one before (P3/P4/P5, P3–P6, or the tiny models' P4/P5). Sets them as set_strides does.
bool has_yolo_strides(YoloHead& head) {
  std::vector<std::string> ignored;
  if (head.input_height <= 0 || !set_strides(head, ignored)) return false;
  for (size_t i = 0; i < head.levels.size(); ++i) {
    const int64_t stride = head.levels[i].stride;
    if (stride < 8 || (stride & (stride - 1)) != 0) return false;
    if (i > 0 && stride != 2 * head.levels[i - 1].stride) return false;
  }
  return true;
}

// A head exported without its decode: the outputs are the head maps, per map size one Conv (YOLOv5: anchors ×
// (5 + classes) channels) or two (YOLOv8: a 4·reg_max box map and a class map). nullopt, silently, for
// graphs that are not shaped like that (classifiers, segmenters): they are no YOLO heads.
std::optional<YoloHead> find_raw_head(const ir::Graph& graph) {
  std::map<MapSize, std::vector<ir::Node*>, std::greater<>> by_size;
  for (ir::Node* conv : head_convs_before_outputs(graph)) {
    auto size = map_size(conv->output(0));
    if (!size || channel_count(conv->output(0)) <= 0) return std::nullopt;
    by_size[*size].push_back(conv);
  }
  if (by_size.size() < 2) return std::nullopt;  // one map is a segmenter or a single-scale net, not a YOLO head
  const size_t per_level = by_size.begin()->second.size();
  for (const auto& [size, convs] : by_size) {
    if (convs.size() != per_level) return std::nullopt;
  }
  if (per_level == 1) {
    const int64_t channels = channel_count(by_size.begin()->second.front()->output(0));
    for (const auto& [size, convs] : by_size) {
      if (channel_count(convs.front()->output(0)) != channels) return std::nullopt;
    }
    if (channels % 3 != 0 || channels / 3 <= 5) return std::nullopt;
    YoloHead head;
    head.family = YoloFamily::anchor_based;
    head.decode_in_graph = false;
    head.anchors_per_cell = 3;
    head.class_count = channels / 3 - 5;
    std::tie(head.input_height, head.input_width) = graph_image_size(graph);
    for (const auto& [size, convs] : by_size) {
      YoloLevel level;
      level.box_conv = convs.front();
      std::tie(level.height, level.width) = size;
      head.levels.push_back(level);
    }
    if (!has_yolo_strides(head)) return std::nullopt;
    head.notes.push_back("raw YOLOv5 head (no decode in the graph): " + std::to_string(channels) + " channels per map read as "
                         "3 anchors x (5 + " + std::to_string(head.class_count) + " classes), YOLOv5's layout");
    head.notes.push_back("anchors: not in the graph (a raw head has no decode to read them from); give the anchors "
                         "the model was trained with (YOLOv5 default P3 10,13 16,30 33,23; P4 30,61 62,45 59,119; "
                         "P5 116,90 156,198 373,326)");
    head.postprocess = descendants(level_roots(head));
    return head;
  }
  if (per_level != 2) return std::nullopt;
  // Without a DFL in the graph only Ultralytics' reg_max 16 is taken, so the box map is the one of 64 channels
  // (the first in output order when both are: Ultralytics lists box before class). Two maps per level with
  // other channel counts (RetinaNet's 9 anchors x 4 box logits, say) are not a YOLOv8 head.
  const int64_t reg_max = 16;
  std::vector<ir::Node*> box_convs, class_convs;
  for (const auto& [size, convs] : by_size) {
    const size_t box = channel_count(convs[0]->output(0)) == 4 * reg_max ? 0 : 1;
    if (channel_count(convs[box]->output(0)) != 4 * reg_max) return std::nullopt;
    box_convs.push_back(convs[box]);
    class_convs.push_back(convs[1 - box]);
  }
  std::vector<std::string> pairing_notes;
  std::optional<YoloHead> head = pair_box_and_class_convs(graph, box_convs, class_convs, reg_max, pairing_notes);
  if (!head || !has_yolo_strides(*head)) return std::nullopt;
  head->decode_in_graph = false;
  head->notes.push_back("raw YOLOv8 head (no decode in the graph): box maps of 64 channels read as 4 sides x 16 DFL "
                        "bins (Ultralytics' reg_max), " + std::to_string(head->class_count) + " classes from the class maps");
  return head;
}

}  // namespace

YoloHeadSearch search_yolo_head(const ir::Graph& graph) {
  YoloHeadSearch search;
  if ((search.head = find_anchor_free_head(graph, search.notes))) return search;
  if (!search.notes.empty()) return search;  // a DFL that did not pair up: say so, do not guess another family
  if ((search.head = find_anchor_based_head(graph, search.notes))) {
    search.head->notes.insert(search.head->notes.end(), search.notes.begin(), search.notes.end());
    search.notes.clear();
    return search;
  }
  if (!search.notes.empty()) return search;
  search.head = find_raw_head(graph);
  return search;
}

std::optional<YoloHead> find_yolo_head(const ir::Graph& graph) { return search_yolo_head(graph).head; }

}  // namespace npukit::passes
