// Shape rules of ops that move data without computing on it: Reshape, Flatten, Squeeze / Unsqueeze,
// Transpose, Concat, Split, Slice, Tile, Expand, Pad, DepthToSpace / SpaceToDepth (Resize and Upsample:
// shape_inference_resize.cpp).
//
// Their parameters (targets, bounds, repeats, pads, scales) are often input tensors: when such an input is
// not constant, the rules still give what does not depend on it (the rank, the dims it cannot change).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"

namespace npukit::ir {

namespace {

// Parameters given as an attribute in older opsets and as input `index` in newer ones. nullopt when the
// input is there but not constant, or neither is there (`present` tells which).
std::optional<std::vector<int64_t>> attribute_or_input(const ShapeInferenceContext& context, const std::string& key,
                                                       size_t index, bool* present = nullptr) {
  if (context.node().has_attribute(key)) {
    if (present) *present = true;
    return context.node().get_ints(key);
  }
  if (present) *present = context.has_input(index);
  return context.has_input(index) ? context.constant_ints(index) : std::nullopt;
}

// ---- Reshape, Flatten, Squeeze, Unsqueeze ---------------------------------------------------------------

// Symbolic dims that a Reshape's -1 can cancel: the multiset of symbols, or nullopt if a dim is unknown.
std::optional<std::multiset<std::string>> symbols_of(const Dims& dims, size_t skip = std::numeric_limits<size_t>::max()) {
  std::multiset<std::string> symbols;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i == skip || dims[i].is_static()) continue;
    if (dims[i].symbol.empty()) return std::nullopt;
    symbols.insert(dims[i].symbol);
  }
  return symbols;
}

int64_t static_product(const ShapeInferenceContext& context, const Dims& dims,
                       size_t skip = std::numeric_limits<size_t>::max()) {
  int64_t product = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i != skip && dims[i].is_static()) product = narrow_size(context, WideSize(product) * dims[i].value);
  }
  return product;
}

void reshape_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  // The target: an attribute (opset 1), constant data, or values computed from shapes (possibly symbolic:
  // an element read off a symbolic dim is that dim, never 0 or -1).
  std::optional<ShapeValues> target;
  if (context.node().has_attribute("shape")) {
    target.emplace();
    for (int64_t size : context.node().get_ints("shape")) target->push_back(ShapeValue::of(size));
  } else if (const ShapeValues* values = context.known_values(1)) {
    target = *values;
  }
  if (!target) {
    std::optional<size_t> rank = context.rank_from_length(1);
    context.set_output(0, dtype, rank ? std::optional<Dims>(unknown_dims(*rank)) : std::nullopt);
    return;
  }
  const bool allow_zero = context.node().get_int("allowzero", 0) != 0;
  Dims output;
  std::optional<size_t> inferred_position;
  for (size_t i = 0; i < target->size(); ++i) {
    if (!(*target)[i].number) {
      output.push_back((*target)[i].to_dim());
      continue;
    }
    const int64_t size = *(*target)[i].number;
    if (size == -1) {
      if (inferred_position) context.fail("the target shape has more than one -1");
      inferred_position = i;
      output.push_back(unknown_dim());
    } else if (size == 0 && !allow_zero) {
      if (!input) {
        output.push_back(unknown_dim());
      } else if (i >= input->size()) {
        context.fail("target dim " + std::to_string(i) + " is 0 (copy the input's) but the input " +
                     dims_to_string(*input) + " has no dim " + std::to_string(i));
      } else {
        output.push_back((*input)[i]);
      }
    } else if (size < 0) {
      context.fail("the target shape holds " + std::to_string(size));
    } else {
      output.push_back(Dim::fixed(size));
    }
  }
  if (!input) {
    context.set_output(0, dtype, output);
    return;
  }
  const int64_t input_static = static_product(context, *input);
  std::optional<std::multiset<std::string>> input_symbols = symbols_of(*input);
  if (inferred_position) {
    std::optional<std::multiset<std::string>> output_symbols = symbols_of(output, *inferred_position);
    // The -1 is known when the symbols on both sides cancel: what is left is a ratio of static products.
    if (input_symbols && output_symbols && *input_symbols == *output_symbols) {
      const int64_t other = static_product(context, output, *inferred_position);
      if (other == 0 || input_static % other != 0) {
        context.fail("cannot reshape " + dims_to_string(*input) + " into " + dims_to_string(output) +
                     ": the element count is not a multiple of " + std::to_string(other));
      }
      output[*inferred_position] = Dim::fixed(input_static / other);
    }
  } else if (input_symbols && input_symbols->empty()) {
    std::optional<std::multiset<std::string>> output_symbols = symbols_of(output);
    if (output_symbols && output_symbols->empty() && static_product(context, output) != input_static) {
      context.fail("cannot reshape " + dims_to_string(*input) + " (" + std::to_string(input_static) + " elements) into " +
                   dims_to_string(output) + " (" + std::to_string(static_product(context, output)) + " elements)");
    }
  }
  context.set_output(0, dtype, output);
}

