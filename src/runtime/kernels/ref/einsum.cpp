// Reference Einsum: any equation numpy.einsum accepts — explicit or implicit output, repeated labels in one
// operand (diagonals), ellipsis with broadcasting, any number of operands.
//
// Evaluation is the definition: walk every combination of output labels, and for each sum over every
// combination of contracted labels the product of the operands' elements. Each operand has one stride per
// label (the sum of its strides for a repeated label, 0 where it broadcasts), so the walk is an odometer
// that moves offsets incrementally. That is O(product of all label sizes), which is a matmul's cost for
// matmul-shaped equations.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

// One operand or output term: a label id per dimension. Ellipsis dimensions get ids from kEllipsisBase.
constexpr int kEllipsisBase = 1000;

struct Term {
  std::vector<int> labels;     // letters as their char code; ellipsis placeholder -1 before expansion
  bool has_ellipsis = false;
  size_t ellipsis_position = 0;  // index in `labels` where the ellipsis sits
};

Term parse_term(const KernelContext& context, const std::string& text) {
  Term term;
  for (size_t i = 0; i < text.size(); ++i) {
    const char character = text[i];
    if (character == '.') {
      if (term.has_ellipsis || text.compare(i, 3, "...") != 0) context.invalid("malformed ellipsis in Einsum term '" + text + "'");
      term.has_ellipsis = true;
      term.ellipsis_position = term.labels.size();
      i += 2;
    } else if ((character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z')) {
      term.labels.push_back(character);
    } else {
      context.invalid(std::string("unexpected character '") + character + "' in the Einsum equation");
    }
  }
  return term;
}

// Replaces the ellipsis by `count` ellipsis labels, the last ones of `total` (right-aligned broadcasting).
std::vector<int> expand_ellipsis(const Term& term, int64_t count, int64_t total) {
  std::vector<int> labels(term.labels.begin(), term.labels.begin() + static_cast<std::ptrdiff_t>(term.ellipsis_position));
  for (int64_t i = 0; i < count; ++i) labels.push_back(kEllipsisBase + static_cast<int>(total - count + i));
  labels.insert(labels.end(), term.labels.begin() + static_cast<std::ptrdiff_t>(term.ellipsis_position), term.labels.end());
  return labels;
}

void einsum_kernel(KernelContext& context) {
  std::string equation = context.attribute_string("equation", "");
  equation.erase(std::remove(equation.begin(), equation.end(), ' '), equation.end());
  if (equation.empty()) context.invalid("the equation attribute is required");
  const size_t arrow = equation.find("->");
  const std::string left = equation.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    const size_t comma = left.find(',', start);
    terms.push_back(parse_term(context, left.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != context.input_count()) {
    context.invalid("the equation has " + std::to_string(terms.size()) + " operands but the node has " +
                    std::to_string(context.input_count()) + " inputs");
  }
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < terms.size(); ++i) {
    inputs.push_back(&context.input(i));
    if (inputs[i]->dtype() != inputs[0]->dtype()) context.invalid("all inputs must have the same element type");
  }

  // Ellipsis ranks and the operand labels with the ellipsis expanded.
  int64_t ellipsis_rank = 0;
  std::vector<int64_t> operand_ellipsis(terms.size(), 0);
  for (size_t i = 0; i < terms.size(); ++i) {
    const int64_t rank = static_cast<int64_t>(inputs[i]->rank());
    const int64_t letters = static_cast<int64_t>(terms[i].labels.size());
    if (terms[i].has_ellipsis ? rank < letters : rank != letters) {
      context.invalid("operand " + std::to_string(i) + " has rank " + std::to_string(rank) + " but its term has " +
                      std::to_string(letters) + " labels");
    }
    operand_ellipsis[i] = rank - letters;
    ellipsis_rank = std::max(ellipsis_rank, operand_ellipsis[i]);
  }
  std::vector<std::vector<int>> operand_labels(terms.size());
  std::map<int, int64_t> size_of;
  std::map<int, int> occurrences;
  for (size_t i = 0; i < terms.size(); ++i) {
    operand_labels[i] = terms[i].has_ellipsis ? expand_ellipsis(terms[i], operand_ellipsis[i], ellipsis_rank) : terms[i].labels;
    for (size_t d = 0; d < operand_labels[i].size(); ++d) {
      const int label = operand_labels[i][d];
      const int64_t size = inputs[i]->dim(d);
      ++occurrences[label];
      auto [it, inserted] = size_of.emplace(label, size);
      if (!inserted && it->second != size) {
        // Ellipsis dimensions broadcast (size 1 stretches); letters must agree.
        if (label >= kEllipsisBase && (size == 1 || it->second == 1)) {
          it->second = std::max(it->second, size);
        } else {
          context.invalid("label '" + (label >= kEllipsisBase ? std::string("...") : std::string(1, static_cast<char>(label))) +
                          "' has sizes " + std::to_string(it->second) + " and " + std::to_string(size));
        }
      }
    }
  }
  for (int64_t e = 0; e < ellipsis_rank; ++e) size_of.emplace(kEllipsisBase + static_cast<int>(e), 1);

  // Output labels: explicit, or the ellipsis then the letters used once, in alphabetical order.
  std::vector<int> output_labels;
  if (arrow != std::string::npos) {
    Term output = parse_term(context, equation.substr(arrow + 2));
    output_labels = output.has_ellipsis ? expand_ellipsis(output, ellipsis_rank, ellipsis_rank) : output.labels;
    for (int label : output_labels) {
      if (!size_of.count(label)) context.invalid(std::string("output label '") + static_cast<char>(label) + "' is not in any input");
      if (std::count(output_labels.begin(), output_labels.end(), label) > 1) context.invalid("an output label repeats");
    }
  } else {
    for (int64_t e = 0; e < ellipsis_rank; ++e) output_labels.push_back(kEllipsisBase + static_cast<int>(e));
    for (const auto& [label, count] : occurrences) {
      if (label < kEllipsisBase && count == 1) output_labels.push_back(label);
    }
  }
  std::vector<int> contracted_labels;
  for (const auto& [label, size] : size_of) {
    if (std::find(output_labels.begin(), output_labels.end(), label) == output_labels.end()) contracted_labels.push_back(label);
  }

  Shape output_shape;
  for (int label : output_labels) output_shape.push_back(size_of[label]);
  // All labels, output first; per operand, the stride of each label.
  std::vector<int> all_labels = output_labels;
  all_labels.insert(all_labels.end(), contracted_labels.begin(), contracted_labels.end());
  const size_t label_count = all_labels.size();
  std::vector<int64_t> sizes(label_count);
  for (size_t l = 0; l < label_count; ++l) sizes[l] = size_of[all_labels[l]];
  std::vector<std::vector<int64_t>> strides(terms.size(), std::vector<int64_t>(label_count, 0));
  for (size_t i = 0; i < terms.size(); ++i) {
    int64_t stride = 1;
    for (size_t d = operand_labels[i].size(); d-- > 0;) {
      const size_t l = static_cast<size_t>(std::find(all_labels.begin(), all_labels.end(), operand_labels[i][d]) - all_labels.begin());
      if (inputs[i]->dim(d) != 1 || sizes[l] == 1) strides[i][l] += stride;
      stride *= inputs[i]->dim(d);
    }
  }

  Tensor& output = context.allocate_output(0, inputs[0]->dtype(), output_shape);
  if (output.element_count() == 0) return;
  dispatch_dtype(inputs[0]->dtype(), kNumericTypes, "Einsum", [&]<typename T>() {
    using C = compute_type_t<T>;
    if constexpr (!std::is_same_v<T, bool>) {
      std::vector<const T*> data(terms.size());
      for (size_t i = 0; i < terms.size(); ++i) data[i] = inputs[i]->data<T>();
      T* destination = output.data<T>();
      const size_t output_label_count = output_labels.size();
      int64_t contracted_count = 1;
      for (size_t l = output_label_count; l < label_count; ++l) contracted_count *= sizes[l];
      std::vector<int64_t> counter(label_count, 0);
      std::vector<int64_t> offsets(terms.size(), 0);
      const int64_t output_count = output.element_count();
      for (int64_t out = 0; out < output_count; ++out) {
        C sum = 0;
        // Offsets at the start of the contracted walk; the walk returns them to this point.
        for (int64_t step = 0; step < contracted_count; ++step) {
          C product = 1;
          for (size_t i = 0; i < terms.size(); ++i) product *= static_cast<C>(data[i][offsets[i]]);
          sum += product;
          for (size_t l = label_count; l-- > output_label_count;) {
            if (++counter[l] < sizes[l]) {
              for (size_t i = 0; i < terms.size(); ++i) offsets[i] += strides[i][l];
              break;
            }
            for (size_t i = 0; i < terms.size(); ++i) offsets[i] -= strides[i][l] * (sizes[l] - 1);
            counter[l] = 0;
          }
        }
        destination[out] = static_cast<T>(sum);
        for (size_t l = output_label_count; l-- > 0;) {
          if (++counter[l] < sizes[l]) {
            for (size_t i = 0; i < terms.size(); ++i) offsets[i] += strides[i][l];
            break;
          }
          for (size_t i = 0; i < terms.size(); ++i) offsets[i] -= strides[i][l] * (sizes[l] - 1);
          counter[l] = 0;
        }
      }
    }
  });
}

}  // namespace

void register_einsum_kernels(KernelRegistry& registry) { registry.add("Einsum", einsum_kernel, 12, 17); }

}  // namespace npukit::runtime::ref
