// Text feature ops: TfIdfVectorizer over integer token ids (string tokens are not representable in
// npukit tensors and are reported unsupported).
//
// Semantics follow ONNX's reference (onnx/reference/ops/op_tfidf_vectorizer.py, the same algorithm as
// ONNX Runtime): the n-gram pool becomes a trie; for each skip distance and each start position the input
// is walked down the trie, counting every n-gram of length >= min_gram_length met on the way. Unigrams do
// not depend on the skip distance, so they are counted on the first pass only.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

struct NgramNode {
  int64_t id = 0;  // 1-based n-gram number in pool order; 0: no n-gram ends here
  std::map<int64_t, std::unique_ptr<NgramNode>> children;
};

void tfidf_vectorizer_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  if (context.node().has_attribute("pool_strings")) {
    context.unsupported("string n-gram pools are not supported (npukit tensors hold numbers only)");
  }
  if (input.dtype() != DType::i32 && input.dtype() != DType::i64) context.unsupported("input must be int32 or int64");
  const std::string mode = context.attribute_string("mode", "TF");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF") context.invalid("mode '" + mode + "' is not TF, IDF or TFIDF");
  const int64_t min_gram = context.attribute_int("min_gram_length", 1);
  const int64_t max_gram = context.attribute_int("max_gram_length", 1);
  const int64_t max_skip = context.attribute_int("max_skip_count", 0);
  const std::vector<int64_t> ngram_counts = context.attribute_ints("ngram_counts");
  const std::vector<int64_t> ngram_indexes = context.attribute_ints("ngram_indexes");
  const std::vector<int64_t> pool = context.attribute_ints("pool_int64s");
  const std::vector<double> weights = context.attribute_floats("weights");
  if (min_gram < 1 || max_gram < min_gram || max_skip < 0) context.invalid("bad gram lengths or skip count");
  if (ngram_indexes.empty()) context.invalid("ngram_indexes is empty");
  for (int64_t index : ngram_indexes) {
    if (index < 0) context.invalid("ngram_indexes must not be negative");
  }
  const int64_t output_size = *std::max_element(ngram_indexes.begin(), ngram_indexes.end()) + 1;
  if (!weights.empty() && static_cast<int64_t>(weights.size()) < output_size) context.invalid("weights are too few");

  // Build the trie from the pool: ngram_counts[i] is where the n-grams of length i + 1 start.
  NgramNode root;
  int64_t ngram_id = 1;
  for (size_t i = 0; i < ngram_counts.size(); ++i) {
    const int64_t length = static_cast<int64_t>(i) + 1;
    const int64_t begin = ngram_counts[i];
    const int64_t end = i + 1 < ngram_counts.size() ? ngram_counts[i + 1] : static_cast<int64_t>(pool.size());
    if (begin < 0 || end < begin || end > static_cast<int64_t>(pool.size()) || (end - begin) % length != 0) {
      context.invalid("ngram_counts does not partition the pool");
    }
    const int64_t count = (end - begin) / length;
    if (length < min_gram || length > max_gram) {
      ngram_id += count;
      continue;
    }
    for (int64_t g = 0; g < count; ++g) {
      NgramNode* node = &root;
      for (int64_t k = 0; k < length; ++k) {
        std::unique_ptr<NgramNode>& child = node->children[pool[static_cast<size_t>(begin + g * length + k)]];
        if (!child) child = std::make_unique<NgramNode>();
        node = child.get();
      }
      node->id = ngram_id;  // a repeated n-gram takes the later id, as in the reference
      ++ngram_id;
    }
  }
  if (ngram_id - 1 > static_cast<int64_t>(ngram_indexes.size())) context.invalid("ngram_indexes has too few entries");

  if (input.rank() > 2) context.invalid("input must be [C] or [B, C]");
  const bool batched = input.rank() == 2;
  const int64_t rows = batched ? input.dim(0) : 1;
  const int64_t columns = input.rank() == 0 ? 1 : input.dim(input.rank() - 1);
  const std::vector<int64_t> tokens = input.to_int64_vector();
  std::vector<int64_t> frequencies(static_cast<size_t>(rows * output_size), 0);
  for (int64_t row = 0; row < rows && !root.children.empty(); ++row) {
    const int64_t* row_tokens = tokens.data() + row * columns;
    int64_t start_length = min_gram;
    for (int64_t skip = 1; skip <= max_skip + 1; ++skip) {
      for (int64_t start = 0; start < columns; ++start) {
        if (start + skip * (start_length - 1) >= columns) break;
        const NgramNode* node = &root;
        int64_t length = 1;
        for (int64_t item = start; length <= max_gram && item < columns; item += skip, ++length) {
          auto found = node->children.find(row_tokens[item]);
          if (found == node->children.end()) break;
          node = found->second.get();
          if (length >= start_length && node->id != 0) {
            ++frequencies[static_cast<size_t>(row * output_size + ngram_indexes[static_cast<size_t>(node->id - 1)])];
          }
          if (node->children.empty()) break;
        }
      }
      if (start_length == 1) {
        ++start_length;
        if (start_length > max_gram) break;
      }
    }
  }
  Shape shape = batched ? Shape{rows, output_size} : Shape{output_size};
  Tensor& output = context.allocate_output(0, DType::f32, shape);
  float* values = output.data<float>();
  for (size_t i = 0; i < frequencies.size(); ++i) {
    const double weight = weights.empty() ? 1.0 : weights[i % static_cast<size_t>(output_size)];
    const double frequency = static_cast<double>(frequencies[i]);
    if (mode == "TF") values[i] = static_cast<float>(frequency);
    else if (mode == "IDF") values[i] = frequency > 0 ? static_cast<float>(weight) : 0.0f;
    else values[i] = static_cast<float>(weight * frequency);
  }
}

}  // namespace

void register_text_kernels(KernelRegistry& registry) {
  registry.add("TfIdfVectorizer", tfidf_vectorizer_kernel, 9, 21);
}

}  // namespace npukit::runtime::ref