// A product of dims; a single dim keeps its symbol.
Dim fold_dims(const Dims& dims, size_t begin, size_t end) {
  if (end == begin + 1) return dims[begin];
  return dims_product(dims, begin, end);
}

void flatten_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) return context.set_output_like_input(0, 0);
  const int64_t rank = static_cast<int64_t>(input->size());
  int64_t axis = context.node().get_int("axis", 1);
  if (axis < -rank || axis > rank) context.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  // Named locals, not a braced list: fold_dims may throw (see depth_space_rule on GCC 12).
  Dim outer = fold_dims(*input, 0, axis);
  Dim inner = fold_dims(*input, axis, rank);
  Dims output;
  output.push_back(std::move(outer));
  output.push_back(std::move(inner));
  context.set_output(0, context.input_dtype(0), output);
}

void squeeze_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  bool present = false;
  std::optional<std::vector<int64_t>> axes = attribute_or_input(context, "axes", 1, &present);
  if (!input || (present && !axes)) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const int64_t rank = static_cast<int64_t>(input->size());
  std::set<int64_t> removed;
  if (!present) {  // every dim of size 1; a dim that is not static might be 1 or not
    for (int64_t axis = 0; axis < rank; ++axis) {
      if (!(*input)[axis].is_static()) {
        context.set_output(0, dtype, std::nullopt);
        return;
      }
      if ((*input)[axis].value == 1) removed.insert(axis);
    }
  }
  for (int64_t axis : axes.value_or(std::vector<int64_t>{})) {
    const int64_t normalized = context.normalize_axis(axis, rank);
    const Dim& dim = (*input)[normalized];
    if (dim.is_static() && dim.value != 1) {
      context.fail("cannot squeeze axis " + std::to_string(axis) + " of " + dims_to_string(*input) + ": its size is " +
                   std::to_string(dim.value));
    }
    removed.insert(normalized);
  }
  Dims output;
  for (int64_t axis = 0; axis < rank; ++axis) {
    if (!removed.count(axis)) output.push_back((*input)[axis]);
  }
  context.set_output(0, dtype, output);
}

void unsqueeze_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  std::optional<std::vector<int64_t>> axes = attribute_or_input(context, "axes", 1);
  if (!input || !axes) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const int64_t rank = static_cast<int64_t>(input->size() + axes->size());
  std::set<int64_t> inserted;
  for (int64_t axis : *axes) {
    if (!inserted.insert(context.normalize_axis(axis, rank)).second) context.fail("axes repeat " + std::to_string(axis));
  }
  Dims output;
  size_t next = 0;
  for (int64_t axis = 0; axis < rank; ++axis) {
    output.push_back(inserted.count(axis) ? Dim::fixed(1) : (*input)[next++]);
  }
  context.set_output(0, dtype, output);
}

// ---- Transpose, Concat, Split -------------------------------------------------------------------------

void transpose_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) return context.set_output_like_input(0, 0);
  const int64_t rank = static_cast<int64_t>(input->size());
  std::vector<int64_t> permutation = context.node().get_ints("perm");
  if (permutation.empty()) {
    for (int64_t axis = rank - 1; axis >= 0; --axis) permutation.push_back(axis);
  }
  if (static_cast<int64_t>(permutation.size()) != rank) {
    context.fail("perm has " + std::to_string(permutation.size()) + " entries for an input of rank " + std::to_string(rank));
  }
  std::vector<bool> used(rank, false);
  Dims output;
  for (int64_t axis : permutation) {
    const int64_t normalized = context.normalize_axis(axis, rank, "perm entry");
    if (used[normalized]) context.fail("perm is not a permutation: " + std::to_string(axis) + " repeats");
    used[normalized] = true;
    output.push_back((*input)[normalized]);
  }
  context.set_output(0, context.input_dtype(0), output);
}

