// The PP-OCR text system: picture in, text lines out, as PaddleOCR's TextSystem (tools/infer/predict_system.py)
// with one line per recognizer run (rec_batch_num 1):
//   detect (vision/text_detection_preprocessing.h → det model → vision/text_detection_postprocessing.h),
//   reading order (sorted_boxes), cut each box out (vision/text_line_crop.h), optionally turn lines the
//   direction classifier calls upside down (label "180" above its threshold, 0.9), recognize
//   (vision/text_line_tensor.h → rec model → vision/text_ctc_decoding.h), drop lines scoring below 0.5.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "npukit/session.h"
#include "vision/image.h"
#include "vision/text_ctc_decoding.h"
#include "vision/text_detection_postprocessing.h"
#include "vision/text_detection_preprocessing.h"

namespace npukit::vision {

struct OcrOptions {
  int limit_side_length = 960;  // det_limit_side_len
  DetectionLimitType limit_type = DetectionLimitType::max;
  TextDetectionOptions detection;
  float classifier_threshold = 0.9f;  // cls_thresh
  float drop_score = 0.5f;            // drop_score: lines recognized with a lower score are left out
  std::string backend = "cpu";
  int threads = 1;
};

struct OcrLine {
  Quad box{};             // picture pixels: top-left, top-right, bottom-right, bottom-left
  float box_score = 0;    // the detector's mean probability inside the box
  std::string text;
  float score = 0;        // the recognizer's mean probability of the kept characters
  bool turned = false;    // the classifier found it upside down and it was turned 180° before recognition
  float turn_score = 0;   // the classifier's probability of its label (0 without a classifier)
};

struct OcrTimes {  // seconds
  double detection_pre = 0, detection_infer = 0, detection_post = 0, crop = 0, classify = 0, recognize = 0;
};

struct OcrResult {
  std::vector<OcrLine> lines;  // in reading order, after dropping
  int detected_boxes = 0;      // boxes the detector found
  int dropped_lines = 0;       // recognized below drop_score
  int detection_width = 0, detection_height = 0;  // the detector's input size for this picture
  OcrTimes times;
};

class OcrPipeline {
 public:
  // Loads the models and the keys file and checks that they fit together: the detector takes one
  // [N, 3, H, W] float32 picture and gives one [N, 1, H, W] map; the recognizer takes [N, 3, 48, W] and gives
  // [N, T, classes] with classes = keys + 2 (blank, space); the classifier gives [N, 2]. Throws Error naming the
  // file that does not fit and why. `classifier_path` may be empty.
  static OcrPipeline create(const std::string& detector_path, const std::string& recognizer_path,
                            const std::string& classifier_path, const std::string& keys_path, const OcrOptions& options);

  OcrResult read(const Image& image);

  const TextDictionary& dictionary() const { return dictionary_; }
  int recognizer_height() const { return recognizer_height_; }

 private:
  OcrPipeline() = default;
  RecognizedText recognize(const Image& line);

  OcrOptions options_;
  TextDictionary dictionary_;
  std::string detector_path_, recognizer_path_, classifier_path_;
  std::unique_ptr<Session> detector_, recognizer_, classifier_;
  int recognizer_height_ = 48;
  int recognizer_fixed_width_ = 0;  // > 0 when the recognizer's width is static (PaddleOCR uses it as given)
  int classifier_height_ = 48, classifier_width_ = 192;
};

}  // namespace npukit::vision
