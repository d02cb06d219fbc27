#include "ir/value_info.h"

namespace npukit::ir {

ValueInfo describe_value(const Value& value) {
  ValueInfo info;
  info.name = value.name;
  info.dtype = value.type.dtype;
  info.has_shape = value.type.shape.has_value();
  if (value.type.shape) {
    for (const Dim& dim : *value.type.shape) {
      info.shape.push_back(dim.is_static() ? dim.value : -1);
      info.dim_names.push_back(dim.symbol);
    }
  }
  return info;
}

std::vector<ValueInfo> declared_inputs(const Model& model) {
  std::vector<ValueInfo> inputs;
  for (const Value* input : model.graph->inputs) {
    if (!input->initializer) inputs.push_back(describe_value(*input));
  }
  return inputs;
}

}  // namespace npukit::ir