void concat_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const DType dtype = context.input_dtype(0);
  std::vector<const Dims*> shapes;
  for (size_t i = 0; i < context.input_count(); ++i) {
    if (const Dims* shape = context.input_shape(i)) shapes.push_back(shape);  // the others may still tell the rank
  }
  if (shapes.empty()) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const size_t rank = shapes[0]->size();
  for (const Dims* shape : shapes) {
    if (shape->size() != rank) {
      context.fail("inputs of different ranks: " + dims_to_string(*shapes[0]) + " and " + dims_to_string(*shape));
    }
  }
  const int64_t axis = context.normalize_axis(context.node().get_int("axis", 0), static_cast<int64_t>(rank));
  const bool all_known = shapes.size() == context.input_count();
  Dims output(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (static_cast<int64_t>(d) == axis) {
      WideSize total = 0;
      bool total_known = all_known;
      for (const Dims* shape : shapes) {
        if (!(*shape)[d].is_static()) total_known = false;
        else total += (*shape)[d].value;
      }
      output[d] = total_known ? Dim::fixed(narrow_size(context, total)) : unknown_dim();
      if (all_known && shapes.size() == 1) output[d] = (*shapes[0])[d];
      continue;
    }
    // Every input must agree off the axis; a static dim is the most precise answer.
    Dim merged = (*shapes[0])[d];
    for (const Dims* shape : shapes) {
      const Dim& dim = (*shape)[d];
      if (dim.is_static() && merged.is_static() && dim.value != merged.value) {
        context.fail("inputs differ off the concatenation axis: " + dims_to_string(*shapes[0]) + " and " +
                     dims_to_string(*shape));
      }
      if (dim.is_static() || !dim_known(merged)) merged = dim;
    }
    output[d] = merged;
  }
  context.set_output(0, dtype, output);
}

void split_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Node& node = context.node();
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  const size_t outputs = context.output_count();
  auto all_outputs = [&](const std::optional<Dims>& shape) {
    for (size_t i = 0; i < outputs; ++i) context.set_output(i, dtype, shape);
  };
  if (!input) return all_outputs(std::nullopt);
  const int64_t axis = context.normalize_axis(node.get_int("axis", 0), static_cast<int64_t>(input->size()));
  const Dim& dim = (*input)[axis];
  bool present = false;
  std::optional<std::vector<int64_t>> sizes = attribute_or_input(context, "split", 1, &present);
  if (present && !sizes) {
    Dims shape = *input;
    shape[axis] = unknown_dim();
    return all_outputs(shape);
  }
  if (!sizes) {
    if (!dim.is_static()) {
      Dims shape = *input;
      shape[axis] = unknown_dim();
      return all_outputs(shape);
    }
    const int64_t parts = static_cast<int64_t>(outputs);
    if (parts == 0) context.fail("Split has no outputs");
    sizes.emplace();
    if (node.has_attribute("num_outputs")) {  // opset 18: equal chunks of ceil(size / n), the last smaller
      const int64_t chunk = (dim.value + parts - 1) / parts;
      for (int64_t i = 0; i < parts; ++i) sizes->push_back(std::max<int64_t>(0, std::min(chunk, dim.value - i * chunk)));
    } else {
      if (dim.value % parts != 0) {
        context.fail("axis size " + std::to_string(dim.value) + " does not split into " + std::to_string(parts) +
                     " equal parts");
      }
      sizes->assign(parts, dim.value / parts);
    }
  }
  if (sizes->size() != outputs) {
    context.fail("split has " + std::to_string(sizes->size()) + " sizes for " + std::to_string(outputs) + " outputs");
  }
  WideSize total = 0;
  for (int64_t size : *sizes) {
    if (size < 0) context.fail("split sizes must not be negative");
    total += size;
  }
  if (dim.is_static() && total != dim.value) {
    context.fail("split sizes add up to " + std::to_string(narrow_size(context, total)) + " but the axis has size " +
                 std::to_string(dim.value));
  }
  for (size_t i = 0; i < outputs; ++i) {
    Dims shape = *input;
    shape[axis] = Dim::fixed((*sizes)[i]);
    context.set_output(i, dtype, shape);
  }
}

// ---- Slice ---------------------------------------------------------------------------------------------

