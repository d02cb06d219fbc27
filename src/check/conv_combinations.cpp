#include "check/conv_combinations.h"

#include <algorithm>

namespace npukit::check {

namespace {

using targets::ParameterCombination;

std::vector<std::string> split_parts(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find('x', start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// Does "3x3" / "anyx3x3" / "1xW" hold `values`? `full_width` is the input width, for a kernel part "W".
bool dims_match(const std::string& pattern, const std::vector<int64_t>& values, const std::vector<int64_t>& input) {
  std::vector<std::string> parts = split_parts(pattern);
  if (parts.size() != values.size()) return false;
  for (size_t axis = 0; axis < parts.size(); ++axis) {
    if (parts[axis] == "any") continue;
    if (parts[axis] == "W") {
      if (axis >= input.size() || values[axis] != input[axis]) return false;
      continue;
    }
    if (std::to_string(values[axis]) != parts[axis]) return false;
  }
  return true;
}

bool any_dims_match(const std::vector<std::string>& patterns, const std::vector<int64_t>& values,
                    const std::vector<int64_t>& input) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return dims_match(pattern, values, input); });
}

bool stride_matches(const ParameterCombination& row, const ConvParameters& parameters) {
  return std::any_of(row.strides.begin(), row.strides.end(), [&](const std::string& pattern) {
    if (pattern == "kernel") return parameters.strides == parameters.kernel;
    return dims_match(pattern, parameters.strides, parameters.input_spatial);
  });
}

bool padding_matches(const ParameterCombination& row, const std::set<std::string>& classes) {
  return std::any_of(row.paddings.begin(), row.paddings.end(),
                     [&](const std::string& padding) { return classes.count(padding) != 0; });
}

std::string pretty(const std::string& pattern) {
  std::string text;
  for (const std::string& part : split_parts(pattern)) {
    text += (text.empty() ? "" : "×") + (part == "W" ? std::string("full width") : part);
  }
  return text;
}

// "1×1 or 1×2", "1×1, 2×1 or 2×2", keeping the table's order and dropping repeats.
std::string join_alternatives(const std::vector<std::string>& values) {
  std::vector<std::string> unique;
  for (const std::string& value : values) {
    if (std::find(unique.begin(), unique.end(), value) == unique.end()) unique.push_back(value);
  }
  std::string text;
  for (size_t i = 0; i < unique.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == unique.size() ? " or " : ", ") + unique[i];
  }
  return text;
}

}  // namespace

std::string format_dims_text(const std::vector<int64_t>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? "×" : "") + std::to_string(values[i]);
  return text;
}

std::optional<ConvParameters> conv_parameters(const ir::Node& node) {
  ConvParameters parameters;
  auto input = ir::static_dims_of(node.input(0));
  auto weight = ir::static_dims_of(node.input(1));
  if (!input || input->size() < 3) return std::nullopt;
  parameters.input_spatial.assign(input->begin() + 2, input->end());
  const size_t rank = parameters.input_spatial.size();
  parameters.kernel = node.get_ints("kernel_shape");
  if (parameters.kernel.empty() && weight && weight->size() == rank + 2) {
    parameters.kernel.assign(weight->begin() + 2, weight->end());
  }
  if (parameters.kernel.size() != rank) return std::nullopt;
  parameters.strides = node.get_ints("strides", std::vector<int64_t>(rank, 1));
  parameters.dilations = node.get_ints("dilations", std::vector<int64_t>(rank, 1));
  if (parameters.strides.size() != rank || parameters.dilations.size() != rank) return std::nullopt;
  const std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  if (auto_pad == "VALID") {
    parameters.pads.assign(rank * 2, 0);
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    parameters.pads.assign(rank * 2, 0);
    for (size_t axis = 0; axis < rank; ++axis) {
      const int64_t in = parameters.input_spatial[axis], stride = std::max<int64_t>(parameters.strides[axis], 1);
      const int64_t effective = (parameters.kernel[axis] - 1) * parameters.dilations[axis] + 1;
      const int64_t out = (in + stride - 1) / stride;
      const int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
      const int64_t small = total / 2, large = total - small;
      parameters.pads[axis] = auto_pad == "SAME_UPPER" ? small : large;
      parameters.pads[axis + rank] = auto_pad == "SAME_UPPER" ? large : small;
    }
  } else {
    parameters.pads = node.get_ints("pads", std::vector<int64_t>(rank * 2, 0));
    if (parameters.pads.size() != rank * 2) return std::nullopt;
  }
  return parameters;
}

