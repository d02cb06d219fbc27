#include "vision/yolo_decoding.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "npukit/error.h"

namespace npukit::vision {

namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Comparing logits against logit(confidence) skips the exp for the many cells that hold nothing.
float logit(float probability) { return std::log(probability / (1.0f - probability)); }

void require(bool condition, const std::string& what) {
  if (!condition) throw Error(ErrorKind::invalid_argument, "YOLO decode: " + what);
}

void require_f32(const Tensor& tensor, const char* name) {
  require(tensor.dtype() == DType::f32, std::string(name) + " must be float32, not " +
                                            std::string(dtype_name(tensor.dtype())));
}

// The highest score of every cell of a channel-major score block [classes, cells]: walked channel by channel,
// so the reads are contiguous and the max vectorizes (a cell-by-cell walk strides across classes·cells floats).
// Which class it was is looked up afterwards, only for the few cells above the threshold.
void best_score_per_cell(const float* scores, int64_t classes, int64_t cells, std::vector<float>& best_value) {
  best_value.assign(scores, scores + cells);
  float* value = best_value.data();
  for (int64_t c = 1; c < classes; ++c) {
    const float* row = scores + c * cells;
    for (int64_t cell = 0; cell < cells; ++cell) value[cell] = std::max(value[cell], row[cell]);
  }
}

// The first class whose score is `best` at `cell` (first, as an argmax takes it).
int class_with_score(const float* scores, int64_t classes, int64_t cells, int64_t cell, float best) {
  for (int64_t c = 0; c < classes; ++c) {
    if (scores[c * cells + cell] == best) return static_cast<int>(c);
  }
  return 0;
}

Detection corner_box(float cx, float cy, float w, float h, float score, int class_id, int64_t anchor) {
  return Detection{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, class_id, anchor};
}

}  // namespace

void decode_yolov8_output(const Tensor& output, float confidence, std::vector<Detection>& candidates) {
  require_f32(output, "the output");
  require(output.rank() == 3 && output.dim(0) == 1 && output.dim(1) > 4,
          "a YOLOv8 output is [1, 4 + classes, N], not " + shape_to_string(output.shape()));
  const int64_t classes = output.dim(1) - 4, count = output.dim(2);
  const float* data = output.data<float>();
  std::vector<float> best_score;
  best_score_per_cell(data + 4 * count, classes, count, best_score);
  for (int64_t i = 0; i < count; ++i) {
    if (!(best_score[i] > confidence)) continue;
    const int best = class_with_score(data + 4 * count, classes, count, i, best_score[i]);
    candidates.push_back(corner_box(data[i], data[count + i], data[2 * count + i], data[3 * count + i], best_score[i],
                                    best, i));
  }
}

void decode_yolov5_output(const Tensor& output, float confidence, std::vector<Detection>& candidates) {
  require_f32(output, "the output");
  require(output.rank() == 3 && output.dim(0) == 1 && output.dim(2) > 5,
          "a YOLOv5 output is [1, N, 5 + classes], not " + shape_to_string(output.shape()));
  const int64_t count = output.dim(1), width = output.dim(2);
  const float* data = output.data<float>();
  for (int64_t i = 0; i < count; ++i) {
    const float* row = data + i * width;
    if (!(row[4] > confidence)) continue;  // YOLOv5's first filter: objectness alone
    int best = 0;
    for (int64_t c = 1; c < width - 5; ++c) {
      if (row[5 + c] > row[5 + best]) best = static_cast<int>(c);
    }
    const float score = row[4] * row[5 + best];
    if (!(score > confidence)) continue;
    candidates.push_back(corner_box(row[0], row[1], row[2], row[3], score, best, i));
  }
}