// Elements a slice keeps along an axis of `size`, with ONNX's clamping of start and end.
int64_t slice_length(int64_t size, int64_t start, int64_t end, int64_t step) {
  if (size == 0) return 0;
  if (start < 0) start = std::max<int64_t>(start, -size) + size;
  if (end < 0) end = std::max<int64_t>(end, -size - 1) + size;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, size);
    end = std::clamp<int64_t>(end, 0, size);
    return end > start ? static_cast<int64_t>((WideSize(end) - start + step - 1) / step) : 0;
  }
  start = std::clamp<int64_t>(start, 0, size - 1);
  end = std::clamp<int64_t>(end, -1, size - 1);
  return start > end ? static_cast<int64_t>((WideSize(start) - end - step - 1) / -WideSize(step)) : 0;
}

void slice_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Node& node = context.node();
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  if (!input) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const int64_t rank = static_cast<int64_t>(input->size());
  const bool attribute_form = node.has_attribute("starts");  // opset 1..9
  std::optional<std::vector<int64_t>> starts = attribute_form ? node.get_ints("starts") : context.constant_ints(1);
  std::optional<std::vector<int64_t>> ends = attribute_form ? node.get_ints("ends") : context.constant_ints(2);
  bool axes_present = false;
  std::optional<std::vector<int64_t>> axes = attribute_form ? (axes_present = node.has_attribute("axes"), node.get_ints("axes"))
                                                            : attribute_or_input(context, "", 3, &axes_present);
  bool steps_present = false;
  std::optional<std::vector<int64_t>> steps = attribute_form ? std::nullopt : attribute_or_input(context, "", 4, &steps_present);
  if (!attribute_form) context.require_inputs(3);
  if (axes_present && !axes) {  // axes at run time: any dim may change
    context.set_output(0, dtype, unknown_dims(input->size()));
    return;
  }
  const size_t count = starts ? starts->size() : (ends ? ends->size() : context.rank_from_length(1).value_or(0));
  if (!axes_present) {
    axes.emplace();
    for (size_t i = 0; i < count; ++i) axes->push_back(static_cast<int64_t>(i));
  }
  std::set<int64_t> sliced;
  for (int64_t axis : *axes) {
    if (!sliced.insert(context.normalize_axis(axis, rank)).second) context.fail("axes repeat " + std::to_string(axis));
  }
  Dims output = *input;
  if (!starts || !ends || (steps_present && !steps)) {
    if (!starts && !ends && !axes_present && count == 0) return context.set_output(0, dtype, unknown_dims(input->size()));
    for (int64_t axis : sliced) output[axis] = unknown_dim();
    context.set_output(0, dtype, output);
    return;
  }
  if (starts->size() != axes->size() || ends->size() != axes->size() || (steps && steps->size() != axes->size())) {
    context.fail("starts, ends, axes and steps must have the same length");
  }
  for (size_t i = 0; i < axes->size(); ++i) {
    const int64_t axis = context.normalize_axis((*axes)[i], rank);
    const int64_t step = steps ? (*steps)[i] : 1;
    if (step == 0) context.fail("steps must not be 0");
    const Dim& dim = (*input)[axis];
    if (dim.is_static()) {
      output[axis] = Dim::fixed(slice_length(dim.value, (*starts)[i], (*ends)[i], step));
    } else if (step == 1 && (*starts)[i] == 0 && (*ends)[i] == std::numeric_limits<int64_t>::max()) {
      output[axis] = dim;  // the whole axis
    } else {
      output[axis] = unknown_dim();
    }
  }
  context.set_output(0, dtype, output);
}

// ---- Tile, Expand, Pad ---------------------------------------------------------------------------------

void tile_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  if (!input) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  std::optional<std::vector<int64_t>> repeats = context.constant_ints(1);
  if (!repeats) {
    context.set_output(0, dtype, unknown_dims(input->size()));
    return;
  }
  if (repeats->size() != input->size()) {
    context.fail("repeats has " + std::to_string(repeats->size()) + " entries for an input of rank " +
                 std::to_string(input->size()));
  }
  Dims output;
  for (size_t i = 0; i < input->size(); ++i) {
    const Dim& dim = (*input)[i];
    const int64_t repeat = (*repeats)[i];
    if (repeat < 0) context.fail("repeats must not be negative");
    int64_t size = 0;
    if (repeat == 1) output.push_back(dim);
    else if (!dim.is_static()) output.push_back(repeat == 0 ? Dim::fixed(0) : unknown_dim());
    else if (__builtin_mul_overflow(dim.value, repeat, &size)) context.fail("the tiled size overflows 64 bits");
    else output.push_back(Dim::fixed(size));
  }
  context.set_output(0, dtype, output);
}