std::set<std::string> padding_classes(const ConvParameters& parameters) {
  const size_t rank = parameters.kernel.size();
  bool valid = true, same = true, same_tensorflow = true;
  for (size_t axis = 0; axis < rank; ++axis) {
    const int64_t begin = parameters.pads[axis], end = parameters.pads[axis + rank];
    const int64_t effective = (parameters.kernel[axis] - 1) * parameters.dilations[axis] + 1;
    const int64_t in = parameters.input_spatial[axis], stride = std::max<int64_t>(parameters.strides[axis], 1);
    if (begin != 0 || end != 0) valid = false;
    // Symmetric "same" padding (PyTorch padding=k//2): (k−1)/2 on both sides, which needs an odd dilated kernel.
    if (effective % 2 == 0 || begin != (effective - 1) / 2 || end != begin) same = false;
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
    if (begin != total / 2 || end != total - total / 2) same_tensorflow = false;
  }
  std::set<std::string> classes;
  if (valid) classes.insert("VALID");
  if (same) classes.insert("SAME");
  if (same_tensorflow) classes.insert("SAME_TENSORFLOW");
  return classes;
}

bool combination_holds(const ParameterCombination& row, const ConvParameters& parameters) {
  return any_dims_match(row.kernels, parameters.kernel, parameters.input_spatial) && stride_matches(row, parameters) &&
         any_dims_match(row.dilations, parameters.dilations, parameters.input_spatial) &&
         padding_matches(row, padding_classes(parameters));
}

bool any_combination_holds(const targets::Rule& rule, const ConvParameters& parameters) {
  return std::any_of(rule.combinations.begin(), rule.combinations.end(),
                     [&](const ParameterCombination& row) { return combination_holds(row, parameters); });
}

std::string explain_missing_combination(const targets::Rule& rule, const ConvParameters& parameters,
                                        const std::string& op, const std::string& target_name, const std::string& verb) {
  const std::string kernel = format_dims_text(parameters.kernel);
  const std::string stride = format_dims_text(parameters.strides);
  const std::string dilation = format_dims_text(parameters.dilations);
  std::vector<const ParameterCombination*> rows;
  for (const ParameterCombination& row : rule.combinations) {
    if (any_dims_match(row.kernels, parameters.kernel, parameters.input_spatial)) rows.push_back(&row);
  }
  if (rows.empty()) {
    return op + " " + kernel + " stride " + stride + ": " + target_name + " " + verb + " no " + kernel +
           " kernel (not in its table at any stride)";
  }
  std::vector<const ParameterCombination*> stride_rows;
  std::vector<std::string> strides;
  for (const ParameterCombination* row : rows) {
    for (const std::string& pattern : row->strides) strides.push_back(pattern == "kernel" ? kernel : pretty(pattern));
    if (stride_matches(*row, parameters)) stride_rows.push_back(row);
  }
  if (stride_rows.empty()) {
    return op + " " + kernel + " stride " + stride + ": " + target_name + " " + verb + " " + kernel +
           " only at stride " + join_alternatives(strides);
  }
  std::vector<const ParameterCombination*> dilation_rows;
  std::vector<std::string> dilations;
  for (const ParameterCombination* row : stride_rows) {
    for (const std::string& pattern : row->dilations) dilations.push_back(pretty(pattern));
    if (any_dims_match(row->dilations, parameters.dilations, parameters.input_spatial)) dilation_rows.push_back(row);
  }
  if (dilation_rows.empty()) {
    return op + " " + kernel + " stride " + stride + " dilation " + dilation + ": " + target_name + " " + verb + " " +
           kernel + " at stride " + stride + " only with dilation " + join_alternatives(dilations);
  }
  std::vector<std::string> paddings;
  for (const ParameterCombination* row : dilation_rows) {
    for (const std::string& padding : row->paddings) paddings.push_back(padding);
  }
  const std::set<std::string> classes = padding_classes(parameters);
  std::string pads;
  for (size_t i = 0; i < parameters.pads.size(); ++i) pads += (i ? "," : "") + std::to_string(parameters.pads[i]);
  std::string found;
  for (const std::string& name : classes) found += (found.empty() ? "" : "/") + name;
  return op + " " + kernel + " stride " + stride + " pads " + pads + " (" +
         (found.empty() ? std::string("neither VALID, SAME nor SAME_TENSORFLOW") : found) + "): " + target_name + " " +
         verb + " " + kernel + " at stride " + stride + " only with padding " + join_alternatives(paddings);
}

}  // namespace npukit::check
