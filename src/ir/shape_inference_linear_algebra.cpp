// Shape rules of matrix products (Gemm, MatMul and their integer / quantized forms, Einsum, Det) and of the
// recurrent layers (RNN, GRU, LSTM).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"

namespace npukit::ir {

namespace {

void check_inner_sizes(const ShapeInferenceContext& context, const Dim& left, const Dim& right, const Dims& a,
                       const Dims& b) {
  if (left.is_static() && right.is_static() && left.value != right.value) {
    context.fail("cannot multiply " + dims_to_string(a) + " by " + dims_to_string(b) + ": inner sizes " +
                 std::to_string(left.value) + " and " + std::to_string(right.value) + " differ");
  }
}

void gemm_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const DType dtype = context.input_dtype(0);
  const Dims* a = context.input_shape(0);
  const Dims* b = context.input_shape(1);
  if (!a || !b) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  if (a->size() != 2 || b->size() != 2) {
    context.fail("A " + dims_to_string(*a) + " and B " + dims_to_string(*b) + " must be matrices");
  }
  const bool transpose_a = context.node().get_int("transA", 0) != 0;
  const bool transpose_b = context.node().get_int("transB", 0) != 0;
  const Dim& rows = (*a)[transpose_a ? 1 : 0];
  const Dim& inner_a = (*a)[transpose_a ? 0 : 1];
  const Dim& inner_b = (*b)[transpose_b ? 1 : 0];
  const Dim& columns = (*b)[transpose_b ? 0 : 1];
  check_inner_sizes(context, inner_a, inner_b, *a, *b);
  context.set_output(0, dtype, Dims{rows, columns});
}

// numpy matmul: 1-D operands get a 1 prepended (A) or appended (B) that the output drops; batch dims
// broadcast.
void matrix_product(ShapeInferenceContext& context, size_t a_index, size_t b_index, DType dtype) {
  const Dims* a_shape = context.input_shape(a_index);
  const Dims* b_shape = context.input_shape(b_index);
  if (!a_shape || !b_shape) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  if (a_shape->empty() || b_shape->empty()) context.fail("MatMul operands must have rank 1 or more");
  Dims a = *a_shape;
  Dims b = *b_shape;
  const bool vector_a = a.size() == 1;
  const bool vector_b = b.size() == 1;
  if (vector_a) a.insert(a.begin(), Dim::fixed(1));
  if (vector_b) b.push_back(Dim::fixed(1));
  check_inner_sizes(context, a[a.size() - 1], b[b.size() - 2], *a_shape, *b_shape);
  const Dims a_batch(a.begin(), a.end() - 2);
  const Dims b_batch(b.begin(), b.end() - 2);
  Dims output = context.broadcast({&a_batch, &b_batch});
  if (!vector_a) output.push_back(a[a.size() - 2]);
  if (!vector_b) output.push_back(b[b.size() - 1]);
  context.set_output(0, dtype, output);
}

void matmul_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  matrix_product(context, 0, 1, context.input_dtype(0));
}

void matmul_integer_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  matrix_product(context, 0, 1, DType::i32);
}

void qlinear_matmul_rule(ShapeInferenceContext& context) {
  context.require_inputs(8);
  matrix_product(context, 0, 3, context.input_dtype(7));
}

void det_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) return context.set_output_like_input(0, 0);
  if (input->size() < 2) context.fail("Det needs matrices (rank 2 or more), got " + dims_to_string(*input));
  context.set_output(0, context.input_dtype(0), Dims(input->begin(), input->end() - 2));
}

