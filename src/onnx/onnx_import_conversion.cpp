// A validated ONNX protobuf → ir::Model (see onnx_import_conversion.h).
#include "onnx/onnx_import_conversion.h"

#include <unordered_map>

#include "ir/verifier.h"
#include "npukit/error.h"
#include "onnx/dtype_mapping.h"
#include "onnx/onnx_import_validation.h"
#include "onnx/qdq_mapping.h"
#include "onnx/tensor_proto.h"

namespace npukit::onnx_io {

namespace {

// Non-tensor types were refused by the validation; an unset type stays undefined.
ir::TensorType convert_type(const onnx::TypeProto& type, const std::string& name) {
  ir::TensorType result;
  if (type.value_case() != onnx::TypeProto::kTensorType) return result;
  const auto& tensor_type = type.tensor_type();
  if (tensor_type.elem_type() != onnx::TensorProto_DataType_UNDEFINED) {
    result.dtype = dtype_from_onnx_or_throw(tensor_type.elem_type(), name);
  }
  if (tensor_type.has_shape()) {
    std::vector<ir::Dim> dims;
    for (const auto& dim : tensor_type.shape().dim()) {
      if (dim.has_dim_value() && dim.dim_value() >= 0) {
        dims.push_back(ir::Dim::fixed(dim.dim_value()));
      } else if (dim.has_dim_param()) {
        dims.push_back(ir::Dim::symbolic(dim.dim_param()));
      } else {
        dims.push_back(ir::Dim{});
      }
    }
    result.shape = std::move(dims);
  }
  return result;
}

Tensor scalar_or_vector_f32(const std::vector<float>& values, bool scalar) {
  return Tensor::from_vector<float>(DType::f32, scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())}, values);
}

Tensor scalar_or_vector_i64(const std::vector<int64_t>& values, bool scalar) {
  return Tensor::from_vector<int64_t>(DType::i64, scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())}, values);
}

class GraphConverter {
 public:
  explicit GraphConverter(std::string base_directory) : base_directory_(std::move(base_directory)) {}

  std::shared_ptr<ir::Graph> convert(const onnx::GraphProto& proto, ir::Graph* parent) {
    auto graph = std::make_shared<ir::Graph>();
    graph->name = proto.name();
    graph->parent = parent;

    std::unordered_map<std::string, const onnx::TypeProto*> declared;
    for (const auto& info : proto.value_info()) declared[info.name()] = &info.type();
    for (const auto& info : proto.output()) declared[info.name()] = &info.type();
    for (const auto& info : proto.input()) declared[info.name()] = &info.type();
    auto type_of = [&](const std::string& name) {
      auto found = declared.find(name);
      return found == declared.end() ? ir::TensorType{} : convert_type(*found->second, name);
    };

    for (const auto& initializer : proto.initializer()) {
      graph->add_initializer(initializer.name(), tensor_from_proto(initializer, base_directory_));
    }
    for (const auto& input : proto.input()) {
      ir::Value* value = graph->find_value(input.name());
      if (value) {
        // An input with a default value: it keeps its initializer and may be overridden at run time.
        ir::TensorType type = type_of(input.name());
        if (type.dtype != DType::undefined) value->type = std::move(type);
      } else {
        value = graph->add_value(input.name(), type_of(input.name()));
      }
      value->is_graph_input = true;
      graph->inputs.push_back(value);
    }

    for (int i = 0; i < proto.node_size(); ++i) {
      const onnx::NodeProto& node = proto.node(i);
      if (is_constant_node(node)) {
        graph->add_initializer(node.output(0), constant_value(node, i));
        continue;
      }
      for (const std::string& output : node.output()) {
        if (!output.empty()) graph->add_value(output, type_of(output));
      }
    }

    for (int i = 0; i < proto.node_size(); ++i) {
      const onnx::NodeProto& node = proto.node(i);
      if (is_constant_node(node)) continue;
      const std::string label = describe_proto_node(node, i);
      std::vector<ir::Value*> inputs;
      for (const std::string& input : node.input()) inputs.push_back(resolve(*graph, input, label));
      std::vector<ir::Value*> outputs;
      for (const std::string& output : node.output()) outputs.push_back(output.empty() ? nullptr : graph->find_value(output));
      // com.microsoft QuantizeLinear / DequantizeLinear (16-bit QDQ before opset 21) are read as ONNX's own.
      ir::Node* converted = graph->add_node(node.op_type(), std::move(inputs), std::move(outputs), node.name(),
                                            imported_qdq_domain(node.op_type(), normalize_domain(node.domain())));
      for (const auto& attribute : node.attribute()) {
        try {
          converted->attributes[attribute.name()] = convert_attribute(attribute, *graph);
        } catch (const Error& error) {
          throw error.node().empty() ? error.with_node(label) : error;
        }
      }
    }

    for (const auto& output : proto.output()) {
      ir::Value* value = resolve(*graph, output.name(), "graph '" + proto.name() + "'");
      if (value->type.dtype == DType::undefined) value->type = type_of(output.name());
      value->is_graph_output = true;
      graph->outputs.push_back(value);
    }
    graph->sort_topologically();
    return graph;
  }

