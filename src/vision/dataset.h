// A detection data set in YOLO (Ultralytics) format:
//
//   DIR/images/NAME.jpg|png|bmp     (sub-directories allowed: images/val/…)
//   DIR/labels/NAME.txt             the same relative path with .txt: one object a line, "class cx cy w h",
//                                   centre and size normalized to the picture (0..1); a polygon line
//                                   "class x1 y1 x2 y2 x3 y3 …" (segmentation labels) counts as its bounding box
//   DIR/data.yaml                   optional: `names:` as a list ([a, b] or "- a" lines) or a map ("0: a" lines)
//
// A picture without a label file, or with an empty one, is background (no objects). Everything else that is
// not as above is an Error naming the file and line: a data set that is read wrong gives a wrong mAP silently.
#pragma once

#include <string>
#include <vector>

namespace npukit::vision {

struct LabelBox {
  int class_id = 0;
  double center_x = 0, center_y = 0, width = 0, height = 0;  // normalized to the picture
  int line = 0;  // in the label file, for messages
};

struct DatasetImage {
  std::string image_path;
  std::string label_path;  // empty when the picture has no label file (background)
  std::vector<LabelBox> boxes;
};

struct DetectionDataset {
  std::string directory;
  std::vector<std::string> class_names;  // from data.yaml; empty when there is none
  std::string names_source;              // the data.yaml path the names came from, or empty
  std::vector<DatasetImage> images;      // sorted by path
  int label_file_count = 0;
  int max_class_id = -1;                 // the highest class in the labels
};

// Reads the data set's structure and every label file (not the pictures). Throws Error(io) for a missing
// directory, Error(invalid_argument) for a data set without pictures, a malformed label line (file:line and
// why) or a class beyond data.yaml's names.
DetectionDataset read_detection_dataset(const std::string& directory);

// Parses one label file's text; `name` is used in errors ("NAME:LINE").
std::vector<LabelBox> parse_label_text(const std::string& text, const std::string& name);

// The class names of a data.yaml text (`names:` as a flow list, a block list or a block map with integer keys);
// empty when it has no `names:`. Throws Error naming `name` (and the line) when `names:` is there but malformed.
std::vector<std::string> parse_data_yaml_names(const std::string& text, const std::string& name);

}  // namespace npukit::vision