void decode_dfl_level(const Tensor& boxes, const Tensor& scores, int stride, int reg_max, float confidence,
                      std::vector<Detection>& candidates, int64_t first_anchor) {
  require_f32(boxes, "the box map");
  require_f32(scores, "the score map");
  require(boxes.rank() == 4 && scores.rank() == 4 && boxes.dim(0) == 1 && scores.dim(0) == 1,
          "box and score maps are [1, C, H, W]");
  require(boxes.dim(1) == 4 * reg_max, "the box map has " + std::to_string(boxes.dim(1)) + " channels, not 4 * reg_max = " +
                                           std::to_string(4 * reg_max));
  require(boxes.dim(2) == scores.dim(2) && boxes.dim(3) == scores.dim(3),
          "box map " + shape_to_string(boxes.shape()) + " and score map " + shape_to_string(scores.shape()) +
              " differ in size");
  const int64_t classes = scores.dim(1), height = scores.dim(2), width = scores.dim(3), plane = height * width;
  const float threshold = logit(confidence);
  const float* score_data = scores.data<float>();
  const float* box_data = boxes.data<float>();
  std::vector<float> bins(reg_max), best_logits;
  best_score_per_cell(score_data, classes, plane, best_logits);
  for (int64_t cell = 0; cell < plane; ++cell) {
    const float best_logit = best_logits[cell];
    if (!(best_logit > threshold)) continue;
    const int best = class_with_score(score_data, classes, plane, cell, best_logit);
    float distance[4];
    for (int side = 0; side < 4; ++side) {
      // Softmax over the side's bins, then the expectation of the bin index: a distance in cells.
      float maximum = -INFINITY;
      for (int k = 0; k < reg_max; ++k) {
        bins[k] = box_data[(side * reg_max + k) * plane + cell];
        maximum = std::max(maximum, bins[k]);
      }
      float sum = 0, weighted = 0;
      for (int k = 0; k < reg_max; ++k) {
        const float e = std::exp(bins[k] - maximum);
        sum += e;
        weighted += e * static_cast<float>(k);
      }
      distance[side] = weighted / sum;
    }
    const float x = static_cast<float>(cell % width) + 0.5f, y = static_cast<float>(cell / width) + 0.5f;
    const float s = static_cast<float>(stride);
    candidates.push_back(Detection{(x - distance[0]) * s, (y - distance[1]) * s, (x + distance[2]) * s,
                                   (y + distance[3]) * s, sigmoid(best_logit), best, first_anchor + cell});
  }
}

void decode_anchor_level(const Tensor& boxes, const Tensor& scores, int stride, const std::vector<float>& anchors,
                         float confidence, std::vector<Detection>& candidates, int64_t first_anchor) {
  require_f32(boxes, "the box map");
  require_f32(scores, "the score map");
  require(boxes.rank() == 4 && scores.rank() == 4 && boxes.dim(0) == 1 && scores.dim(0) == 1,
          "box and score maps are [1, C, H, W]");
  const int64_t anchor_count = static_cast<int64_t>(anchors.size() / 2);
  require(anchor_count > 0 && boxes.dim(1) == 4 * anchor_count && scores.dim(1) % anchor_count == 0 &&
              scores.dim(1) / anchor_count > 1,
          "the box map has " + std::to_string(boxes.dim(1)) + " channels and the score map " +
              std::to_string(scores.dim(1)) + " for " + std::to_string(anchor_count) + " anchors");
  require(boxes.dim(2) == scores.dim(2) && boxes.dim(3) == scores.dim(3), "box and score maps differ in size");
  const int64_t per_anchor = scores.dim(1) / anchor_count, classes = per_anchor - 1;
  const int64_t height = scores.dim(2), width = scores.dim(3), plane = height * width;
  const float objectness_threshold = logit(confidence);
  const float* score_data = scores.data<float>();
  const float* box_data = boxes.data<float>();
  const float s = static_cast<float>(stride);
  for (int64_t a = 0; a < anchor_count; ++a) {
    const float* objectness = score_data + a * per_anchor * plane;
    for (int64_t cell = 0; cell < plane; ++cell) {
      if (!(objectness[cell] > objectness_threshold)) continue;
      int best = 0;
      float best_logit = objectness[plane + cell];
      for (int64_t c = 1; c < classes; ++c) {
        const float value = objectness[(1 + c) * plane + cell];
        if (value > best_logit) best_logit = value, best = static_cast<int>(c);
      }
      const float score = sigmoid(objectness[cell]) * sigmoid(best_logit);
      if (!(score > confidence)) continue;
      const float* box = box_data + a * 4 * plane + cell;
      const float x = static_cast<float>(cell % width), y = static_cast<float>(cell / width);
      const float cx = (sigmoid(box[0]) * 2 - 0.5f + x) * s;
      const float cy = (sigmoid(box[plane]) * 2 - 0.5f + y) * s;
      const float tw = sigmoid(box[2 * plane]) * 2, th = sigmoid(box[3 * plane]) * 2;
      candidates.push_back(corner_box(cx, cy, tw * tw * anchors[2 * a], th * th * anchors[2 * a + 1], score, best,
                                         first_anchor + a * plane + cell));
    }
  }
}

}  // namespace npukit::vision
