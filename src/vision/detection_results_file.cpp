#include "vision/detection_results_file.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "npukit/error.h"

namespace npukit::vision {

namespace {

[[noreturn]] void fail(const std::string& reason, const std::string& name) {
  throw Error(ErrorKind::invalid_argument, reason + " (a COCO-style detections file, as `npukit detect -o DIR` writes "
                                                    "DIR/detections.json)", name);
}

const nlohmann::json& field(const nlohmann::json& entry, const char* key, const std::string& where,
                            const std::string& name) {
  if (!entry.is_object() || !entry.contains(key)) fail(where + " has no \"" + key + "\"", name);
  return entry.at(key);
}

int64_t integer_field(const nlohmann::json& entry, const char* key, const std::string& where, const std::string& name) {
  const nlohmann::json& value = field(entry, key, where, name);
  if (!value.is_number_integer()) fail(where + ": \"" + key + "\" must be an integer, not " + value.dump(), name);
  return value.get<int64_t>();
}

double number_field(const nlohmann::json& entry, const char* key, const std::string& where, const std::string& name) {
  const nlohmann::json& value = field(entry, key, where, name);
  if (!value.is_number()) fail(where + ": \"" + key + "\" must be a number, not " + value.dump(), name);
  const double number = value.get<double>();
  if (!std::isfinite(number)) fail(where + ": \"" + key + "\" is not finite", name);
  return number;
}

const nlohmann::json& array_field(const nlohmann::json& root, const char* key, const std::string& name) {
  const nlohmann::json& value = field(root, key, "the file", name);
  if (!value.is_array()) fail("\"" + std::string(key) + "\" must be an array", name);
  return value;
}

}  // namespace

DetectionResults parse_detection_results(const std::string& text, const std::string& name) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    fail(std::string("not JSON: ") + error.what(), name);
  }
  if (!root.is_object()) fail("the top level must be an object with \"images\" and \"annotations\"", name);
  DetectionResults results;
  std::map<int64_t, std::string> file_of_image;
  const nlohmann::json& images = array_field(root, "images", name);
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = "images[" + std::to_string(i) + "]";
    const int64_t id = integer_field(images[i], "id", where, name);
    const nlohmann::json& file = field(images[i], "file_name", where, name);
    if (!file.is_string() || file.get<std::string>().empty()) fail(where + ": \"file_name\" must be a file name", name);
    const std::string file_name = std::filesystem::path(file.get<std::string>()).filename().string();
    const int64_t width = integer_field(images[i], "width", where, name);
    const int64_t height = integer_field(images[i], "height", where, name);
    if (width <= 0 || height <= 0 || width > (1 << 20) || height > (1 << 20)) {
      fail(where + ": a picture of " + std::to_string(width) + " x " + std::to_string(height) + " pixels", name);
    }
    if (!file_of_image.emplace(id, file_name).second) fail(where + ": image id " + std::to_string(id) + " again", name);
    PictureDetections picture;
    picture.width = static_cast<int>(width);
    picture.height = static_cast<int>(height);
    if (!results.pictures.emplace(file_name, picture).second) fail(where + ": '" + file_name + "' again", name);
  }
  const nlohmann::json& annotations = array_field(root, "annotations", name);
  for (size_t i = 0; i < annotations.size(); ++i) {
    const std::string where = "annotations[" + std::to_string(i) + "]";
    const int64_t image_id = integer_field(annotations[i], "image_id", where, name);
    const auto image = file_of_image.find(image_id);
    if (image == file_of_image.end()) fail(where + ": image_id " + std::to_string(image_id) + " is not in \"images\"", name);
    const int64_t category = integer_field(annotations[i], "category_id", where, name);
    if (category < 0 || category > 100000) fail(where + ": category_id " + std::to_string(category) + " out of range", name);
    const nlohmann::json& box = field(annotations[i], "bbox", where, name);
    if (!box.is_array() || box.size() != 4) fail(where + ": \"bbox\" must be [x, y, width, height]", name);
    double corner[4];
    for (size_t k = 0; k < 4; ++k) {
      if (!box[k].is_number() || !std::isfinite(box[k].get<double>())) fail(where + ": \"bbox\" holds " + box[k].dump(), name);
      corner[k] = box[k].get<double>();
    }
    if (corner[2] < 0 || corner[3] < 0) fail(where + ": \"bbox\" has a negative width or height", name);
    Detection detection;
    detection.x1 = static_cast<float>(corner[0]);
    detection.y1 = static_cast<float>(corner[1]);
    detection.x2 = static_cast<float>(corner[0] + corner[2]);
    detection.y2 = static_cast<float>(corner[1] + corner[3]);
    detection.score = static_cast<float>(number_field(annotations[i], "score", where, name));
    detection.class_id = static_cast<int>(category);
    results.pictures[image->second].detections.push_back(detection);
    results.max_category_id = std::max(results.max_category_id, detection.class_id);
    ++results.detection_count;
  }
  if (root.contains("categories")) {
    const nlohmann::json& categories = array_field(root, "categories", name);
    for (size_t i = 0; i < categories.size(); ++i) {
      const std::string where = "categories[" + std::to_string(i) + "]";
      const int64_t id = integer_field(categories[i], "id", where, name);
      if (id < 0 || id > 100000) fail(where + ": id " + std::to_string(id) + " out of range", name);
      const nlohmann::json& category_name = field(categories[i], "name", where, name);
      if (!category_name.is_string()) fail(where + ": \"name\" must be a string", name);
      results.category_names[static_cast<int>(id)] = category_name.get<std::string>();
      results.max_category_id = std::max(results.max_category_id, static_cast<int>(id));
    }
  }
  return results;
}

DetectionResults read_detection_results(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorKind::io, "cannot read the detections file", path);
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw Error(ErrorKind::io, "reading failed", path);
  return parse_detection_results(text.str(), path);
}

}  // namespace npukit::vision
