// A COCO-style detections file, as `npukit detect -o DIR` writes DIR/detections.json (and pycocotools' loadRes
// reads with its images): {"images": [{"id", "file_name", "width", "height"}], "annotations": [{"image_id",
// "category_id", "bbox": [x, y, w, h] in the picture's pixels, "score"}], "categories": [{"id", "name"}]
// (optional)}. `npukit eval --detections FILE` scores such a file against a YOLO-format data set, so detections
// made anywhere (another runtime, a script's own post-processing) meet the same COCO evaluator as a model's.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vision/detection.h"

namespace npukit::vision {

struct PictureDetections {
  int width = 0, height = 0;         // the picture's size, which the label boxes (normalized) are scaled by
  std::vector<Detection> detections;  // corners in the picture's pixels
};

struct DetectionResults {
  std::map<std::string, PictureDetections> pictures;  // by file name (no directory)
  std::map<int, std::string> category_names;          // from "categories", when present
  int max_category_id = -1;                           // over annotations and categories
  size_t detection_count = 0;
};

// Parses the text of such a file; `name` (the path) goes into every message. Throws Error(invalid_argument)
// naming the entry for malformed JSON, a missing or mistyped field, an annotation of an unknown image, a
// negative box size, a non-finite score or two images with the same id or file name.
DetectionResults parse_detection_results(const std::string& text, const std::string& name);

// Reads and parses the file; Error(io) when it cannot be read.
DetectionResults read_detection_results(const std::string& path);

}  // namespace npukit::vision
