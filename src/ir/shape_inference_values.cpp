// Value rules: the contents of the small integer tensors that models compute from shapes (Shape → Gather →
// Add / Div → Concat → Reshape; ConstantOfShape → Equal → Where → Expand), element by element, so the
// shape rules downstream read them as if they were constants. An element read off a symbolic dim stays
// that symbol (x * 1, x + 0 and x / 1 keep it); anything not computable is an unknown element.
#include <algorithm>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"

namespace npukit::ir {

namespace {

// Elements of output `index` when its shape is static, of rank 0 or 1 and small.
std::optional<int64_t> output_element_count(const ShapeInferenceContext& context, size_t index) {
  if (!context.has_output(index)) return std::nullopt;
  const TensorType& type = context.node().outputs[index]->type;
  if (!type.has_static_shape() || type.shape->size() > 1) return std::nullopt;
  const int64_t count = type.shape->empty() ? 1 : (*type.shape)[0].value;
  if (count > largest_tracked_tensor) return std::nullopt;
  return count;
}

// Sets the output's values when their count matches its shape (a mismatch means the node would fail at run
// time; the kernel reports that, not this).
void give(ShapeInferenceContext& context, ShapeValues values, size_t index = 0) {
  std::optional<int64_t> count = output_element_count(context, index);
  if (count && static_cast<int64_t>(values.size()) == *count) context.set_output_values(index, std::move(values));
}

void shape_values(ShapeInferenceContext& context) {
  const Dims* shape = context.input_shape(0);
  if (!shape) return;
  const int64_t rank = static_cast<int64_t>(shape->size());
  auto clamp = [&](int64_t position) { return std::clamp<int64_t>(position < 0 ? position + rank : position, 0, rank); };
  const int64_t start = clamp(context.node().get_int("start", 0));
  const int64_t end = clamp(context.node().get_int("end", rank));
  ShapeValues values;
  for (int64_t i = start; i < end; ++i) values.push_back(ShapeValue::of((*shape)[i]));
  give(context, values);
}

void size_values(ShapeInferenceContext& context) {
  const Dims* shape = context.input_shape(0);
  if (shape) give(context, {ShapeValue::of(dims_product(*shape, 0, shape->size()))});
}

// Identity, Cast, Squeeze, Unsqueeze, Reshape, Flatten: the elements in the same order.
void same_values(ShapeInferenceContext& context) {
  const ShapeValues* values = context.known_values(0);
  if (!values) return;
  if (context.has_output(0) && context.node().outputs[0]->type.dtype == DType::boolean) {
    ShapeValues flags;  // a Cast to bool
    for (const ShapeValue& value : *values) flags.push_back(value.number ? ShapeValue::of(*value.number != 0 ? 1 : 0) : ShapeValue{});
    give(context, flags);
    return;
  }
  give(context, *values);
}

void gather_values(ShapeInferenceContext& context) {
  const ShapeValues* data = context.known_values(0);
  std::optional<std::vector<int64_t>> indices = context.constant_ints(1);
  if (!data || !indices || context.input_rank(0).value_or(0) != 1) return;
  const int64_t size = static_cast<int64_t>(data->size());
  ShapeValues picked;
  for (int64_t index : *indices) {
    if (index < -size || index >= size) return;
    picked.push_back((*data)[index < 0 ? index + size : index]);
  }
  give(context, picked);
}

void slice_values(ShapeInferenceContext& context) {
  const ShapeValues* data = context.known_values(0);
  if (!data || context.input_rank(0).value_or(0) != 1) return;
  const Node& node = context.node();
  const bool attribute_form = node.has_attribute("starts");
  std::optional<std::vector<int64_t>> starts = attribute_form ? node.get_ints("starts") : context.constant_ints(1);
  std::optional<std::vector<int64_t>> ends = attribute_form ? node.get_ints("ends") : context.constant_ints(2);
  std::optional<std::vector<int64_t>> axes = attribute_form ? node.get_ints("axes", {0}) : std::vector<int64_t>{0};
  if (!attribute_form && context.has_input(3)) axes = context.constant_ints(3);
  std::optional<std::vector<int64_t>> steps = std::vector<int64_t>{1};
  if (!attribute_form && context.has_input(4)) steps = context.constant_ints(4);
  if (!starts || !ends || !axes || !steps || starts->size() != 1 || ends->size() != 1 || axes->size() != 1 ||
      steps->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1) || (*steps)[0] == 0) {
    return;
  }
  const int64_t size = static_cast<int64_t>(data->size());
  int64_t start = (*starts)[0];
  int64_t end = (*ends)[0];
  const int64_t step = (*steps)[0];
  if (start < 0) start = std::max<int64_t>(start, -size) + size;
  if (end < 0) end = std::max<int64_t>(end, -size - 1) + size;
  ShapeValues picked;
  if (step > 0) {
    for (WideSize i = std::clamp<int64_t>(start, 0, size); i < std::clamp<int64_t>(end, 0, size); i += step) {
      picked.push_back((*data)[static_cast<size_t>(i)]);
    }
  } else if (size > 0) {
    for (WideSize i = std::clamp<int64_t>(start, 0, size - 1); i > std::clamp<int64_t>(end, -1, size - 1); i += step) {
      picked.push_back((*data)[static_cast<size_t>(i)]);
    }
  }
  give(context, picked);
}

void concat_values(ShapeInferenceContext& context) {
  ShapeValues joined;
  for (size_t i = 0; i < context.input_count(); ++i) {
    const ShapeValues* values = context.known_values(i);
    if (!values || context.input_rank(i).value_or(0) != 1) return;
    joined.insert(joined.end(), values->begin(), values->end());
  }
  give(context, joined);
}

using ValueOperation = std::function<ShapeValue(const ShapeValue&, const ShapeValue&)>;

// Elementwise over inputs of equal length or of one element (broadcast), the output shape already known.
void elementwise_values(ShapeInferenceContext& context, const ValueOperation& operation) {
  if (context.input_count() != 2) return;
  const ShapeValues* first = context.known_values(0);
  const ShapeValues* second = context.known_values(1);
  if (!first || !second) return;
  const size_t count = std::max(first->size(), second->size());
  if ((first->size() != count && first->size() != 1) || (second->size() != count && second->size() != 1)) return;
  ShapeValues result;
  for (size_t i = 0; i < count; ++i) {
    result.push_back(operation((*first)[first->size() == 1 ? 0 : i], (*second)[second->size() == 1 ? 0 : i]));
  }
  give(context, result);
}

ShapeValue unknown_value() { return ShapeValue{}; }

// Arithmetic on numbers a file may make huge: an overflowing result is unknown.
ShapeValue from_wide(WideSize value) {
  if (value > std::numeric_limits<int64_t>::max() || value < std::numeric_limits<int64_t>::min()) return ShapeValue{};
  return ShapeValue::of(static_cast<int64_t>(value));
}

ShapeValue add(const ShapeValue& a, const ShapeValue& b) {
  if (a.number && b.number) return from_wide(WideSize(*a.number) + *b.number);
  if (b.is(0)) return a;
  if (a.is(0)) return b;
  return unknown_value();
}

ShapeValue subtract(const ShapeValue& a, const ShapeValue& b) {
  if (a.number && b.number) return from_wide(WideSize(*a.number) - *b.number);
  return b.is(0) ? a : unknown_value();
}

ShapeValue multiply(const ShapeValue& a, const ShapeValue& b) {
  if (a.number && b.number) return from_wide(WideSize(*a.number) * *b.number);
  if (b.is(1)) return a;
  if (a.is(1)) return b;
  if (a.is(0) || b.is(0)) return ShapeValue::of(0);
  return unknown_value();
}

// Exact quotients only: there truncation, flooring and float division agree.
ShapeValue divide(const ShapeValue& a, const ShapeValue& b) {
  if (b.is(1)) return a;
  if (!a.number || !b.number || *b.number == 0 || *a.number % *b.number != 0) return unknown_value();
  return from_wide(WideSize(*a.number) / *b.number);  // INT64_MIN / -1 does not fit
}

// Integer Div of non-negative by positive numbers (truncation and flooring agree there too).
ShapeValue integer_divide(const ShapeValue& a, const ShapeValue& b) {
  if (a.number && b.number && *a.number >= 0 && *b.number > 0) return ShapeValue::of(*a.number / *b.number);
  return divide(a, b);
}

void divide_values(ShapeInferenceContext& context) {
  elementwise_values(context, dtype_is_integer(context.input_dtype(0)) ? ValueOperation(integer_divide) : ValueOperation(divide));
}

ShapeValue equal(const ShapeValue& a, const ShapeValue& b) {
  if (a.number && b.number) return ShapeValue::of(*a.number == *b.number ? 1 : 0);
  if (!a.symbol.empty() && a.symbol == b.symbol) return ShapeValue::of(1);
  return unknown_value();
}

ShapeValue maximum(const ShapeValue& a, const ShapeValue& b) {
  return a.number && b.number ? ShapeValue::of(std::max(*a.number, *b.number)) : unknown_value();
}

ShapeValue minimum(const ShapeValue& a, const ShapeValue& b) {
  return a.number && b.number ? ShapeValue::of(std::min(*a.number, *b.number)) : unknown_value();
}

void where_values(ShapeInferenceContext& context) {
  const ShapeValues* condition = context.known_values(0);
  const ShapeValues* chosen = context.known_values(1);
  const ShapeValues* other = context.known_values(2);
  if (!condition || !chosen || !other) return;
  const size_t count = std::max({condition->size(), chosen->size(), other->size()});
  auto at = [count](const ShapeValues& values, size_t i) -> const ShapeValue* {
    if (values.size() == 1) return &values[0];
    return values.size() == count ? &values[i] : nullptr;
  };
  ShapeValues result;
  for (size_t i = 0; i < count; ++i) {
    const ShapeValue* flag = at(*condition, i);
    const ShapeValue* yes = at(*chosen, i);
    const ShapeValue* no = at(*other, i);
    if (!flag || !yes || !no) return;
    result.push_back(!flag->number ? unknown_value() : (*flag->number != 0 ? *yes : *no));
  }
  give(context, result);
}

void constant_of_shape_values(ShapeInferenceContext& context) {
  std::optional<int64_t> count = output_element_count(context, 0);
  if (!count) return;
  int64_t fill = 0;
  if (const Attribute* value = context.node().find_attribute("value"); value && value->kind == Attribute::Kind::tensor) {
    if (value->tensor_value.element_count() != 1) return;
    std::optional<int64_t> element = integral_value(value->tensor_value.value_as_double(0));
    if (!element) return;
    fill = *element;
  }
  give(context, ShapeValues(static_cast<size_t>(*count), ShapeValue::of(fill)));
}

void range_values(ShapeInferenceContext& context) {
  const ShapeValues* start = context.known_values(0);
  const ShapeValues* delta = context.known_values(2);
  std::optional<int64_t> count = output_element_count(context, 0);
  if (!start || !delta || !count || start->size() != 1 || delta->size() != 1 || !(*start)[0].number ||
      !(*delta)[0].number) {
    return;
  }
  ShapeValues values;
  for (int64_t i = 0; i < *count; ++i) values.push_back(from_wide(*(*start)[0].number + WideSize(i) * *(*delta)[0].number));
  give(context, values);
}

}  // namespace

void register_value_rules(ShapeRuleTable& table) {
  table["Shape"] = shape_values;
  table["Size"] = size_values;
  for (const char* op : {"Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape", "Flatten"}) table[op] = same_values;
  table["Gather"] = gather_values;
  table["Slice"] = slice_values;
  table["Concat"] = concat_values;
  table["Add"] = [](ShapeInferenceContext& context) { elementwise_values(context, add); };
  table["Sub"] = [](ShapeInferenceContext& context) { elementwise_values(context, subtract); };
  table["Mul"] = [](ShapeInferenceContext& context) { elementwise_values(context, multiply); };
  table["Div"] = divide_values;
  table["Equal"] = [](ShapeInferenceContext& context) { elementwise_values(context, equal); };
  table["Max"] = [](ShapeInferenceContext& context) { elementwise_values(context, maximum); };
  table["Min"] = [](ShapeInferenceContext& context) { elementwise_values(context, minimum); };
  table["Where"] = where_values;
  table["ConstantOfShape"] = constant_of_shape_values;
  table["Range"] = range_values;
}

}  // namespace npukit::ir
