#include "quantization/quantization_algorithm.h"

#include <cmath>
#include <limits>
#include <set>

#include "engine/engine.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "preparation/model_preparation.h"
#include "quantization/quantize_model.h"

namespace npukit::quantization {

std::string_view algorithm_stage_name(AlgorithmStage stage) {
  switch (stage) {
    case AlgorithmStage::before_calibration:
      return "before calibration";
    case AlgorithmStage::after_calibration:
      return "after calibration";
    case AlgorithmStage::after_parameters:
      return "after parameters";
  }
  return "?";
}

std::vector<const QuantizationAlgorithm*> parse_algorithm_list(const std::string& text) {
  std::set<std::string> asked;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string name = text.substr(start, comma - start);
    if (!name.empty()) asked.insert(name);
    start = comma + 1;
  }
  std::vector<const QuantizationAlgorithm*> chosen;
  std::string known;
  for (const QuantizationAlgorithm& algorithm : quantization_algorithms()) {
    known += (known.empty() ? "" : ", ") + algorithm.name;
    if (asked.erase(algorithm.name)) chosen.push_back(&algorithm);
  }
  if (!asked.empty()) {
    throw Error(ErrorKind::invalid_argument,
                "--algorithm: no algorithm called '" + *asked.begin() + "'; give a comma-separated list of: " +
                    (known.empty() ? std::string("(none built)") : known));
  }
  return chosen;
}

void for_each_float_sample(const ir::Model& model, const std::vector<std::string>& values, CalibrationSource& source,
                           size_t max_samples,
                           const std::function<void(size_t, const std::map<std::string, Tensor>&)>& visit) {
  std::vector<std::string> kept;
  for (const std::string& name : values) {
    const ir::Value* value = model.graph->find_value(name);
    if (!value) throw Error(ErrorKind::invalid_argument, "no value called '" + name + "' in the model", model.source_path);
    if (!value->is_graph_input && !value->is_graph_output && !value->initializer) kept.push_back(name);
  }
  // The cpu backend keeps the values asked for out of its fusions (passes/pass_lists.h). Its float results
  // can differ from the ref backend's (the oracle) in the last bits: oneDNN sums a convolution in another
  // order and rounds its SiLU post-op differently. That is about 1e-6 of a value, far below any int8 or
  // int4 step, so the references the algorithms fit to are the same for them, and cpu is the faster backend.
  engine::EngineOptions options;
  options.backend = "cpu";
  options.keep_values = kept;
  std::unique_ptr<engine::Engine> engine =
      engine::Engine::from_model(std::make_shared<const ir::Model>(model.clone()), options);
  const size_t count = max_samples == 0 ? source.size() : std::min(max_samples, source.size());
  for (size_t index = 0; index < count; ++index) {
    CalibrationSample sample = source.sample(index);
    for (const auto& [name, tensor] : sample.inputs) {
      try {
        engine->set_input(name, tensor);
      } catch (const Error& error) {
        throw Error(ErrorKind::invalid_argument, "calibration sample " + sample.origin + ": " + error.reason());
      }
    }
    engine->run();
    std::map<std::string, Tensor> row;
    for (const std::string& name : values) {
      const ir::Value* value = model.graph->find_value(name);
      if (value->initializer) {
        row.emplace(name, *value->initializer);
      } else if (sample.inputs.count(name)) {
        row.emplace(name, sample.inputs.at(name));
      } else {
        row.emplace(name, engine->output(name));
      }
    }
    visit(index, row);
  }
}

std::vector<std::map<std::string, Tensor>> capture_float_values(const ir::Model& model,
                                                                const std::vector<std::string>& values,
                                                                CalibrationSource& source, size_t max_samples) {
  std::vector<std::map<std::string, Tensor>> captured;
  for_each_float_sample(model, values, source, max_samples,
                        [&](size_t, const std::map<std::string, Tensor>& row) { captured.push_back(row); });
  return captured;
}

std::unique_ptr<engine::Engine> simulate_quantized_model(const ir::Model& quantized, const std::string& target_id,
                                                         const std::vector<std::string>& keep_values) {
  const std::string bytes = onnx_io::serialize_model(quantized);
  preparation::PreparedModel prepared =
      preparation::load_prepared_model_from_bytes(bytes, quantized.source_path + " (quantized in memory)");
  engine::EngineOptions options;
  options.backend = "sim";
  options.target = target_id;
  options.keep_values = keep_values;
  return engine::Engine::from_model(std::make_shared<const ir::Model>(std::move(prepared.model)), options);
}

double sqnr_db(const Tensor& reference, const Tensor& measured) {
  if (reference.element_count() != measured.element_count()) {
    throw Error(ErrorKind::invalid_argument, "SQNR of tensors with " + std::to_string(reference.element_count()) +
                                                 " and " + std::to_string(measured.element_count()) + " elements");
  }
  return sqnr_db(reference.to_float_vector(), measured.to_float_vector());
}

double sqnr_db(const std::vector<float>& reference, const std::vector<float>& measured) {
  if (reference.size() != measured.size()) {
    throw Error(ErrorKind::invalid_argument, "SQNR of " + std::to_string(reference.size()) + " and " +
                                                 std::to_string(measured.size()) + " values");
  }
  double signal = 0;
  double noise = 0;
  for (size_t index = 0; index < reference.size(); ++index) {
    const double difference = static_cast<double>(reference[index]) - measured[index];
    signal += static_cast<double>(reference[index]) * reference[index];
    noise += difference * difference;
  }
  if (noise == 0) return std::numeric_limits<double>::infinity();
  if (signal == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

void refresh_bias_parameters(ir::Model& model, const QuantizationPlan& plan, std::vector<QuantizedTensor>& tensors) {
  for (const PlannedPoint& point : plan.points) {
    if (point.role != PointRole::bias) continue;
    ir::Value* bias = model.graph->find_value(point.value);
    const ir::Value* input = model.graph->find_value(point.bias_input);
    const ir::Value* weight = model.graph->find_value(point.bias_weight);
    if (!bias || !bias->quant || !input || !input->quant || !weight || !weight->quant) continue;
    ir::QuantParams params =
        bias_params(*input->quant, *weight->quant, point.storage, bias->initializer->element_count());
    params.rounding = bias->quant->rounding;
    bias->quant = params;
    for (QuantizedTensor& record : tensors) {
      if (record.value == point.value && record.role == PointRole::bias) record.params = params;
    }
  }
}

}  // namespace npukit::quantization