 private:
  // The value a node reads: from this graph, or an outer-scope placeholder when an enclosing graph
  // defines it.
  ir::Value* resolve(ir::Graph& graph, const std::string& name, const std::string& reader) {
    if (name.empty()) return nullptr;
    if (ir::Value* value = graph.find_value(name)) return value;
    for (ir::Graph* scope = graph.parent; scope; scope = scope->parent) {
      ir::Value* outer = scope->find_value(name);
      if (!outer) continue;
      ir::Value* placeholder = graph.add_value(name, outer->type);
      placeholder->outer_scope = true;
      return placeholder;
    }
    throw Error(ErrorKind::invalid_model,
                "reads '" + name + "', which no node, initializer or graph input (here or in an enclosing graph) defines",
                {}, reader);
  }

  // The validation accepted only the five numeric forms of a Constant's single attribute.
  Tensor constant_value(const onnx::NodeProto& node, int index) {
    const onnx::AttributeProto& attribute = node.attribute(0);
    const std::string& key = attribute.name();
    try {
      if (key == "value") return tensor_from_proto(attribute.t(), base_directory_);
      if (key == "value_float") return scalar_or_vector_f32({attribute.f()}, true);
      if (key == "value_floats") return scalar_or_vector_f32({attribute.floats().begin(), attribute.floats().end()}, false);
      if (key == "value_int") return scalar_or_vector_i64({attribute.i()}, true);
      if (key == "value_ints") return scalar_or_vector_i64({attribute.ints().begin(), attribute.ints().end()}, false);
    } catch (const Error& error) {
      throw error.with_node(describe_proto_node(node, index));
    }
    throw Error(ErrorKind::invalid_model, "Constant has an unknown attribute '" + key + "'", {},
                describe_proto_node(node, index));
  }

  ir::Attribute convert_attribute(const onnx::AttributeProto& proto, ir::Graph& graph) {
    using Kind = ir::Attribute::Kind;
    ir::Attribute attribute;
    switch (attribute_type_of(proto)) {
      case onnx::AttributeProto_AttributeType_FLOAT:
        attribute.kind = Kind::floating;
        attribute.float_value = proto.f();
        break;
      case onnx::AttributeProto_AttributeType_INT:
        attribute.kind = Kind::integer;
        attribute.int_value = proto.i();
        break;
      case onnx::AttributeProto_AttributeType_STRING:
        attribute.kind = Kind::string;
        attribute.string_value = proto.s();
        break;
      case onnx::AttributeProto_AttributeType_TENSOR:
        attribute.kind = Kind::tensor;
        attribute.tensor_value = tensor_from_proto(proto.t(), base_directory_);
        break;
      case onnx::AttributeProto_AttributeType_GRAPH:
        attribute.kind = Kind::graph;
        attribute.graph_value = convert(proto.g(), &graph);
        break;
      case onnx::AttributeProto_AttributeType_FLOATS:
        attribute.kind = Kind::floats;
        attribute.float_values.assign(proto.floats().begin(), proto.floats().end());
        break;
      case onnx::AttributeProto_AttributeType_INTS:
        attribute.kind = Kind::integers;
        attribute.int_values.assign(proto.ints().begin(), proto.ints().end());
        break;
      case onnx::AttributeProto_AttributeType_STRINGS:
        attribute.kind = Kind::strings;
        attribute.string_values.assign(proto.strings().begin(), proto.strings().end());
        break;
      case onnx::AttributeProto_AttributeType_TENSORS:
        attribute.kind = Kind::tensors;
        for (const auto& tensor : proto.tensors()) attribute.tensor_values.push_back(tensor_from_proto(tensor, base_directory_));
        break;
      case onnx::AttributeProto_AttributeType_GRAPHS:
        attribute.kind = Kind::graphs;
        for (const auto& subgraph : proto.graphs()) attribute.graph_values.push_back(convert(subgraph, &graph));
        break;
      default:
        throw Error(ErrorKind::unsupported, "attribute '" + proto.name() + "' has a type npukit does not support");
    }
    return attribute;
  }

  std::string base_directory_;
};

}  // namespace

ir::Model convert_validated_model(const onnx::ModelProto& proto, const std::string& base_directory) {
  ir::Model model;
  model.ir_version = proto.ir_version();
  model.producer_name = proto.producer_name();
  model.producer_version = proto.producer_version();
  for (const auto& entry : proto.metadata_props()) model.metadata[entry.key()] = entry.value();
  for (const auto& opset : proto.opset_import()) model.opset_imports[normalize_domain(opset.domain())] = opset.version();
  GraphConverter converter(base_directory);
  model.graph = converter.convert(proto.graph(), nullptr);
  attach_qdq_params(*model.graph, model.opset());
  ir::verify(*model.graph);
  return model;
}

}  // namespace npukit::onnx_io
