#include "vision/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "npukit/error.h"
#include "vision/image_decoding.h"

namespace npukit::vision {

namespace {

namespace fs = std::filesystem;

std::string read_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorKind::io, "cannot read the file", path);
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw Error(ErrorKind::io, "reading failed", path);
  return text.str();
}

std::string trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// Drops a YAML comment (" #…" or a line starting with #) outside quotes.
std::string strip_comment(const std::string& line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

std::string unquote(const std::string& text, const std::string& where) {
  const std::string value = trim(text);
  if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') && value.back() == value.front()) {
    return value.substr(1, value.size() - 2);
  }
  if (!value.empty() && (value.front() == '\'' || value.front() == '"')) {
    throw Error(ErrorKind::invalid_argument, "unterminated quoted class name " + value, where);
  }
  return value;
}

// Splits a flow collection's inside ("a, 'b, c', d") at commas outside quotes.
std::vector<std::string> split_flow(const std::string& inside) {
  std::vector<std::string> items;
  std::string current;
  char quote = 0;
  for (char c : inside) {
    if (quote) {
      if (c == quote) quote = 0;
      current += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      current += c;
    } else if (c == ',') {
      items.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!trim(current).empty() || !items.empty()) items.push_back(current);
  return items;
}

bool parse_class_key(const std::string& text, int& key) {
  const std::string value = trim(text);
  if (value.empty() || value.size() > 6 || !std::all_of(value.begin(), value.end(), ::isdigit)) return false;
  key = std::stoi(value);
  return true;
}

// "0: a" entries in any order, keys exactly 0..n-1.
std::vector<std::string> dense_names(const std::map<int, std::string>& entries, const std::string& where) {
  std::vector<std::string> names;
  for (const auto& [key, name] : entries) {
    if (key != static_cast<int>(names.size())) {
      throw Error(ErrorKind::invalid_argument, "data.yaml names: class ids must be 0, 1, 2, … without gaps; " +
                      std::to_string(names.size()) + " is missing", where);
    }
    names.push_back(name);
  }
  return names;
}

bool parse_number(const std::string& token, double& value) {
  if (token.empty()) return false;
  char* end = nullptr;
  value = std::strtod(token.c_str(), &end);
  return end == token.c_str() + token.size() && std::isfinite(value);
}

}  // namespace

