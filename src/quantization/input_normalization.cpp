#include "quantization/input_normalization.h"

#include <cmath>
#include <sstream>

namespace npukit::quantization {

namespace {

// Every element of a constant equal to `target` within 1 %; false for anything that is not a small float constant.
bool constant_near(const ir::Value* value, double target) {
  if (value == nullptr || !value->initializer) return false;
  const Tensor& tensor = *value->initializer;
  if (tensor.element_count() == 0 || tensor.element_count() > 16) return false;
  if (tensor.dtype() != DType::f32 && tensor.dtype() != DType::f64 && tensor.dtype() != DType::f16) return false;
  for (int64_t i = 0; i < tensor.element_count(); ++i) {
    if (std::fabs(tensor.value_as_double(i) - target) > 0.01 * target) return false;
  }
  return true;
}

}  // namespace

std::optional<InGraphScaling> find_in_graph_pixel_scaling(const ir::Graph& graph, const std::string& input_name) {
  const ir::Value* value = graph.find_value(input_name);
  // Follow a lone Cast / Transpose (NHWC exports transpose first, uint8 exports cast first), at most two hops.
  for (int hop = 0; value != nullptr && hop < 3; ++hop) {
    const ir::Value* next = nullptr;
    for (const ir::Node* consumer : value->consumers) {
      if (consumer->inputs.empty() || consumer->input(0) != value) continue;
      if (consumer->op_type == "Div" && constant_near(consumer->input(1), 255.0)) {
        return InGraphScaling{consumer->describe(), consumer->input(1)->initializer->value_as_double(0)};
      }
      if (consumer->op_type == "Mul" && constant_near(consumer->input(1), 1.0 / 255)) {
        return InGraphScaling{consumer->describe(), 1.0 / consumer->input(1)->initializer->value_as_double(0)};
      }
      if ((consumer->op_type == "Cast" || consumer->op_type == "Transpose") && value->consumers.size() == 1) {
        next = consumer->output(0);
      }
    }
    value = next;
  }
  return std::nullopt;
}

std::optional<CalibrationDiagnostic> diagnose_in_graph_pixel_scaling(const ir::Graph& graph,
                                                                     const std::string& input_name,
                                                                     const ValueHistogram& observed) {
  const std::optional<InGraphScaling> scaling = find_in_graph_pixel_scaling(graph, input_name);
  if (!scaling || observed.finite_count() == 0 || observed.maximum_absolute() > 1.5) return std::nullopt;
  std::ostringstream divisor, maximum;
  divisor << scaling->divisor;
  maximum.precision(3);
  maximum << observed.maximum();
  return CalibrationDiagnostic{
      false, input_name,
      "node " + scaling->node + " divides this input by " + divisor.str() +
          " itself, but the data given is already 0.." + maximum.str() +
          ": the model would see values 255 times too small; give raw 0..255 pixels (pre-processing std=1)"};
}

}  // namespace npukit::quantization
