#include "check/rule_evaluation.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "check/conv_combinations.h"
#include "inspect/node_cost.h"

namespace npukit::check {

namespace {

using targets::Rule;

std::string format_number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// "9×9", "1×2×2".
std::string format_dims(const std::vector<int64_t>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? "×" : "") + std::to_string(values[i]);
  return text;
}

// "1–8", "at most 8", "at least 2", "one of 1, 2, 4, 8".
std::string describe_allowed(const Rule& rule) {
  if (!rule.allowed_numbers.empty() || !rule.allowed_strings.empty()) {
    std::string text;
    for (double number : rule.allowed_numbers) text += (text.empty() ? "" : ", ") + format_number(number);
    for (const std::string& word : rule.allowed_strings) text += (text.empty() ? "" : ", ") + word;
    size_t count = rule.allowed_numbers.size() + rule.allowed_strings.size();
    return count == 1 ? "only " + text : "one of " + text;
  }
  if (rule.minimum && rule.maximum) {
    if (*rule.minimum == *rule.maximum) return "only " + format_number(*rule.minimum);
    return format_number(*rule.minimum) + "–" + format_number(*rule.maximum);
  }
  if (rule.maximum) return "at most " + format_number(*rule.maximum);
  if (rule.minimum) return "at least " + format_number(*rule.minimum);
  return "other values";
}

bool in_bounds(const Rule& rule, double value) {
  if (!rule.allowed_numbers.empty()) {
    return std::find(rule.allowed_numbers.begin(), rule.allowed_numbers.end(), value) != rule.allowed_numbers.end();
  }
  if (rule.minimum && value < *rule.minimum) return false;
  if (rule.maximum && value > *rule.maximum) return false;
  return true;
}


std::optional<size_t> known_rank(const ir::Value* value) {
  if (!value || !value->type.shape) return std::nullopt;
  return value->type.shape->size();
}

// Inputs and outputs that move at run time: constants are weights, not activations.
std::vector<const ir::Value*> activations(const ir::Node& node, const ConstantPredicate& is_constant) {
  std::vector<const ir::Value*> values;
  for (const ir::Value* input : node.inputs) {
    if (input && !is_constant(input)) values.push_back(input);
  }
  for (const ir::Value* output : node.outputs) {
    if (output) values.push_back(output);
  }
  return values;
}

bool is_conv_family(const ir::Node& node) {
  return node.op_type == "Conv" || node.op_type == "ConvTranspose" || node.op_type == "ConvInteger" ||
         node.op_type == "QLinearConv";
}

int64_t input_channels(const ir::Node& node) {
  auto dims = ir::static_dims_of(node.input(0));
  return dims && dims->size() >= 2 ? (*dims)[1] : -1;
}

enum class ConvKind { regular, depthwise, grouped };

ConvKind conv_kind(const ir::Node& node) {
  int64_t group = node.get_int("group", 1);
  if (group <= 1) return ConvKind::regular;
  return group == input_channels(node) ? ConvKind::depthwise : ConvKind::grouped;
}

// Spatial kernel dims: the attribute, else the weight's dims after the two channel axes.
std::optional<std::vector<int64_t>> kernel_dims(const ir::Node& node) {
  std::vector<int64_t> kernel = node.get_ints("kernel_shape");
  if (!kernel.empty()) return kernel;
  if (is_conv_family(node)) {
    auto weight = ir::static_dims_of(node.input(1));
    if (weight && weight->size() > 2) return std::vector<int64_t>(weight->begin() + 2, weight->end());
  }
  return std::nullopt;
}

size_t spatial_rank(const ir::Node& node) {
  if (auto kernel = kernel_dims(node)) return kernel->size();
  auto rank = known_rank(node.input(0));
  return rank && *rank > 2 ? *rank - 2 : 0;
}

// Explicit pads, or the ones SAME_UPPER / SAME_LOWER imply for the known shapes.
std::optional<std::vector<int64_t>> pad_values(const ir::Node& node) {
  std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    auto in = ir::static_dims_of(node.input(0));
    auto out = ir::static_dims_of(node.output(0));
    auto kernel = kernel_dims(node);
    if (!in || !out || !kernel) return std::nullopt;
    std::vector<int64_t> strides = node.get_ints("strides", std::vector<int64_t>(kernel->size(), 1));
    std::vector<int64_t> dilations = node.get_ints("dilations", std::vector<int64_t>(kernel->size(), 1));
    std::vector<int64_t> pads(kernel->size() * 2, 0);
    for (size_t axis = 0; axis < kernel->size() && axis + 2 < in->size(); ++axis) {
      int64_t total = std::max<int64_t>(
          ((*out)[axis + 2] - 1) * strides[axis] + ((*kernel)[axis] - 1) * dilations[axis] + 1 - (*in)[axis + 2], 0);
      int64_t small = total / 2, large = total - small;
      pads[axis] = auto_pad == "SAME_UPPER" ? small : large;
      pads[axis + kernel->size()] = auto_pad == "SAME_UPPER" ? large : small;
    }
    return pads;
  }
  return node.get_ints("pads", std::vector<int64_t>(spatial_rank(node) * 2, 0));
}

