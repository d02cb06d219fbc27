#include "quantization/calibration_run.h"

#include <cmath>
#include <memory>
#include <set>

#include "engine/engine.h"
#include "npukit/error.h"

namespace npukit::quantization {

CalibrationRunResult run_calibration(const ir::Model& model, const std::vector<std::string>& values,
                                     CalibrationSource& source, const CalibrationRunOptions& options) {
  CalibrationRunResult result;
  std::set<std::string> input_names;
  std::set<std::string> output_names;
  for (const ir::Value* input : model.graph->inputs) input_names.insert(input->name);
  for (const ir::Value* output : model.graph->outputs) output_names.insert(output->name);
  std::vector<std::string> kept;
  for (const std::string& name : values) {
    if (!input_names.count(name) && !output_names.count(name)) kept.push_back(name);
  }

  auto shared = std::make_shared<const ir::Model>(model.clone());
  engine::EngineOptions engine_options;
  engine_options.backend = "cpu";
  engine_options.threads = options.threads;
  engine_options.keep_values = kept;
  // The cpu backend keeps every value asked for out of its fusions (passes/pass_lists.h), so calibration
  // runs on it, not on the ref backend (the oracle: on YOLOv5s the whole calibration took 96 s of CPU there
  // against 70 s on cpu, docs/benchmarks.md).
  const std::unique_ptr<engine::Engine> engine = engine::Engine::from_model(shared, engine_options);
  result.backend = engine_options.backend;

  std::map<std::string, std::string> first_non_finite;  // value -> first sample with NaN / Inf
  for (const std::string& name : values) result.histograms.emplace(name, ValueHistogram(2048));
  InputStatistics input_statistics(engine->inputs());
  const size_t total = source.size();
  if (const auto count = diagnose_sample_count(total); count && count->is_error) {
    throw Error(ErrorKind::invalid_argument, "calibration data " + source.describe() + ": " + count->message);
  }
  auto observe = [&](const std::string& name, const Tensor& tensor, const std::string& origin) {
    auto histogram = result.histograms.find(name);
    if (histogram == result.histograms.end() || tensor.dtype() != DType::f32) return;
    const uint64_t before = histogram->second.non_finite_count();
    histogram->second.add(tensor.data<float>(), static_cast<size_t>(tensor.element_count()));
    if (histogram->second.non_finite_count() != before && !first_non_finite.count(name)) first_non_finite[name] = origin;
  };
  for (size_t index = 0; index < total; ++index) {
    CalibrationSample sample = source.sample(index);
    input_statistics.add(sample);
    for (const auto& [name, tensor] : sample.inputs) {
      observe(name, tensor, sample.origin);
      try {
        engine->set_input(name, tensor);
      } catch (const Error& error) {
        throw Error(ErrorKind::invalid_argument, "calibration sample " + sample.origin + ": " + error.reason());
      }
    }
    engine->run();
    for (const std::string& name : values) {
      if (input_names.count(name)) continue;
      observe(name, engine->output(name), sample.origin);
    }
    // An activation that became NaN / Inf makes every range after it meaningless: stop at the first one.
    for (const auto& [name, origin] : first_non_finite) {
      if (input_names.count(name)) continue;
      const auto diagnostic = diagnose_non_finite(name, result.histograms.at(name), origin);
      throw Error(ErrorKind::invalid_argument,
                  diagnostic ? diagnostic->message
                             : "value '" + name + "' is NaN or infinite on calibration sample " + origin);
    }
    if (options.progress) options.progress(index + 1, total);
  }
  result.samples = total;
  std::optional<vision::PreprocessingSpec> preprocessing = source.preprocessing();
  if (!preprocessing) preprocessing = options.declared_preprocessing;
  result.diagnostics = input_statistics.diagnostics(preprocessing);
  for (const auto& diagnostic : result.diagnostics) {
    if (diagnostic.is_error) {
      throw Error(ErrorKind::invalid_argument, "calibration data " + source.describe() + ": " + diagnostic.subject +
                                                   ": " + diagnostic.message);
    }
  }
  for (const std::string& name : values) {
    if (input_names.count(name)) continue;
    if (auto outlier = diagnose_outliers(name, result.histograms.at(name))) result.diagnostics.push_back(*outlier);
  }
  return result;
}

}  // namespace npukit::quantization
