// Before/after check for graph passes: copies a model (through ONNX export and import, so the copy shares
// nothing), runs the pass on the copy, feeds both the same seeded random inputs on the reference backend and
// returns the largest output difference relative to the largest original output magnitude.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "cli/tensor_values.h"
#include "ir/graph.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"

namespace npukit::testing {

inline std::shared_ptr<ir::Model> copy_model(const ir::Model& model) {
  onnx_io::ImportOptions options;
  return std::make_shared<ir::Model>(
      onnx_io::load_model_from_bytes(onnx_io::serialize_model(model), "copy.onnx", "", options));
}

// Feeds for every graph input of `model`: dynamic dims become 1. Seeded, so both runs see the same data.
inline std::map<std::string, Tensor> random_feeds(const ir::Model& model, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::map<std::string, Tensor> feeds;
  for (const ir::Value* input : model.graph->inputs) {
    Shape shape;
    if (input->type.shape) {
      for (const ir::Dim& dim : *input->type.shape) shape.push_back(dim.is_static() ? dim.value : 1);
    }
    feeds[input->name] = cli::random_tensor(input->type.dtype, shape, generator);
  }
  return feeds;
}

struct PassComparison {
  double max_relative_difference = 0;  // max|before - after| / max|before| over all outputs
  std::string worst_output;
};

// Runs `before` and `after` (same graph inputs and outputs by name) on the reference backend.
inline PassComparison compare_models(const ir::Model& before, const ir::Model& after, uint64_t seed = 1) {
  const std::map<std::string, Tensor> feeds = random_feeds(before, seed);
  auto run = [&](const ir::Model& model) {
    auto session = engine::Engine::from_model(copy_model(model), {.backend = "ref"});
    return session->run(feeds);
  };
  const std::map<std::string, Tensor> expected = run(before);
  const std::map<std::string, Tensor> actual = run(after);
  PassComparison comparison;
  for (const auto& [name, tensor] : expected) {
    const Tensor& other = actual.at(name);
    if (other.shape() != tensor.shape()) {
      comparison.max_relative_difference = INFINITY;
      comparison.worst_output = name;
      return comparison;
    }
    double magnitude = 0, difference = 0;
    for (int64_t i = 0; i < tensor.element_count(); ++i) {
      const double a = tensor.value_as_double(i), b = other.value_as_double(i);
      magnitude = std::max(magnitude, std::fabs(a));
      difference = std::max(difference, std::fabs(a - b));
    }
    const double relative = difference / std::max(magnitude, 1e-30);
    if (relative > comparison.max_relative_difference || comparison.worst_output.empty()) {
      comparison.max_relative_difference = relative;
      comparison.worst_output = name;
    }
  }
  return comparison;
}

}  // namespace npukit::testing