// Einsum: each letter's size comes from the operands (they must agree); "..." stands for broadcast dims.
void einsum_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  std::string equation = context.node().get_string("equation", "");
  equation.erase(std::remove(equation.begin(), equation.end(), ' '), equation.end());
  const size_t arrow = equation.find("->");
  const std::string left = equation.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = left.find(',', start);
    terms.push_back(left.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != context.input_count()) {
    context.fail("the equation '" + equation + "' names " + std::to_string(terms.size()) + " operands, the node has " +
                 std::to_string(context.input_count()));
  }
  std::map<char, Dim> letter_size;
  std::map<char, int> letter_count;
  std::vector<Dims> ellipsis_dims;
  for (size_t i = 0; i < terms.size(); ++i) {
    const Dims* shape = context.input_shape(i);
    if (!shape) {
      context.set_output(0, context.input_dtype(0), std::nullopt);
      return;
    }
    std::string term = terms[i];
    const size_t dots = term.find("...");
    if (dots != std::string::npos && term.find('.', dots + 3) != std::string::npos) {
      context.fail("operand term '" + term + "' has more than one ellipsis");
    }
    const size_t letters = term.size() - (dots == std::string::npos ? 0 : 3);
    if (letters > shape->size() || (dots == std::string::npos && letters != shape->size())) {
      context.fail("operand " + std::to_string(i) + " " + dims_to_string(*shape) + " does not fit '" + term + "'");
    }
    const size_t ellipsis_rank = shape->size() - letters;
    size_t dim = 0;
    for (size_t position = 0; position < term.size();) {
      if (term.compare(position, 3, "...") == 0) {
        ellipsis_dims.emplace_back(shape->begin() + dim, shape->begin() + dim + ellipsis_rank);
        dim += ellipsis_rank;
        position += 3;
        continue;
      }
      const char letter = term[position++];
      const Dim& size = (*shape)[dim++];
      ++letter_count[letter];
      auto known = letter_size.find(letter);
      if (known == letter_size.end() || (!known->second.is_static() && size.is_static())) {
        letter_size[letter] = size;
      } else if (size.is_static() && known->second.is_static() && size.value != known->second.value &&
                 size.value != 1 && known->second.value != 1) {
        context.fail("label '" + std::string(1, letter) + "' has sizes " + std::to_string(known->second.value) +
                     " and " + std::to_string(size.value));
      } else if (known->second.is_static() && known->second.value == 1 && size.is_static()) {
        letter_size[letter] = size;  // a size-1 label broadcasts
      }
    }
  }
  std::vector<const Dims*> ellipsis_shapes;
  for (const Dims& dims : ellipsis_dims) ellipsis_shapes.push_back(&dims);
  const Dims broadcast = ellipsis_shapes.empty() ? Dims{} : context.broadcast(ellipsis_shapes);
  std::string right;
  if (arrow != std::string::npos) {
    right = equation.substr(arrow + 2);
  } else {
    // Implicit output: the ellipsis, then the letters used once, in alphabetical order.
    if (!ellipsis_dims.empty()) right = "...";
    for (const auto& [letter, count] : letter_count) {
      if (count == 1) right += letter;
    }
  }
  Dims output;
  for (size_t position = 0; position < right.size();) {
    if (right.compare(position, 3, "...") == 0) {
      output.insert(output.end(), broadcast.begin(), broadcast.end());
      position += 3;
      continue;
    }
    auto found = letter_size.find(right[position]);
    if (found == letter_size.end()) {
      context.fail("the output label '" + std::string(1, right[position]) + "' names no input dim");
    }
    output.push_back(found->second);
    ++position;
  }
  context.set_output(0, context.input_dtype(0), output);
}

// RNN, GRU, LSTM: X is [sequence, batch, input] ([batch, sequence, input] with layout 1).
void recurrent_rule(ShapeInferenceContext& context) {
  context.require_inputs(3);
  const Node& node = context.node();
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  const Dims* weight = context.input_shape(1);
  const Dims* recurrence = context.input_shape(2);
  if (input && input->size() != 3) context.fail("X must have rank 3, got " + dims_to_string(*input));
  const bool batch_first = node.get_int("layout", 0) != 0;
  const int64_t directions = node.get_string("direction", "forward") == "bidirectional" ? 2 : 1;
  Dim hidden = node.has_attribute("hidden_size") ? Dim::fixed(node.get_int("hidden_size", 0))
                                                 : (recurrence && recurrence->size() == 3 ? (*recurrence)[2] : unknown_dim());
  if (weight && weight->size() == 3 && (*weight)[0].is_static() && (*weight)[0].value != directions) {
    context.fail("W has " + std::to_string((*weight)[0].value) + " directions, the node runs " + std::to_string(directions));
  }
  const Dim sequence = input ? (*input)[batch_first ? 1 : 0] : unknown_dim();
  const Dim batch = input ? (*input)[batch_first ? 0 : 1] : unknown_dim();
  const Dim direction_count = Dim::fixed(directions);
  if (batch_first) {
    context.set_output(0, dtype, Dims{batch, sequence, direction_count, hidden});
    context.set_output(1, dtype, Dims{batch, direction_count, hidden});
    context.set_output(2, dtype, Dims{batch, direction_count, hidden});
  } else {
    context.set_output(0, dtype, Dims{sequence, direction_count, batch, hidden});
    context.set_output(1, dtype, Dims{direction_count, batch, hidden});
    context.set_output(2, dtype, Dims{direction_count, batch, hidden});
  }
}

}  // namespace

void register_linear_algebra_shape_rules(ShapeRuleTable& table) {
  table["Gemm"] = gemm_rule;
  table["MatMul"] = matmul_rule;
  table["MatMulInteger"] = matmul_integer_rule;
  table["QLinearMatMul"] = qlinear_matmul_rule;
  table["Det"] = det_rule;
  table["Einsum"] = einsum_rule;
  for (const char* op : {"RNN", "GRU", "LSTM"}) table[op] = recurrent_rule;
}

}  // namespace npukit::ir