std::vector<std::string> parse_data_yaml_names(const std::string& text, const std::string& name) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(strip_comment(line));
  for (size_t index = 0; index < lines.size(); ++index) {
    if (lines[index].rfind("names:", 0) != 0) continue;
    const std::string where = name + ":" + std::to_string(index + 1);
    std::string rest = trim(lines[index].substr(6));
    if (!rest.empty() && (rest.front() == '[' || rest.front() == '{')) {
      const char close = rest.front() == '[' ? ']' : '}';
      // A flow collection may continue on the next lines.
      for (size_t next = index + 1; rest.find(close) == std::string::npos && next < lines.size(); ++next) {
        rest += " " + trim(lines[next]);
      }
      const size_t end = rest.rfind(close);
      if (end == std::string::npos) {
        throw Error(ErrorKind::invalid_argument, std::string("data.yaml names: the list is not closed with '") + close + "'",
                    where);
      }
      std::vector<std::string> items = split_flow(rest.substr(1, end - 1));
      if (rest.front() == '[') {
        std::vector<std::string> names;
        for (const std::string& item : items) names.push_back(unquote(item, where));
        if (std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.empty(); })) {
          throw Error(ErrorKind::invalid_argument, "data.yaml names: an empty class name", where);
        }
        return names;
      }
      std::map<int, std::string> entries;
      for (const std::string& item : items) {
        const size_t colon = item.find(':');
        int key = 0;
        if (colon == std::string::npos || !parse_class_key(item.substr(0, colon), key)) {
          throw Error(ErrorKind::invalid_argument, "data.yaml names: expected 'ID: name', got '" + trim(item) + "'", where);
        }
        entries[key] = unquote(item.substr(colon + 1), where);
      }
      return dense_names(entries, where);
    }
    if (!rest.empty()) {
      throw Error(ErrorKind::invalid_argument, "data.yaml names: expected a list or a map, got '" + rest + "'", where);
    }
    // Block form: the following lines that are indented or start with "- ".
    std::vector<std::string> list;
    std::map<int, std::string> entries;
    for (size_t next = index + 1; next < lines.size(); ++next) {
      const std::string& line = lines[next];
      const std::string item = trim(line);
      if (item.empty()) continue;
      const bool indented = line[0] == ' ' || line[0] == '\t';
      if (!indented && item.rfind("- ", 0) != 0 && item != "-") break;
      const std::string item_where = name + ":" + std::to_string(next + 1);
      if (item[0] == '-') {
        list.push_back(unquote(item.substr(1), item_where));
        continue;
      }
      const size_t colon = item.find(':');
      int key = 0;
      if (colon == std::string::npos || !parse_class_key(item.substr(0, colon), key)) {
        throw Error(ErrorKind::invalid_argument, "data.yaml names: expected '- name' or 'ID: name', got '" + item + "'",
                    item_where);
      }
      if (entries.count(key)) {
        throw Error(ErrorKind::invalid_argument, "data.yaml names: class " + std::to_string(key) + " given twice", item_where);
      }
      entries[key] = unquote(item.substr(colon + 1), item_where);
    }
    if (!list.empty() && !entries.empty()) {
      throw Error(ErrorKind::invalid_argument, "data.yaml names: mixes '- name' and 'ID: name' lines", where);
    }
    if (list.empty() && entries.empty()) {
      throw Error(ErrorKind::invalid_argument, "data.yaml names: no class names follow 'names:'", where);
    }
    return list.empty() ? dense_names(entries, where) : list;
  }
  return {};
}

std::vector<LabelBox> parse_label_text(const std::string& text, const std::string& name) {
  std::vector<LabelBox> boxes;
  std::istringstream stream(text);
  int line_number = 0;
  for (std::string line; std::getline(stream, line);) {
    ++line_number;
    const std::string where = name + ":" + std::to_string(line_number);
    std::istringstream fields(line);
    std::vector<std::string> tokens;
    for (std::string token; fields >> token;) tokens.push_back(token);
    if (tokens.empty()) continue;
    const bool polygon = tokens.size() >= 7 && tokens.size() % 2 == 1;
    if (tokens.size() != 5 && !polygon) {
      throw Error(ErrorKind::invalid_argument,
                  "expected 'class cx cy w h' (5 numbers) or a polygon 'class x1 y1 x2 y2 x3 y3 …', got " +
                      std::to_string(tokens.size()) + " fields: '" + trim(line) + "'", where);
    }
    double class_value = 0;
    if (!parse_number(tokens[0], class_value) || class_value < 0 || class_value != std::floor(class_value) ||
        class_value > 1e6) {
      throw Error(ErrorKind::invalid_argument, "the class '" + tokens[0] + "' is not a non-negative integer", where);
    }
    std::vector<double> values;
    for (size_t i = 1; i < tokens.size(); ++i) {
      double value = 0;
      if (!parse_number(tokens[i], value)) {
        throw Error(ErrorKind::invalid_argument, "field " + std::to_string(i + 1) + " '" + tokens[i] + "' is not a number",
                    where);
      }
      // Ultralytics refuses coordinates outside 0..1 too: such a file was written in pixels, not normalized.
      if (value < 0 || value > 1) {
        throw Error(ErrorKind::invalid_argument, "field " + std::to_string(i + 1) + " is " + tokens[i] +
                        ": YOLO labels are normalized to the picture (0..1), not in pixels", where);
      }
      values.push_back(value);
    }
    LabelBox box;
    box.class_id = static_cast<int>(class_value);
    box.line = line_number;
    if (!polygon) {
      box.center_x = values[0], box.center_y = values[1], box.width = values[2], box.height = values[3];
    } else {
      double x1 = 1, y1 = 1, x2 = 0, y2 = 0;
      for (size_t i = 0; i + 1 < values.size(); i += 2) {
        x1 = std::min(x1, values[i]), x2 = std::max(x2, values[i]);
        y1 = std::min(y1, values[i + 1]), y2 = std::max(y2, values[i + 1]);
      }
      box.center_x = (x1 + x2) / 2, box.center_y = (y1 + y2) / 2, box.width = x2 - x1, box.height = y2 - y1;
    }
    if (!(box.width > 0 && box.height > 0)) {
      throw Error(ErrorKind::invalid_argument, "the box has no area (width or height 0)", where);
    }
    boxes.push_back(box);
  }
  return boxes;
}

