#include "zoo/yolov5.h"

#include <cmath>

#include "npukit/error.h"
#include "zoo/graph_builder.h"

namespace npukit::zoo {

Yolov5Config Yolov5Config::for_variant(const std::string& variant) {
  Yolov5Config config;
  config.variant = variant;
  // models/yolov5{n,s,m,l,x}.yaml of ultralytics v6.0.
  if (variant == "n") {
    config.depth_multiple = 0.33, config.width_multiple = 0.25;
  } else if (variant == "s") {
    config.depth_multiple = 0.33, config.width_multiple = 0.50;
  } else if (variant == "m") {
    config.depth_multiple = 0.67, config.width_multiple = 0.75;
  } else if (variant == "l") {
    config.depth_multiple = 1.0, config.width_multiple = 1.0;
  } else if (variant == "x") {
    config.depth_multiple = 1.33, config.width_multiple = 1.25;
  } else {
    throw Error(ErrorKind::invalid_argument, "unknown YOLOv5 variant '" + variant + "' (known: n, s, m, l, x)");
  }
  return config;
}

namespace {

class Yolov5Builder {
 public:
  Yolov5Builder(GraphBuilder& builder, const Yolov5Config& config) : builder_(builder), config_(config) {}

  // ultralytics make_divisible(channels * width, 8).
  int64_t width(int64_t channels) const {
    return static_cast<int64_t>(std::ceil(channels * config_.width_multiple / 8.0)) * 8;
  }
  // ultralytics max(round(n * depth), 1).
  int64_t depth(int64_t repeats) const {
    return std::max<int64_t>(static_cast<int64_t>(std::round(repeats * config_.depth_multiple)), 1);
  }

  // Conv + folded BatchNorm + SiLU (as Sigmoid and Mul).
  // `pad` < 0: ultralytics autopad, kernel / 2.
  ir::Value* conv(const std::string& name, ir::Value* x, int64_t channels, int64_t kernel, int64_t stride,
                  int64_t pad = -1) {
    ir::Value* convolved = builder_.conv(name + ".conv", x, channels, kernel, stride, pad < 0 ? kernel / 2 : pad);
    return builder_.silu(name + ".act", convolved);
  }

  ir::Value* bottleneck(const std::string& name, ir::Value* x, int64_t channels, bool shortcut) {
    ir::Value* hidden = conv(name + ".cv1", x, channels, 1, 1);
    ir::Value* y = conv(name + ".cv2", hidden, channels, 3, 1);
    bool residual = shortcut && builder_.shape_of(x).at(1) == channels;
    return residual ? builder_.add(name + ".add", x, y) : y;
  }

  ir::Value* c3(const std::string& name, ir::Value* x, int64_t channels, int64_t repeats, bool shortcut) {
    int64_t hidden_channels = channels / 2;
    ir::Value* path = conv(name + ".cv1", x, hidden_channels, 1, 1);
    for (int64_t i = 0; i < repeats; ++i) {
      path = bottleneck(name + ".m." + std::to_string(i), path, hidden_channels, shortcut);
    }
    ir::Value* bypass = conv(name + ".cv2", x, hidden_channels, 1, 1);
    ir::Value* joined = builder_.concat(name + ".concat", {path, bypass}, 1);
    return conv(name + ".cv3", joined, channels, 1, 1);
  }

  ir::Value* sppf(const std::string& name, ir::Value* x, int64_t channels) {
    int64_t hidden_channels = builder_.shape_of(x).at(1) / 2;
    ir::Value* reduced = conv(name + ".cv1", x, hidden_channels, 1, 1);
    ir::Value* pooled1 = builder_.max_pool(name + ".m.0", reduced, 5, 1, 2);
    ir::Value* pooled2 = builder_.max_pool(name + ".m.1", pooled1, 5, 1, 2);
    ir::Value* pooled3 = builder_.max_pool(name + ".m.2", pooled2, 5, 1, 2);
    ir::Value* joined = builder_.concat(name + ".concat", {reduced, pooled1, pooled2, pooled3}, 1);
    return conv(name + ".cv2", joined, channels, 1, 1);
  }

  // One Detect level: 1x1 conv to 3 × (5 + classes), then the decode the export keeps in the graph.
  ir::Value* detect_level(int level, ir::Value* x, int64_t stride, const float (&anchors)[6]) {
    const std::string name = "model.24.m." + std::to_string(level);
    const int64_t outputs_per_anchor = 5 + config_.class_count;
    ir::Value* raw = builder_.conv(name, x, 3 * outputs_per_anchor, 1, 1, 0);
    Shape shape = builder_.shape_of(raw);
    int64_t batch = shape[0], rows = shape[2], columns = shape[3];
    ir::Value* split_anchors = builder_.reshape(name + ".reshape", raw, {batch, 3, outputs_per_anchor, rows, columns});
    ir::Value* channels_last = builder_.transpose(name + ".transpose", split_anchors, {0, 1, 3, 4, 2});
    ir::Value* activated = builder_.sigmoid(name + ".sigmoid", channels_last);
    std::vector<ir::Value*> parts =
        builder_.split(name + ".split", activated, {2, 2, outputs_per_anchor - 4}, 4);

    // grid holds each cell's (x, y) minus 0.5 and anchor_grid each anchor's (w, h) in pixels, both
    // broadcast to [1, 3, rows, columns, 2] as the export stores them.
    Tensor grid(DType::f32, {1, 3, rows, columns, 2});
    Tensor anchor_grid(DType::f32, {1, 3, rows, columns, 2});
    float* grid_data = grid.data<float>();
    float* anchor_data = anchor_grid.data<float>();
    for (int64_t anchor = 0; anchor < 3; ++anchor) {
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t column = 0; column < columns; ++column) {
          int64_t offset = ((anchor * rows + row) * columns + column) * 2;
          grid_data[offset] = static_cast<float>(column) - 0.5f;
          grid_data[offset + 1] = static_cast<float>(row) - 0.5f;
          anchor_data[offset] = anchors[anchor * 2];
          anchor_data[offset + 1] = anchors[anchor * 2 + 1];
        }
      }
    }
    ir::Value* grid_value = builder_.constant(name + ".grid", std::move(grid));
    ir::Value* anchor_value = builder_.constant(name + ".anchor_grid", std::move(anchor_grid));

