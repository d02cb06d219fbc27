#include "onnx/shape_refresh.h"

#include <onnx/onnx_pb.h>

#include "onnx/isolated_validation.h"
#include "onnx/onnx_export.h"

namespace npukit::onnx_io {

namespace {
// Constants up to this size keep their data: shape computations (Slice bounds, Reshape targets) read them.
constexpr int64_t largest_constant_with_data = 4096;
}  // namespace

size_t refresh_static_shapes(ir::Model& model) {
  onnx::ModelProto proto = export_model(model, largest_constant_with_data);
  ValidationSteps steps;
  steps.run_checker = false;
  steps.run_shape_inference = true;
  steps.propagate_shape_data = true;
  validate_and_infer_shapes(proto, steps);
  size_t learned = 0;
  auto learn = [&](const onnx::ValueInfoProto& info) {
    if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return;
    ir::Value* value = model.graph->find_value(info.name());
    if (!value || value->outer_scope || value->initializer || value->type.has_static_shape()) return;
    std::vector<ir::Dim> dims;
    for (const auto& dim : info.type().tensor_type().shape().dim()) {
      if (!dim.has_dim_value() || dim.dim_value() < 0) return;  // still unknown
      dims.push_back(ir::Dim::fixed(dim.dim_value()));
    }
    // Same rank as a partial shape already known, or no shape before: anything else is a disagreement the
    // first inference would have reported, so leave the value alone.
    if (value->type.shape && value->type.shape->size() != dims.size()) return;
    value->type.shape = std::move(dims);
    ++learned;
  };
  for (const auto& info : proto.graph().value_info()) learn(info);
  for (const auto& info : proto.graph().output()) learn(info);
  return learned;
}

}  // namespace npukit::onnx_io