DetectionDataset read_detection_dataset(const std::string& directory) {
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    throw Error(ErrorKind::io, "no such data set directory (expected DIR/images and DIR/labels, YOLO format)", directory);
  }
  DetectionDataset dataset;
  dataset.directory = directory;
  const fs::path root(directory);
  const fs::path images_root = root / "images";
  const fs::path labels_root = root / "labels";
  if (!fs::is_directory(images_root, error)) {
    throw Error(ErrorKind::invalid_argument, "a YOLO data set has its pictures in an images/ directory; there is none",
                directory);
  }
  for (const char* yaml_name : {"data.yaml", "dataset.yaml"}) {
    const fs::path yaml = root / yaml_name;
    if (fs::is_regular_file(yaml, error)) {
      dataset.class_names = parse_data_yaml_names(read_text_file(yaml.string()), yaml.string());
      if (!dataset.class_names.empty()) dataset.names_source = yaml.string();
      break;
    }
  }
  std::vector<fs::path> pictures;
  for (fs::recursive_directory_iterator it(images_root, error), end; !error && it != end; it.increment(error)) {
    if (!it->is_regular_file(error)) continue;
    std::string extension = it->path().extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(), ::tolower);
    if (extension == ".jpg" || extension == ".jpeg" || extension == ".png" || extension == ".bmp") pictures.push_back(it->path());
  }
  if (error) throw Error(ErrorKind::io, "cannot list the directory: " + error.message(), images_root.string());
  if (pictures.empty()) {
    throw Error(ErrorKind::invalid_argument, "the data set has no pictures (.jpg, .jpeg, .png, .bmp) in images/", directory);
  }
  std::sort(pictures.begin(), pictures.end());
  for (const fs::path& picture : pictures) {
    DatasetImage image;
    image.image_path = picture.string();
    const fs::path label = (labels_root / fs::relative(picture, images_root)).replace_extension(".txt");
    if (fs::exists(label, error)) {
      if (!fs::is_regular_file(label, error)) throw Error(ErrorKind::io, "the label path is not a file", label.string());
      image.label_path = label.string();
      image.boxes = parse_label_text(read_text_file(image.label_path), image.label_path);
      dataset.label_file_count += 1;
      for (const LabelBox& box : image.boxes) dataset.max_class_id = std::max(dataset.max_class_id, box.class_id);
    }
    dataset.images.push_back(std::move(image));
  }
  if (!dataset.class_names.empty() && dataset.max_class_id >= static_cast<int>(dataset.class_names.size())) {
    for (const DatasetImage& image : dataset.images) {
      for (const LabelBox& box : image.boxes) {
        if (box.class_id >= static_cast<int>(dataset.class_names.size())) {
          throw Error(ErrorKind::invalid_argument, "class " + std::to_string(box.class_id) + " is beyond the " +
                          std::to_string(dataset.class_names.size()) + " names of " + dataset.names_source,
                      image.label_path + ":" + std::to_string(box.line));
        }
      }
    }
  }
  return dataset;
}

}  // namespace npukit::vision