    // xy = (xy * 2 + grid) * stride
    ir::Value* xy = builder_.mul(name + ".xy.mul", parts[0], builder_.scalar(2.0f));
    xy = builder_.add(name + ".xy.add", xy, grid_value);
    xy = builder_.mul(name + ".xy.stride", xy, builder_.scalar(static_cast<float>(stride)));
    // wh = (wh * 2) ** 2 * anchor_grid
    ir::Value* wh = builder_.mul(name + ".wh.mul", parts[1], builder_.scalar(2.0f));
    wh = builder_.pow(name + ".wh.pow", wh, builder_.scalar(2.0f));
    wh = builder_.mul(name + ".wh.anchor", wh, anchor_value);
    ir::Value* decoded = builder_.concat(name + ".concat", {xy, wh, parts[2]}, 4);
    return builder_.reshape(name + ".flatten", decoded, {batch, 3 * rows * columns, outputs_per_anchor});
  }

  void build() {
    if (config_.image_height <= 0 || config_.image_width <= 0 || config_.image_height % 32 ||
        config_.image_width % 32 || config_.batch <= 0) {
      throw Error(ErrorKind::invalid_argument,
                  "YOLOv5 needs a positive batch and image sides that are multiples of 32, got batch " +
                      std::to_string(config_.batch) + " and " + std::to_string(config_.image_height) + "x" +
                      std::to_string(config_.image_width) + " (e.g. --input-shape images=1,3,640,640)");
    }
    ir::Value* images =
        builder_.input("images", DType::f32, {config_.batch, 3, config_.image_height, config_.image_width});
    // Backbone (models/yolov5s.yaml, v6.0).
    ir::Value* x = conv("model.0", images, width(64), 6, 2, 2);
    x = conv("model.1", x, width(128), 3, 2);
    x = c3("model.2", x, width(128), depth(3), true);
    x = conv("model.3", x, width(256), 3, 2);
    ir::Value* p3 = c3("model.4", x, width(256), depth(6), true);
    x = conv("model.5", p3, width(512), 3, 2);
    ir::Value* p4 = c3("model.6", x, width(512), depth(9), true);
    x = conv("model.7", p4, width(1024), 3, 2);
    x = c3("model.8", x, width(1024), depth(3), true);
    x = sppf("model.9", x, width(1024));
    // Head: top-down path.
    ir::Value* head_p5 = conv("model.10", x, width(512), 1, 1);
    x = builder_.resize_nearest("model.11", head_p5, 2);
    x = builder_.concat("model.12", {x, p4}, 1);
    x = c3("model.13", x, width(512), depth(3), false);
    ir::Value* head_p4 = conv("model.14", x, width(256), 1, 1);
    x = builder_.resize_nearest("model.15", head_p4, 2);
    x = builder_.concat("model.16", {x, p3}, 1);
    ir::Value* small = c3("model.17", x, width(256), depth(3), false);
    // Bottom-up path.
    x = conv("model.18", small, width(256), 3, 2);
    x = builder_.concat("model.19", {x, head_p4}, 1);
    ir::Value* medium = c3("model.20", x, width(512), depth(3), false);
    x = conv("model.21", medium, width(512), 3, 2);
    x = builder_.concat("model.22", {x, head_p5}, 1);
    ir::Value* large = c3("model.23", x, width(1024), depth(3), false);
    // Detect with the default COCO anchors.
    static const float anchors_p3[6] = {10, 13, 16, 30, 33, 23};
    static const float anchors_p4[6] = {30, 61, 62, 45, 59, 119};
    static const float anchors_p5[6] = {116, 90, 156, 198, 373, 326};
    ir::Value* level0 = detect_level(0, small, 8, anchors_p3);
    ir::Value* level1 = detect_level(1, medium, 16, anchors_p4);
    ir::Value* level2 = detect_level(2, large, 32, anchors_p5);
    // The graph output carries the export's name.
    ir::Value* detections = builder_.concat("model.24.concat", {level0, level1, level2}, 1, "output0");
    builder_.output(detections, "output0");
  }

 private:
  GraphBuilder& builder_;
  const Yolov5Config& config_;
};

}  // namespace

ir::Model build_yolov5(const Yolov5Config& config) {
  ir::Model model;
  model.opset_imports[""] = 13;
  model.ir_version = 8;
  model.producer_name = "npukit.zoo";
  model.graph->name = "yolov5" + config.variant;
  model.metadata["stride"] = "32";
  GraphBuilder builder(model, config.seed);
  Yolov5Builder(builder, config).build();
  return model;
}

}  // namespace npukit::zoo
