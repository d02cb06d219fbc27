// Shape rules of ops that pick elements by index or by value: Gather, GatherElements, GatherND, Compress,
// NonZero, OneHot, Unique, NonMaxSuppression, TfIdfVectorizer. Where the output size depends on data (NonZero, Compress,
// Unique), the rank is known and the data-dependent dim stays unknown.
#include <algorithm>
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"

namespace npukit::ir {

namespace {

void gather_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const DType dtype = context.input_dtype(0);
  const Dims* data = context.input_shape(0);
  const Dims* indices = context.input_shape(1);
  if (!data || !indices) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  if (data->empty()) context.fail("Gather needs data of rank 1 or more");
  const int64_t axis = context.normalize_axis(context.node().get_int("axis", 0), static_cast<int64_t>(data->size()));
  Dims output(data->begin(), data->begin() + axis);
  output.insert(output.end(), indices->begin(), indices->end());
  output.insert(output.end(), data->begin() + axis + 1, data->end());
  context.set_output(0, dtype, output);
}

void gather_elements_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const Dims* data = context.input_shape(0);
  const Dims* indices = context.input_shape(1);
  if (data && indices && data->size() != indices->size()) {
    context.fail("data " + dims_to_string(*data) + " and indices " + dims_to_string(*indices) + " differ in rank");
  }
  context.set_output(0, context.input_dtype(0), indices ? std::optional<Dims>(*indices) : std::nullopt);
}

void gather_nd_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const DType dtype = context.input_dtype(0);
  const Dims* data = context.input_shape(0);
  const Dims* indices = context.input_shape(1);
  if (!data || !indices || indices->empty() || !indices->back().is_static()) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const int64_t batch_dims = context.node().get_int("batch_dims", 0);
  const int64_t depth = indices->back().value;
  if (batch_dims < 0 || batch_dims + depth > static_cast<int64_t>(data->size())) {
    context.fail("indices " + dims_to_string(*indices) + " with batch_dims " + std::to_string(batch_dims) +
                 " index past the rank of data " + dims_to_string(*data));
  }
  Dims output(indices->begin(), indices->end() - 1);
  output.insert(output.end(), data->begin() + batch_dims + depth, data->end());
  context.set_output(0, dtype, output);
}

void compress_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  if (!context.node().has_attribute("axis")) {
    context.set_output(0, dtype, Dims{unknown_dim()});
    return;
  }
  if (!input) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const int64_t axis = context.normalize_axis(context.node().get_int("axis", 0), static_cast<int64_t>(input->size()));
  Dims output = *input;
  output[axis] = unknown_dim();
  context.set_output(0, dtype, output);
}

void non_zero_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  std::optional<int64_t> rank = context.input_rank(0);
  context.set_output(0, DType::i64, Dims{rank ? Dim::fixed(*rank) : unknown_dim(), unknown_dim()});
}

void one_hot_rule(ShapeInferenceContext& context) {
  context.require_inputs(3);
  const DType dtype = context.input_dtype(2);
  const Dims* indices = context.input_shape(0);
  if (!indices) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  const int64_t rank = static_cast<int64_t>(indices->size()) + 1;
  const int64_t axis = context.normalize_axis(context.node().get_int("axis", -1), rank);
  Dim depth = unknown_dim();
  if (const Tensor* given = context.constant_input(1)) {
    if (given->element_count() != 1) context.fail("depth must hold one value");
    const double value = given->value_as_double(0);
    if (!(value >= 1 && value < 4.0e18)) context.fail("depth must be positive");
    depth = Dim::fixed(static_cast<int64_t>(value));
  }
  Dims output = *indices;
  output.insert(output.begin() + axis, depth);
  context.set_output(0, dtype, output);
}

void unique_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!context.node().has_attribute("axis")) {
    context.set_output(0, context.input_dtype(0), Dims{unknown_dim()});
  } else if (input) {
    const int64_t axis = context.normalize_axis(context.node().get_int("axis", 0), static_cast<int64_t>(input->size()));
    Dims output = *input;
    output[axis] = unknown_dim();
    context.set_output(0, context.input_dtype(0), output);
  }
  for (size_t i = 1; i < 4; ++i) context.set_output(i, DType::i64, Dims{unknown_dim()});
}

void non_max_suppression_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  context.set_output(0, DType::i64, Dims{unknown_dim(), Dim::fixed(3)});
}

// TfIdfVectorizer: one f32 count per n-gram index, [max index + 1] for a 1-D input, [N, max index + 1] for 2-D.
void tf_idf_vectorizer_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const std::vector<int64_t> indexes = context.node().get_ints("ngram_indexes");
  const Dims* input = context.input_shape(0);
  if (!input) {
    context.set_output(0, DType::f32, std::nullopt);
    return;
  }
  if (input->empty() || input->size() > 2) context.fail("the input must have rank 1 or 2, got " + dims_to_string(*input));
  const Dim width = indexes.empty() ? unknown_dim() : Dim::fixed(*std::max_element(indexes.begin(), indexes.end()) + 1);
  context.set_output(0, DType::f32, input->size() == 1 ? Dims{width} : Dims{(*input)[0], width});
}

}  // namespace

void register_indexing_shape_rules(ShapeRuleTable& table) {
  table["Gather"] = gather_rule;
  table["GatherElements"] = gather_elements_rule;
  table["GatherND"] = gather_nd_rule;
  table["Compress"] = compress_rule;
  table["NonZero"] = non_zero_rule;
  table["OneHot"] = one_hot_rule;
  table["Unique"] = unique_rule;
  table["NonMaxSuppression"] = non_max_suppression_rule;
  table["TfIdfVectorizer"] = tf_idf_vectorizer_rule;
}

}  // namespace npukit::ir
