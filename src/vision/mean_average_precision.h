// Mean average precision as COCO defines it (pycocotools cocoeval.py), for one area range (all) and no crowd
// boxes:
//
//   for each class with at least one ground-truth box, and each IoU threshold t in 0.50, 0.55, ..., 0.95:
//     - the class's detections of all images, by descending score (ties keep image order, then input order);
//     - each detection in turn is matched to the unmatched ground-truth box of its class and image with the
//       highest IoU, when that IoU is at least t (a true positive), else it is a false positive;
//     - precision and recall after each detection; precision made monotone (each the maximum of those to its
//       right); AP = mean over the 101 recall points 0, 0.01, ..., 1 of the precision at the first recall at or
//       above the point (0 past the last recall reached);
//   mAP50 = mean over classes of AP at t = 0.5, mAP50-95 = mean over classes and the 10 thresholds.
//
// Classes without ground truth are left out of the means (COCO marks them -1), their detections are counted
// in the table only. Every detection given counts: the cap per picture is the NMS's max_det (Ultralytics
// evaluates with 300; COCO's maxDets = 100), applied before this.
//
// Precision and recall are reported at IoU 0.5 for the detections at or above a confidence (the predict
// default 0.25): the numbers a user of `detect` sees, not a point picked on the curve afterwards.
#pragma once

#include <array>
#include <vector>

namespace npukit::vision {

inline constexpr int kIouThresholdCount = 10;  // 0.50:0.05:0.95
double iou_threshold(int index);

struct EvaluationBox {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // corners, in the picture's pixels
  int class_id = 0;
  double score = 1;                       // detections only
};

// One picture: what is there, and what the detector said.
struct EvaluatedImage {
  std::vector<EvaluationBox> ground_truth;
  std::vector<EvaluationBox> detections;
};

struct ClassPrecision {
  int class_id = 0;
  int ground_truth_count = 0;
  int detection_count = 0;                           // every detection of the class (any score)
  std::array<double, kIouThresholdCount> average_precision{};  // per threshold; meaningless without ground truth
  double ap50 = 0, ap50_95 = 0;
  double precision = 0, recall = 0;                  // at IoU 0.5 and score >= the report confidence
  int true_positives = 0, false_positives = 0;       // the same counts
};

struct MeanAveragePrecision {
  std::vector<ClassPrecision> classes;  // every class with ground truth or detections, by class id
  int evaluated_class_count = 0;        // classes with ground truth: the means are over these
  double map50 = 0, map50_95 = 0;
  double precision = 0, recall = 0;     // means over the evaluated classes
};

// Box IoU of two corner boxes (continuous coordinates, as pycocotools: no +1); 0 when the union is empty.
double box_iou(const EvaluationBox& a, const EvaluationBox& b);

// `class_count`: classes are 0..class_count-1 (boxes of other ids are a caller error, checked before).
MeanAveragePrecision mean_average_precision(const std::vector<EvaluatedImage>& images, int class_count,
                                            double report_confidence = 0.25);

}  // namespace npukit::vision