void expand_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  Dims target;
  if (const ShapeValues* shape = context.known_values(1)) {
    for (const ShapeValue& size : *shape) {
      if (size.number && *size.number < 0) context.fail("the target shape holds " + std::to_string(*size.number));
      target.push_back(size.to_dim());
    }
  } else if (std::optional<size_t> rank = context.rank_from_length(1)) {
    target = unknown_dims(*rank);
  } else {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  context.set_output(0, dtype, input ? std::optional<Dims>(context.broadcast({input, &target})) : std::nullopt);
}

void pad_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  if (!input) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const int64_t rank = static_cast<int64_t>(input->size());
  std::optional<std::vector<int64_t>> pads = attribute_or_input(context, "pads", 1);
  if (!context.node().has_attribute("pads") && !context.has_input(1)) {
    if (context.node().has_attribute("paddings")) pads = context.node().get_ints("paddings");  // opset 1
  }
  std::vector<int64_t> axes;
  if (context.has_input(3)) {
    std::optional<std::vector<int64_t>> given = context.constant_ints(3);
    if (!given) pads.reset();
    else axes = *given;
  } else {
    for (int64_t axis = 0; axis < rank; ++axis) axes.push_back(axis);
  }
  if (!pads) {
    context.set_output(0, dtype, unknown_dims(input->size()));
    return;
  }
  if (pads->size() != 2 * axes.size()) {
    context.fail("pads has " + std::to_string(pads->size()) + " values; it needs two per padded axis (" +
                 std::to_string(2 * axes.size()) + ")");
  }
  Dims output = *input;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t axis = context.normalize_axis(axes[i], rank);
    const Dim& dim = (*input)[axis];
    const WideSize added = WideSize((*pads)[i]) + (*pads)[i + axes.size()];
    if (added == 0) continue;
    if (!dim.is_static()) {
      output[axis] = unknown_dim();
      continue;
    }
    if (dim.value + added < 0) context.fail("the pads remove more than axis " + std::to_string(axis) + " holds");
    output[axis] = Dim::fixed(narrow_size(context, dim.value + added));
  }
  context.set_output(0, dtype, output);
}

// ---- DepthToSpace, SpaceToDepth ------------------------------------------------------------------------

void depth_space_rule(ShapeInferenceContext& context, bool to_space) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) return context.set_output_like_input(0, 0);
  if (input->size() != 4) context.fail("the input must have rank 4, got " + dims_to_string(*input));
  const int64_t block = context.node().get_int("blocksize", 0);
  if (block <= 0 || block > (int64_t{1} << 20)) context.fail("blocksize must be between 1 and 2^20");
  auto scaled = [&](const Dim& dim, bool multiply, int64_t factor) {
    if (!dim.is_static()) return unknown_dim();
    if (multiply) return Dim::fixed(narrow_size(context, WideSize(dim.value) * factor));
    if (dim.value % factor != 0) {
      context.fail("dim " + std::to_string(dim.value) + " of " + dims_to_string(*input) + " is not a multiple of " +
                   std::to_string(factor));
    }
    return Dim::fixed(dim.value / factor);
  };
  const Dims& in = *input;
  // Each dim into a named local first: `scaled` may throw, and GCC 12 destroys the parts of a braced list built
  // before a throw twice (GCC PR 66139; AddressSanitizer reports it as stack-use-after-scope).
  Dim channels = scaled(in[1], !to_space, block * block);
  Dim height = scaled(in[2], to_space, block);
  Dim width = scaled(in[3], to_space, block);
  Dims output;
  output.push_back(in[0]);
  output.push_back(std::move(channels));
  output.push_back(std::move(height));
  output.push_back(std::move(width));
  context.set_output(0, context.input_dtype(0), output);
}

void depth_to_space_rule(ShapeInferenceContext& context) { depth_space_rule(context, true); }
void space_to_depth_rule(ShapeInferenceContext& context) { depth_space_rule(context, false); }

}  // namespace

void register_data_movement_shape_rules(ShapeRuleTable& table) {
  table["Reshape"] = reshape_rule;
  table["Flatten"] = flatten_rule;
  table["Squeeze"] = squeeze_rule;
  table["Unsqueeze"] = unsqueeze_rule;
  table["Transpose"] = transpose_rule;
  table["Concat"] = concat_rule;
  table["Split"] = split_rule;
  table["Slice"] = slice_rule;
  table["Tile"] = tile_rule;
  table["Expand"] = expand_rule;
  table["Pad"] = pad_rule;
  table["DepthToSpace"] = depth_to_space_rule;
  table["SpaceToDepth"] = space_to_depth_rule;
}

}  // namespace npukit::ir