std::string target_label(const targets::TargetProfile& profile) {
  std::string label = profile.id;
  for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return label;
}

}  // namespace

std::string describe_op_kind(const ir::Node& node) {
  if (is_conv_family(node)) {
    switch (conv_kind(node)) {
      case ConvKind::depthwise: return "depthwise " + node.op_type;
      case ConvKind::grouped: return "grouped " + node.op_type;
      case ConvKind::regular: break;
    }
  }
  return node.op_type;
}

std::optional<RuleFinding> evaluate_rule(const Rule& rule, const ir::Node& node, const targets::TargetProfile& profile,
                                         const ConstantPredicate& is_constant) {
  // Depthwise-only and regular-only limits concern convolutions of that kind alone.
  if (rule.applies_to != "all") {
    bool depthwise = is_conv_family(node) && conv_kind(node) == ConvKind::depthwise;
    if ((rule.applies_to == "depthwise") != depthwise) return std::nullopt;
  }
  // A rule for 3-D convolutions (or 2-D ones) only.
  if (rule.spatial_rank > 0 && static_cast<int64_t>(spatial_rank(node)) != rule.spatial_rank) return std::nullopt;
  const std::string op = describe_op_kind(node);
  const std::string allows = target_label(profile) + " allows " + describe_allowed(rule);
  auto finding = [&](const std::string& what) {
    RuleFinding result;
    result.refuses = rule.effect == targets::RuleEffect::refuse;
    result.off_optimized_path = rule.effect == targets::RuleEffect::slow;
    result.explanation = what;
    result.fix = rule.fix;
    result.source = rule.source;
    result.check = rule.check;
    return result;
  };
  auto unknown = [&](const std::string& property) {
    return finding(op + " " + property + " unknown (dynamic or missing shape): cannot verify, " + allows);
  };
  // Every entry of a per-axis attribute against the bounds.
  auto check_each = [&](const std::string& property, const std::optional<std::vector<int64_t>>& values)
      -> std::optional<RuleFinding> {
    if (!values) return unknown(property);
    for (int64_t value : *values) {
      if (!in_bounds(rule, static_cast<double>(value))) return finding(op + " " + property + " " + format_dims(*values) + ": " + allows);
    }
    return std::nullopt;
  };

  const std::string& check = rule.check;
  if (check == "always") return finding(op + ": " + rule.text);
  if (check == "conv_combinations") {
    std::optional<ConvParameters> parameters = conv_parameters(node);
    if (!parameters) return unknown("kernel, stride or input shape");
    if (any_combination_holds(rule, *parameters)) return std::nullopt;
    const bool slow = rule.effect == targets::RuleEffect::slow;
    std::string text = explain_missing_combination(rule, *parameters, op, profile.name, slow ? "optimizes" : "supports");
    if (slow) text += " (runs on the " + profile.accelerator_name + " off the optimized path: supported, slower)";
    if (!rule.text.empty()) text += "; " + rule.text;
    return finding(text);
  }
  if (check == "kernel") return check_each("kernel", kernel_dims(node));
  if (check == "stride") {
    return check_each("stride", node.get_ints("strides", std::vector<int64_t>(spatial_rank(node), 1)));
  }
  if (check == "dilation") {
    return check_each("dilation", node.get_ints("dilations", std::vector<int64_t>(spatial_rank(node), 1)));
  }
  if (check == "pad") return check_each("pad", pad_values(node));
  if (check == "same_dilation") {
    std::vector<int64_t> dilations = node.get_ints("dilations");
    for (int64_t d : dilations) {
      if (d != dilations.front()) return finding(op + " dilation " + format_dims(dilations) + ": " + target_label(profile) + " needs the same dilation on every axis");
    }
    return std::nullopt;
  }
  if (check == "group") {
    const char* kind_name = "regular";
    switch (conv_kind(node)) {
      case ConvKind::depthwise: kind_name = "depthwise"; break;
      case ConvKind::grouped: kind_name = "grouped"; break;
      case ConvKind::regular: break;
    }
    if (std::find(rule.allowed_strings.begin(), rule.allowed_strings.end(), kind_name) == rule.allowed_strings.end()) {
      return finding(op + " with group " + std::to_string(node.get_int("group", 1)) + ": " + allows);
    }
    return std::nullopt;
  }
  if (check == "channels" && rule.multiple_of) {
    const auto multiple = static_cast<int64_t>(*rule.multiple_of);
    auto dims = ir::static_dims_of(node.output(0));
    if (!dims) return unknown("channels");
    if (dims->size() >= 2 && (*dims)[1] % multiple != 0) {
      return finding(op + " with " + std::to_string((*dims)[1]) + " output channels: " + profile.name +
                     " lays channels out in groups of " + std::to_string(multiple) + " (" + rule.text + ")");
    }
    return std::nullopt;
  }
  if (check == "channels") {
    for (const ir::Value* value : {static_cast<const ir::Value*>(node.input(0)), static_cast<const ir::Value*>(node.output(0))}) {
      auto dims = ir::static_dims_of(value);
      if (!dims) return unknown("channels");
      if (dims->size() >= 2 && !in_bounds(rule, static_cast<double>((*dims)[1]))) {
        return finding(op + " with " + std::to_string((*dims)[1]) + " channels: " + allows);
      }
    }
    return std::nullopt;
  }
  if (check == "rank" || check == "non_unit_dims" || check == "dim" || check == "elements" || check == "static_shape") {
    for (const ir::Value* value : activations(node, is_constant)) {
      if (check == "static_shape") {
        if (!ir::static_dims_of(value)) {
          return finding(op + " tensor '" + value->name + "' has dynamic shape " + value->type.to_string() + ": " +
                         target_label(profile) + " needs static shapes");
        }
        continue;
      }
      if (check == "rank") {
        auto rank = known_rank(value);
        if (!rank) return unknown("rank");
        if (!in_bounds(rule, static_cast<double>(*rank))) {
          return finding(op + " on a " + std::to_string(*rank) + "-D tensor '" + value->name + "': " + target_label(profile) +
                         " allows rank " + describe_allowed(rule));
        }
        continue;
      }
      auto dims = ir::static_dims_of(value);
      if (!dims) return unknown("shape");
      if (check == "non_unit_dims") {
        auto count = std::count_if(dims->begin(), dims->end(), [](int64_t d) { return d > 1; });
        if (!in_bounds(rule, static_cast<double>(count))) {
          return finding(op + " tensor '" + value->name + "' [" + format_dims(*dims) + "] has " + std::to_string(count) +
                         " dimensions larger than 1: " + allows);
        }
      } else if (check == "dim") {
        for (size_t axis = 1; axis < dims->size(); ++axis) {
          if (!in_bounds(rule, static_cast<double>((*dims)[axis]))) {
            return finding(op + " tensor '" + value->name + "' dimension " + std::to_string(axis) + " is " +
                           std::to_string((*dims)[axis]) + ": " + allows);
          }
        }
      } else {
        auto count = inspect::static_element_count(value);
        if (count && !in_bounds(rule, static_cast<double>(*count))) {
          return finding(op + " tensor '" + value->name + "' has " + std::to_string(*count) + " elements: " + allows);
        }
      }
    }
    return std::nullopt;
  }
  if (check == "input_dims") {
    auto dims = ir::static_dims_of(node.input(0));
    if (!dims) return unknown("input shape");
    for (int64_t axis : rule.axes) {
      if (axis < 0 || axis >= static_cast<int64_t>(dims->size())) continue;
      if (!in_bounds(rule, static_cast<double>((*dims)[axis]))) {
        return finding(op + " input [" + format_dims(*dims) + "] axis " + std::to_string(axis) + " is " +
                       std::to_string((*dims)[axis]) + ": " + allows);
      }
    }
    return std::nullopt;
  }
  if (check == "batch") {
    auto dims = ir::static_dims_of(node.input(0));
    if (!dims) return unknown("batch");
    if (!dims->empty() && !in_bounds(rule, static_cast<double>((*dims)[0]))) {
      return finding(op + " batch " + std::to_string((*dims)[0]) + ": " + allows);
    }
    return std::nullopt;
  }
  if (check == "axis") {
    int64_t axis = node.get_int("axis", rule.default_number ? static_cast<int64_t>(*rule.default_number) : 0);
    auto rank = known_rank(node.input(0));
    if (axis < 0) {
      if (!rank) return unknown("axis");
      axis += static_cast<int64_t>(*rank);
    }
    if (!in_bounds(rule, static_cast<double>(axis))) {
      return finding(op + " along axis " + std::to_string(axis) + (rank ? " of a " + std::to_string(*rank) + "-D tensor" : "") + ": " + allows);
    }
    return std::nullopt;
  }
  if (check == "attribute") {
    const ir::Attribute* attribute = node.find_attribute(rule.attribute);
    if (!rule.allowed_strings.empty()) {
      std::string value = attribute && attribute->kind == ir::Attribute::Kind::string ? attribute->string_value : rule.default_string;
      if (std::find(rule.allowed_strings.begin(), rule.allowed_strings.end(), value) == rule.allowed_strings.end()) {
        return finding(op + " " + rule.attribute + " '" + value + "': " + allows);
      }
      return std::nullopt;
    }
    double value = attribute && attribute->kind == ir::Attribute::Kind::integer ? static_cast<double>(attribute->int_value)
                   : attribute && attribute->kind == ir::Attribute::Kind::floating ? attribute->float_value
                   : rule.default_number.value_or(0);
    if (!in_bounds(rule, value)) return finding(op + " " + rule.attribute + " " + format_number(value) + ": " + allows);
    return std::nullopt;
  }
  if (check == "resize_scale") {
    auto in = ir::static_dims_of(node.input(0));
    auto out = ir::static_dims_of(node.output(0));
    if (!in || !out || in->size() != out->size()) return unknown("scale");
    for (size_t axis = 0; axis < in->size(); ++axis) {
      int64_t from = (*in)[axis], to = (*out)[axis];
      if (from == to) continue;
      bool spatial = axis >= 2;
      bool integer_upscale = from > 0 && to % from == 0;
      // Broadcasting a 1×1 map to H×W is its own case on the NPUs that list it; it counts as an integer scale.
      if (!spatial || !integer_upscale || (from != 1 && !in_bounds(rule, static_cast<double>(to / from)))) {
        std::ostringstream scale;
        scale << static_cast<double>(to) / static_cast<double>(from);
        return finding(op + " scale " + scale.str() + " on axis " + std::to_string(axis) + " (" + std::to_string(from) +
                       " → " + std::to_string(to) + "): " + target_label(profile) + " allows integer scales " +
                       describe_allowed(rule) + " on H and W");
      }
    }
    return std::nullopt;
  }
  if (check == "constant_input") {
    const ir::Value* input = node.input(static_cast<size_t>(rule.input_index));
    if (input && !is_constant(input)) {
      return finding(op + " input " + std::to_string(rule.input_index) + " '" + input->name + "' is computed at run time: " +
                     target_label(profile) + " needs it constant");
    }
    return std::nullopt;
  }
  if (check == "constant_input_values") {
    const ir::Value* input = node.input(static_cast<size_t>(rule.input_index));
    if (!input) return std::nullopt;
    if (!input->initializer) {
      return finding(op + " input " + std::to_string(rule.input_index) + " is not a constant: cannot verify, " + allows);
    }
    const Tensor& values = *input->initializer;
    for (int64_t i = 0; i < values.element_count(); ++i) {
      if (!in_bounds(rule, values.value_as_double(i))) {
        return finding(op + " input " + std::to_string(rule.input_index) + " holds " + format_number(values.value_as_double(i)) + ": " + allows);
      }
    }
    return std::nullopt;
  }
  if (check == "reduction_dim") {
    auto a = ir::static_dims_of(node.input(0));
    if (!a || a->empty()) return unknown("reduction size");
    int64_t k = a->back();
    if (node.op_type == "Gemm" && node.get_int("transA", 0) && a->size() == 2) k = (*a)[0];
    if (!in_bounds(rule, static_cast<double>(k))) return finding(op + " reduction size K = " + std::to_string(k) + ": " + allows);
    return std::nullopt;
  }
  if (check == "kernel_fan_in") {
    auto kernel = kernel_dims(node);
    int64_t channels = input_channels(node);
    if (!kernel || channels < 0) return unknown("kernel fan-in");
    int64_t fan_in = channels / std::max<int64_t>(node.get_int("group", 1), 1);
    for (int64_t k : *kernel) fan_in *= k;
    if (!in_bounds(rule, static_cast<double>(fan_in))) {
      return finding(op + " kernel area × input channels = " + std::to_string(fan_in) + ": " + allows);
    }
    return std::nullopt;
  }
  if (check == "producer_op") {
    const ir::Value* input = node.input(0);
    std::string producer = input && input->producer ? input->producer->op_type : "a graph input";
    if (std::find(rule.allowed_strings.begin(), rule.allowed_strings.end(), producer) == rule.allowed_strings.end()) {
      std::string allowed_producers;
      for (const std::string& name : rule.allowed_strings) allowed_producers += (allowed_producers.empty() ? "" : " or ") + name;
      return finding(op + " follows " + producer + ": " + target_label(profile) + " runs it only right after " + allowed_producers);
    }
    return std::nullopt;
  }
  if (check == "dtype") {
    for (const ir::Value* value : activations(node, is_constant)) {
      std::string name(dtype_name(value->type.dtype));
      if (std::find(rule.allowed_strings.begin(), rule.allowed_strings.end(), name) == rule.allowed_strings.end()) {
        return finding(op + " tensor '" + value->name + "' is " + name + ": " + allows);
      }
    }
    return std::nullopt;
  }
  return finding(op + ": the profile's check '" + check + "' is not known to this npukit");
}

}  // namespace npukit::check
