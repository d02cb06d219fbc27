#include "vision/mean_average_precision.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "npukit/error.h"

namespace npukit::vision {

namespace {

constexpr int kRecallPoints = 101;

struct RankedDetection {
  int image = 0;
  int index = 0;  // in the picture's detection list
  double score = 0;
};

// COCO's AP from the true/false positive flags of the ranked detections.
double interpolated_average_precision(const std::vector<uint8_t>& true_positive, int ground_truth_count) {
  const size_t count = true_positive.size();
  std::vector<double> precision(count), recall(count);
  double tp = 0, fp = 0;
  for (size_t i = 0; i < count; ++i) {
    (true_positive[i] ? tp : fp) += 1;
    recall[i] = tp / ground_truth_count;
    precision[i] = tp / (tp + fp);
  }
  for (size_t i = count; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double sum = 0;
  for (int point = 0; point < kRecallPoints; ++point) {
    // np.linspace(0, 1, 101) as pycocotools builds it: i * 0.01, the last exactly 1.
    const double level = point == kRecallPoints - 1 ? 1.0 : point * (1.0 / (kRecallPoints - 1));
    // np.searchsorted(recall, level, side='left'): the first recall >= level.
    const size_t first = static_cast<size_t>(std::lower_bound(recall.begin(), recall.end(), level) - recall.begin());
    if (first < count) sum += precision[first];
  }
  return sum / kRecallPoints;
}

}  // namespace

// np.linspace(0.5, 0.95, 10) as pycocotools builds it (0.5 + i * step, the last exactly 0.95), so a box whose
// IoU is exactly on a threshold counts the same way here and there.
double iou_threshold(int index) {
  return index == kIouThresholdCount - 1 ? 0.95 : 0.5 + index * ((0.95 - 0.5) / (kIouThresholdCount - 1));
}

double box_iou(const EvaluationBox& a, const EvaluationBox& b) {
  const double width = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double height = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const double intersection = width > 0 && height > 0 ? width * height : 0.0;
  const double area_union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - intersection;
  return area_union > 0 ? intersection / area_union : 0.0;
}

MeanAveragePrecision mean_average_precision(const std::vector<EvaluatedImage>& images, int class_count,
                                            double report_confidence) {
  MeanAveragePrecision result;
  for (int class_id = 0; class_id < class_count; ++class_id) {
    ClassPrecision summary;
    summary.class_id = class_id;
    // Per picture: the ground-truth boxes of the class (indices into ground_truth).
    std::vector<std::vector<int>> truth(images.size());
    std::vector<RankedDetection> ranked;
    for (size_t image = 0; image < images.size(); ++image) {
      for (size_t i = 0; i < images[image].ground_truth.size(); ++i) {
        if (images[image].ground_truth[i].class_id == class_id) truth[image].push_back(static_cast<int>(i));
      }
      summary.ground_truth_count += static_cast<int>(truth[image].size());
      for (size_t i = 0; i < images[image].detections.size(); ++i) {
        const EvaluationBox& box = images[image].detections[i];
        if (box.class_id == class_id) ranked.push_back({static_cast<int>(image), static_cast<int>(i), box.score});
      }
    }
    summary.detection_count = static_cast<int>(ranked.size());
    if (summary.ground_truth_count == 0 && summary.detection_count == 0) continue;
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const RankedDetection& a, const RankedDetection& b) { return a.score > b.score; });

    for (int threshold_index = 0; threshold_index < kIouThresholdCount; ++threshold_index) {
      const double threshold = iou_threshold(threshold_index);
      std::vector<std::vector<uint8_t>> matched(images.size());
      for (size_t image = 0; image < images.size(); ++image) matched[image].assign(truth[image].size(), 0);
      std::vector<uint8_t> true_positive(ranked.size(), 0);
      for (size_t r = 0; r < ranked.size(); ++r) {
        const EvaluatedImage& image = images[ranked[r].image];
        const EvaluationBox& detection = image.detections[ranked[r].index];
        double best_iou = -1;
        int best = -1;
        for (size_t g = 0; g < truth[ranked[r].image].size(); ++g) {
          if (matched[ranked[r].image][g]) continue;
          const double iou = box_iou(detection, image.ground_truth[truth[ranked[r].image][g]]);
          if (iou > best_iou) best_iou = iou, best = static_cast<int>(g);
        }
        if (best >= 0 && best_iou >= threshold) {
          matched[ranked[r].image][best] = 1;
          true_positive[r] = 1;
        }
      }
      if (summary.ground_truth_count > 0) {
        summary.average_precision[threshold_index] =
            interpolated_average_precision(true_positive, summary.ground_truth_count);
      }
      if (threshold_index == 0) {
        for (size_t r = 0; r < ranked.size() && ranked[r].score >= report_confidence; ++r) {
          (true_positive[r] ? summary.true_positives : summary.false_positives) += 1;
        }
      }
    }
    summary.ap50 = summary.average_precision[0];
    summary.ap50_95 = std::accumulate(summary.average_precision.begin(), summary.average_precision.end(), 0.0) /
                      kIouThresholdCount;
    const int reported = summary.true_positives + summary.false_positives;
    summary.precision = reported > 0 ? static_cast<double>(summary.true_positives) / reported : 0.0;
    summary.recall = summary.ground_truth_count > 0
                         ? static_cast<double>(summary.true_positives) / summary.ground_truth_count : 0.0;
    if (summary.ground_truth_count > 0) {
      result.evaluated_class_count += 1;
      result.map50 += summary.ap50;
      result.map50_95 += summary.ap50_95;
      result.precision += summary.precision;
      result.recall += summary.recall;
    }
    result.classes.push_back(summary);
  }
  if (result.evaluated_class_count > 0) {
    const double n = result.evaluated_class_count;
    result.map50 /= n, result.map50_95 /= n, result.precision /= n, result.recall /= n;
  }
  return result;
}

}  // namespace npukit::vision
