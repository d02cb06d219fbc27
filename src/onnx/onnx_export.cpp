// IR → ONNX ModelProto. Initializers (including folded Constant nodes) are written as raw data; value_info
// carries every type the IR knows, so a re-import needs no inference to see the same types.
#include "onnx/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <limits>

#include "onnx/dtype_mapping.h"
#include "onnx/qdq_mapping.h"
#include "onnx/tensor_proto.h"

namespace npukit::onnx_io {

namespace {

// ONNX IR version 3 and older require every initializer to be listed as a graph input; the IR does not
// list them, so exported models declare at least IR version 4 (which every opset runs under).
constexpr int64_t kMinimumExportIrVersion = 4;

void export_type(const ir::TensorType& type, onnx::TypeProto& proto) {
  auto* tensor_type = proto.mutable_tensor_type();
  tensor_type->set_elem_type(dtype_to_onnx(type.dtype));
  if (!type.shape) return;
  auto* shape = tensor_type->mutable_shape();
  for (const ir::Dim& dim : *type.shape) {
    auto* out = shape->add_dim();
    if (dim.is_static()) {
      out->set_dim_value(dim.value);
    } else if (!dim.symbol.empty()) {
      out->set_dim_param(dim.symbol);
    }
  }
}

void export_value_info(const ir::Value& value, onnx::ValueInfoProto& proto) {
  proto.set_name(value.name);
  if (value.type.dtype != DType::undefined) export_type(value.type, *proto.mutable_type());
}

// `qdq` (the main graph only): the float values written as QuantizeLinear / DequantizeLinear (qdq_mapping.h).
void export_graph(const ir::Graph& graph, onnx::GraphProto& proto,
                  int64_t largest_initializer_with_data = std::numeric_limits<int64_t>::max(),
                  const QdqExportPlan* qdq = nullptr);

void export_attribute(const std::string& key, const ir::Attribute& attribute, onnx::AttributeProto& proto) {
  using Kind = ir::Attribute::Kind;
  proto.set_name(key);
  switch (attribute.kind) {
    case Kind::floating:
      proto.set_type(onnx::AttributeProto_AttributeType_FLOAT);
      proto.set_f(static_cast<float>(attribute.float_value));
      break;
    case Kind::integer:
      proto.set_type(onnx::AttributeProto_AttributeType_INT);
      proto.set_i(attribute.int_value);
      break;
    case Kind::string:
      proto.set_type(onnx::AttributeProto_AttributeType_STRING);
      proto.set_s(attribute.string_value);
      break;
    case Kind::tensor:
      proto.set_type(onnx::AttributeProto_AttributeType_TENSOR);
      tensor_to_proto(attribute.tensor_value, {}, *proto.mutable_t());
      break;
    case Kind::graph:
      proto.set_type(onnx::AttributeProto_AttributeType_GRAPH);
      export_graph(*attribute.graph_value, *proto.mutable_g());
      break;
    case Kind::floats:
      proto.set_type(onnx::AttributeProto_AttributeType_FLOATS);
      for (double value : attribute.float_values) proto.add_floats(static_cast<float>(value));
      break;
    case Kind::integers:
      proto.set_type(onnx::AttributeProto_AttributeType_INTS);
      for (int64_t value : attribute.int_values) proto.add_ints(value);
      break;
    case Kind::strings:
      proto.set_type(onnx::AttributeProto_AttributeType_STRINGS);
      for (const std::string& value : attribute.string_values) proto.add_strings(value);
      break;
    case Kind::tensors:
      proto.set_type(onnx::AttributeProto_AttributeType_TENSORS);
      for (const Tensor& tensor : attribute.tensor_values) tensor_to_proto(tensor, {}, *proto.add_tensors());
      break;
    case Kind::graphs:
      proto.set_type(onnx::AttributeProto_AttributeType_GRAPHS);
      for (const auto& subgraph : attribute.graph_values) export_graph(*subgraph, *proto.add_graphs());
      break;
  }
}

void export_graph(const ir::Graph& graph, onnx::GraphProto& proto, int64_t largest_initializer_with_data,
                  const QdqExportPlan* qdq) {
  auto point_of = [&](const ir::Value* value) -> const QdqPoint* {
    if (!qdq || !value) return nullptr;
    auto found = qdq->by_value.find(value);
    return found == qdq->by_value.end() ? nullptr : found->second;
  };
  auto renamed = [](const std::map<std::string, std::string>* names, const std::string& name) {
    if (!names) return name;
    auto found = names->find(name);
    return found == names->end() ? name : found->second;
  };
  proto.set_name(graph.name);
  for (const ir::Value* input : graph.inputs) export_value_info(*input, *proto.add_input());
  for (const ir::Value* output : graph.outputs) export_value_info(*output, *proto.add_output());
  for (const auto& value : graph.values()) {
    if (value->outer_scope) continue;  // belongs to an enclosing graph, which writes it
    if (value->initializer && value->initializer->element_count() > largest_initializer_with_data) {
      // Shape-only export: a large constant becomes a typed graph input, without its bytes.
      ir::Value typed = *value;
      typed.type.dtype = value->initializer->dtype();
      typed.type.shape.emplace();
      for (int64_t dim : value->initializer->shape()) typed.type.shape->push_back(ir::Dim::fixed(dim));
      export_value_info(typed, *proto.add_input());
      continue;
    }
    const QdqPoint* point = point_of(value.get());
    if (point && point->is_weight) continue;  // written quantized, below
    if (value->initializer) tensor_to_proto(*value->initializer, value->name, *proto.add_initializer());
    const bool declared_elsewhere = value->is_graph_input || value->is_graph_output || value->initializer;
    if (!declared_elsewhere && value->type.dtype != DType::undefined) export_value_info(*value, *proto.add_value_info());
  }
  // Weights and graph inputs are quantized before any node reads them; activations right after their producer.
  if (qdq) {
    for (const QdqPoint& point : qdq->points) {
      if (point.is_weight || !point.value->producer) write_qdq_nodes(point, proto);
    }
  }
  const auto* input_names = qdq ? &qdq->consumer_input_names : nullptr;
  const auto* output_names = qdq ? &qdq->producer_output_names : nullptr;
  for (const auto& node : graph.nodes()) {
    onnx::NodeProto* out = proto.add_node();
    out->set_op_type(node->op_type);
    if (!node->name.empty()) out->set_name(node->name);
    const std::string domain = exported_qdq_domain(*node);  // 16-bit Q / DQ: com.microsoft (qdq_mapping.h)
    if (!domain.empty()) out->set_domain(domain);
    for (const ir::Value* input : node->inputs) out->add_input(input ? renamed(input_names, input->name) : std::string());
    for (const ir::Value* output : node->outputs) out->add_output(output ? renamed(output_names, output->name) : std::string());
    for (const auto& [key, attribute] : node->attributes) {
      try {
        export_attribute(key, attribute, *out->add_attribute());
      } catch (const Error& error) {
        throw error.with_node(node->describe());
      }
    }
    for (const ir::Value* output : node->outputs) {
      if (const QdqPoint* point = point_of(output)) write_qdq_nodes(*point, proto);
    }
  }
}

}  // namespace

onnx::ModelProto export_model(const ir::Model& model, int64_t largest_initializer_with_data) {
  onnx::ModelProto proto;
  proto.set_ir_version(std::max(model.ir_version, kMinimumExportIrVersion));
  proto.set_producer_name(model.producer_name.empty() ? "npukit" : model.producer_name);
  if (!model.producer_version.empty()) proto.set_producer_version(model.producer_version);
  for (const auto& [domain, version] : model.opset_imports) {
    auto* opset = proto.add_opset_import();
    opset->set_domain(domain);
    opset->set_version(version);
  }
  const auto declare_contrib_domain = [&] {
    for (const auto& opset : proto.opset_import()) {
      if (opset.domain() == kContribDomain) return;
    }
    auto* opset = proto.add_opset_import();
    opset->set_domain(kContribDomain);
    opset->set_version(1);
  };
  for (const auto& [key, value] : model.metadata) {
    auto* entry = proto.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  // A shape-only export (large constants left out) needs no Q/DQ: they do not change a shape.
  const bool shape_only = largest_initializer_with_data != std::numeric_limits<int64_t>::max();
  const QdqExportPlan qdq = shape_only ? QdqExportPlan{} : plan_qdq_export(*model.graph, model.opset());
  export_graph(*model.graph, *proto.mutable_graph(), largest_initializer_with_data, &qdq);
  for (const auto& node : proto.graph().node()) {
    if (node.domain() == kContribDomain) {
      declare_contrib_domain();
      break;
    }
  }
  return proto;
}

std::string serialize_model(const ir::Model& model) {
  onnx::ModelProto proto = export_model(model);
  if (proto.ByteSizeLong() >= static_cast<size_t>(std::numeric_limits<int>::max())) {
    throw Error(ErrorKind::resource_limit,
                "the model is 2 GiB or larger: protobuf cannot serialize it, and external-data export is not written yet",
                model.source_path);
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throw Error(ErrorKind::internal, "protobuf failed to serialize the model");
  return bytes;
}

void save_model(const ir::Model& model, const std::string& path) {
  const std::string bytes = serialize_model(model);
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) throw Error(ErrorKind::io, "cannot open the file for writing", path);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!stream) throw Error(ErrorKind::io, "failed writing the model", path);
}

}  // namespace npukit::onnx_io
