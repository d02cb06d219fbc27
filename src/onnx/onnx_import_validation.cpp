// Validation of an untrusted ONNX protobuf (see onnx_import_validation.h for what it refuses).
//
// Order of work, each step relying on the previous one:
//   1. parse the protobuf with a byte limit (anything unparseable is "not an ONNX model");
//   2. refuse opsets libonnx does not know, apply ImportOptions::input_shapes;
//   3. a structural pass over the protobuf (names defined once, every input defined, no cycle), every tensor's
//      dims and external-data path, and the ranks libonnx's inference trusts, so the user gets a message
//      naming the node and the name rather than the checker's generic one;
//   4. the libonnx checker and shape inference, in a child process (onnx/isolated_validation.h): their
//      exceptions, and their crashes on hostile input, become Error(invalid_model);
//   5. what the conversion to the IR needs on top: tensor value types with dtypes npukit holds and element
//      counts that fit 64 bits, well-formed Constant nodes, attributes of a supported type, no sparse
//      initializers.
#include "onnx/onnx_import_validation.h"

#include <onnx/defs/schema.h>

#include <google/protobuf/io/coded_stream.h>

#include <set>
#include <unordered_map>

#include "npukit/error.h"
#include "onnx/dtype_mapping.h"
#include "onnx/isolated_validation.h"
#include "onnx/tensor_proto.h"

namespace npukit::onnx_io {

std::string describe_proto_node(const onnx::NodeProto& node, size_t index) {
  return describe_node(node.name(), node.op_type(), index);
}

onnx::AttributeProto_AttributeType attribute_type_of(const onnx::AttributeProto& proto) {
  if (proto.type() != onnx::AttributeProto_AttributeType_UNDEFINED) return proto.type();
  if (proto.has_f()) return onnx::AttributeProto_AttributeType_FLOAT;
  if (proto.has_i()) return onnx::AttributeProto_AttributeType_INT;
  if (proto.has_s()) return onnx::AttributeProto_AttributeType_STRING;
  if (proto.has_t()) return onnx::AttributeProto_AttributeType_TENSOR;
  if (proto.has_g()) return onnx::AttributeProto_AttributeType_GRAPH;
  if (proto.floats_size()) return onnx::AttributeProto_AttributeType_FLOATS;
  if (proto.ints_size()) return onnx::AttributeProto_AttributeType_INTS;
  if (proto.strings_size()) return onnx::AttributeProto_AttributeType_STRINGS;
  if (proto.tensors_size()) return onnx::AttributeProto_AttributeType_TENSORS;
  if (proto.graphs_size()) return onnx::AttributeProto_AttributeType_GRAPHS;
  throw Error(ErrorKind::invalid_model, "attribute '" + proto.name() + "' has no type and no value");
}

namespace {

// ---- step 2 --------------------------------------------------------------------------------------------

void check_opsets(const onnx::ModelProto& model) {
  const auto ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  const auto [lowest, highest] = ranges.at(onnx::ONNX_DOMAIN);
  for (const auto& opset : model.opset_import()) {
    if (!normalize_domain(opset.domain()).empty()) continue;  // other domains: the executor judges their nodes
    const int64_t version = opset.version();
    const std::string range = std::to_string(lowest) + ".." + std::to_string(highest);
    if (version > highest) {
      throw Error(ErrorKind::unsupported, "the model imports ai.onnx opset " + std::to_string(version) +
                                              "; npukit (libonnx 1.12) supports opsets " + range);
    }
    if (version < lowest) {
      throw Error(ErrorKind::invalid_model, "the model imports ai.onnx opset " + std::to_string(version) +
                                                ", which does not exist (valid: " + range + ")");
    }
  }
}

// The shapes a model declares for computed values (value_info, graph outputs) were inferred at the input size it
// was exported with. Once an input's shape changes they are stale ("[1,84,8400]" at 320, "(2) vs (1)" at batch 2),
// so they are dropped, keeping the element types, and shape inference computes them anew. Subgraph bodies too.
void forget_computed_shapes(onnx::GraphProto& graph) {
  // The rank stays (the checker wants a shape on graph outputs, and an input's new shape keeps its rank); every
  // dim becomes unknown.
  auto forget = [](onnx::ValueInfoProto& info) {
    if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return;
    for (auto& dim : *info.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()) dim.Clear();
  };
  for (auto& info : *graph.mutable_value_info()) forget(info);
  for (auto& output : *graph.mutable_output()) forget(output);
  for (auto& node : *graph.mutable_node()) {
    for (auto& attribute : *node.mutable_attribute()) {
      if (attribute.has_g()) forget_computed_shapes(*attribute.mutable_g());
      for (auto& body : *attribute.mutable_graphs()) forget_computed_shapes(body);
    }
  }
}

void apply_input_shapes(onnx::ModelProto& model, const std::map<std::string, std::vector<int64_t>>& input_shapes) {
  if (!input_shapes.empty()) forget_computed_shapes(*model.mutable_graph());
  for (const auto& [name, dims] : input_shapes) {
    onnx::ValueInfoProto* target = nullptr;
    std::string known;
    for (auto& input : *model.mutable_graph()->mutable_input()) {
      if (input.name() == name) target = &input;
      known += (known.empty() ? "" : ", ") + input.name();
    }
    if (!target) {
      throw Error(ErrorKind::invalid_argument, "--input-shape names '" + name + "', but the model's inputs are: " + known);
    }
    if (!target->type().has_tensor_type()) {
      throw Error(ErrorKind::invalid_argument, "input '" + name + "' is not a tensor; its shape cannot be set");
    }
    for (int64_t dim : dims) {
      if (dim < 0) throw Error(ErrorKind::invalid_argument, "input '" + name + "': negative dimension in the shape");
    }
    auto* shape = target->mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->clear_dim();
    for (int64_t dim : dims) shape->add_dim()->set_dim_value(dim);
  }
}

// ---- step 3 --------------------------------------------------------------------------------------------

using NameSet = std::set<std::string>;

bool defined_in(const std::vector<const NameSet*>& scopes, const std::string& name) {
  for (const NameSet* scope : scopes) {
    if (scope->count(name)) return true;
  }
  return false;
}

void check_graph_structure(const onnx::GraphProto& graph, std::vector<const NameSet*> outer_scopes) {
  NameSet defined;
  std::unordered_map<std::string, size_t> producer;
  auto define = [&](const std::string& name, const std::string& by) {
    if (name.empty()) return;
    if (!defined.insert(name).second) {
      throw Error(ErrorKind::invalid_model, "value '" + name + "' is defined more than once in graph '" + graph.name() + "'",
                  {}, by);
    }
  };
  for (const auto& initializer : graph.initializer()) define(initializer.name(), {});
  for (const auto& initializer : graph.sparse_initializer()) define(initializer.values().name(), {});
  for (const auto& input : graph.input()) {
    // An input may have an initializer of the same name (an input with a default value).
    if (!defined.count(input.name())) define(input.name(), {});
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    for (const std::string& output : graph.node(i).output()) {
      define(output, describe_proto_node(graph.node(i), i));
      if (!output.empty()) producer[output] = static_cast<size_t>(i);
    }
  }
  std::vector<const NameSet*> inner_scopes = outer_scopes;
  inner_scopes.push_back(&defined);
  std::vector<std::vector<size_t>> dependents(graph.node_size());
  std::vector<size_t> pending(graph.node_size(), 0);
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    for (const std::string& input : node.input()) {
      if (input.empty()) continue;
      if (!defined.count(input) && !defined_in(outer_scopes, input)) {
        throw Error(ErrorKind::invalid_model,
                    "input '" + input + "' is not defined: no node, initializer or graph input produces it", {},
                    describe_proto_node(node, i));
      }
      auto found = producer.find(input);
      if (found != producer.end()) {
        dependents[found->second].push_back(static_cast<size_t>(i));
        ++pending[i];
      }
    }
    for (const auto& attribute : node.attribute()) {
      try {
        if (attribute.has_g()) check_graph_structure(attribute.g(), inner_scopes);
        for (const auto& subgraph : attribute.graphs()) check_graph_structure(subgraph, inner_scopes);
      } catch (const Error& error) {
        // Name the enclosing node too: subgraph nodes are often unnamed.
        throw Error(error.kind(), error.reason() + " (in attribute '" + attribute.name() + "' of node " +
                                      describe_proto_node(node, i) + ")",
                    {}, error.node().empty() ? describe_proto_node(node, i) : error.node());
      }
    }
  }
  std::vector<size_t> ready;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (pending[i] == 0) ready.push_back(i);
  }
  size_t visited = 0;
  while (!ready.empty()) {
    size_t next = ready.back();
    ready.pop_back();
    ++visited;
    for (size_t dependent : dependents[next]) {
      if (--pending[dependent] == 0) ready.push_back(dependent);
    }
  }
  if (visited != pending.size()) {
    for (size_t i = 0; i < pending.size(); ++i) {
      if (pending[i] != 0) {
        throw Error(ErrorKind::invalid_model,
                    "the graph has a cycle: this node depends (directly or indirectly) on its own output", {},
                    describe_proto_node(graph.node(static_cast<int>(i)), i));
      }
    }
  }
  for (const auto& output : graph.output()) {
    if (!defined.count(output.name()) && !defined_in(outer_scopes, output.name())) {
      throw Error(ErrorKind::invalid_model, "graph output '" + output.name() + "' of graph '" + graph.name() +
                                                "' is not produced by any node, initializer or input");
    }
  }
}

// Checks every tensor of the model (initializers, Constant values, tensor attributes, in subgraphs too)
// before the libonnx checker sees it: absurd dims are refused without allocating, and external data that
// would be read from outside the model's folder is refused before anything opens it.
void check_tensor(const onnx::TensorProto& tensor, const std::string& base_directory) {
  check_tensor_proto_dims(tensor);
  if (!tensor.has_data_location() || tensor.data_location() != onnx::TensorProto_DataLocation_EXTERNAL) return;
  for (const auto& entry : tensor.external_data()) {
    if (entry.key() != "location") continue;
    if (base_directory.empty()) {
      throw Error(ErrorKind::invalid_model, "tensor '" + tensor.name() + "': external data '" + entry.value() +
                                                "' cannot be read: the model was not loaded from a file");
    }
    resolve_external_data_path(base_directory, entry.value(), tensor.name());
  }
}

void check_tensors(const onnx::GraphProto& graph, const std::string& base_directory) {
  for (const auto& initializer : graph.initializer()) check_tensor(initializer, base_directory);
  for (const auto& initializer : graph.sparse_initializer()) {
    check_tensor(initializer.values(), base_directory);
    check_tensor(initializer.indices(), base_directory);
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    try {
      for (const auto& attribute : node.attribute()) {
        if (attribute.has_t()) check_tensor(attribute.t(), base_directory);
        for (const auto& tensor : attribute.tensors()) check_tensor(tensor, base_directory);
        if (attribute.has_sparse_tensor()) check_tensor(attribute.sparse_tensor().values(), base_directory);
        if (attribute.has_g()) check_tensors(attribute.g(), base_directory);
        for (const auto& subgraph : attribute.graphs()) check_tensors(subgraph, base_directory);
      }
    } catch (const Error& error) {
      throw error.node().empty() ? error.with_node(describe_proto_node(node, i)) : error;
    }
  }
}

// Some libonnx 1.12 shape-inference functions trust input ranks and read out of bounds otherwise (found by
// the loader fuzzer): convolutions whose weight rank differs from the input's, STFT with a signal that is
// not rank 3, an `axis` far outside the input's rank (LayerNormalization). Refuse such nodes first, for every
// rank the model declares (inputs, value_info, initializers).
void check_ranks_libonnx_trusts(const onnx::GraphProto& graph) {
  std::unordered_map<std::string, int> rank;
  auto note = [&](const onnx::ValueInfoProto& info) {
    if (info.type().has_tensor_type() && info.type().tensor_type().has_shape()) {
      rank[info.name()] = info.type().tensor_type().shape().dim_size();
    }
  };
  for (const auto& info : graph.input()) note(info);
  for (const auto& info : graph.value_info()) note(info);
  for (const auto& info : graph.output()) note(info);
  for (const auto& initializer : graph.initializer()) rank[initializer.name()] = initializer.dims_size();
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    const std::string& op = node.op_type();
    int weight_index = -1;
    if (op == "Conv" || op == "ConvInteger" || op == "ConvTranspose") weight_index = 1;
    if (op == "QLinearConv") weight_index = 3;
    if (weight_index >= 0 && node.input_size() > weight_index) {
      auto input_rank = rank.find(node.input(0));
      auto weight_rank = rank.find(node.input(weight_index));
      if (input_rank != rank.end() && weight_rank != rank.end() && input_rank->second != weight_rank->second) {
        throw Error(ErrorKind::invalid_model,
                    "input '" + node.input(0) + "' has rank " + std::to_string(input_rank->second) + " but weight '" +
                        node.input(weight_index) + "' has rank " + std::to_string(weight_rank->second) +
                        "; a convolution needs both of the same rank",
                    {}, describe_proto_node(node, i));
      }
    }
    // STFT's inference indexes dims 0..2 of the signal without checking its rank (fuzzer finding too).
    if (op == "STFT" && node.input_size() > 0) {
      auto signal_rank = rank.find(node.input(0));
      if (signal_rank != rank.end() && signal_rank->second != 3) {
        throw Error(ErrorKind::invalid_model,
                    "STFT signal '" + node.input(0) + "' has rank " + std::to_string(signal_rank->second) +
                        "; it must be [batch, length, 1 or 2]",
                    {}, describe_proto_node(node, i));
      }
    }
    // An `axis` counts against input 0's rank r: [-r, r] covers every op (Flatten allows r), OneHot's output
    // has one more dim so it allows [-r-1, r]. Anything further out is invalid whatever the op.
    auto input_rank = node.input_size() > 0 ? rank.find(node.input(0)) : rank.end();
    if (input_rank != rank.end()) {
      for (const auto& attribute : node.attribute()) {
        if (attribute.name() != "axis" || attribute.type() != onnx::AttributeProto::INT) continue;
        const int64_t r = input_rank->second;
        const int64_t lowest = op == "OneHot" ? -r - 1 : -r;
        if (attribute.i() < lowest || attribute.i() > r) {
          throw Error(ErrorKind::invalid_model,
                      "axis " + std::to_string(attribute.i()) + " is out of range for input '" + node.input(0) +
                          "' of rank " + std::to_string(r),
                      {}, describe_proto_node(node, i));
        }
      }
    }
    for (const auto& attribute : node.attribute()) {
      if (attribute.has_g()) check_ranks_libonnx_trusts(attribute.g());
      for (const auto& subgraph : attribute.graphs()) check_ranks_libonnx_trusts(subgraph);
    }
  }
}


// ---- step 5 --------------------------------------------------------------------------------------------

// A declared shape whose known dims multiply past int64 describes a tensor that cannot exist; every size
// computed from it later (bytes, MACs, transfers) would overflow in silence. A dim of 0 makes the tensor
// empty, whatever the others say.
void reject_overflowing_dims(const onnx::TensorShapeProto& shape, const std::string& name) {
  int64_t count = 1;
  bool overflows = false;
  for (const auto& dim : shape.dim()) {
    if (!dim.has_dim_value() || dim.dim_value() < 0) continue;
    const int64_t size = dim.dim_value();
    if (size == 0) return;
    if (count > std::numeric_limits<int64_t>::max() / size) overflows = true;
    else count *= size;
  }
  if (overflows) {
    std::string text;
    for (const auto& dim : shape.dim()) {
      std::string one = "?";
      if (dim.has_dim_value() && dim.dim_value() >= 0) one = std::to_string(dim.dim_value());
      else if (dim.has_dim_param()) one = dim.dim_param();
      text += (text.empty() ? "" : ", ") + one;
    }
    throw Error(ErrorKind::invalid_model, "value '" + name + "' declares shape [" + text +
                                              "], whose element count overflows 64 bits");
  }
}

// The IR holds dense tensors of the dtypes npukit knows; anything else a value declares is refused by name.
void check_value_type(const onnx::TypeProto& type, const std::string& name) {
  switch (type.value_case()) {
    case onnx::TypeProto::kTensorType: {
      const auto& tensor_type = type.tensor_type();
      if (tensor_type.elem_type() != onnx::TensorProto_DataType_UNDEFINED) {
        dtype_from_onnx_or_throw(tensor_type.elem_type(), name);
      }
      if (tensor_type.has_shape()) reject_overflowing_dims(tensor_type.shape(), name);
      return;
    }
    case onnx::TypeProto::kSequenceType:
      throw Error(ErrorKind::unsupported, "value '" + name + "' is a sequence; npukit supports tensor values only");
    case onnx::TypeProto::kOptionalType:
      throw Error(ErrorKind::unsupported, "value '" + name + "' is an optional; npukit supports tensor values only");
    case onnx::TypeProto::kMapType:
      throw Error(ErrorKind::unsupported, "value '" + name + "' is a map; npukit supports tensor values only");
    case onnx::TypeProto::kSparseTensorType:
      throw Error(ErrorKind::unsupported, "value '" + name + "' is a sparse tensor; npukit supports dense tensors only");
    default:
      return;
  }
}

void check_constant_node(const onnx::NodeProto& node, int index) {
  if (node.output_size() != 1 || node.output(0).empty()) {
    throw Error(ErrorKind::invalid_model, "a Constant node must have exactly one output", {},
                describe_proto_node(node, index));
  }
  if (node.attribute_size() != 1) {
    throw Error(ErrorKind::invalid_model, "a Constant node must have exactly one attribute", {},
                describe_proto_node(node, index));
  }
  const std::string& key = node.attribute(0).name();
  if (key == "sparse_value") {
    throw Error(ErrorKind::unsupported, "Constant with a sparse_value is not supported", {},
                describe_proto_node(node, index));
  }
  if (key == "value_string" || key == "value_strings") {
    throw Error(ErrorKind::unsupported, "string constants are not supported (npukit has no string tensors)", {},
                describe_proto_node(node, index));
  }
  if (key != "value" && key != "value_float" && key != "value_floats" && key != "value_int" && key != "value_ints") {
    throw Error(ErrorKind::invalid_model, "Constant has an unknown attribute '" + key + "'", {},
                describe_proto_node(node, index));
  }
}

void check_attribute_type(const onnx::AttributeProto& proto) {
  const onnx::AttributeProto_AttributeType type = attribute_type_of(proto);
  switch (type) {
    case onnx::AttributeProto_AttributeType_FLOAT:
    case onnx::AttributeProto_AttributeType_INT:
    case onnx::AttributeProto_AttributeType_STRING:
    case onnx::AttributeProto_AttributeType_TENSOR:
    case onnx::AttributeProto_AttributeType_GRAPH:
    case onnx::AttributeProto_AttributeType_FLOATS:
    case onnx::AttributeProto_AttributeType_INTS:
    case onnx::AttributeProto_AttributeType_STRINGS:
    case onnx::AttributeProto_AttributeType_TENSORS:
    case onnx::AttributeProto_AttributeType_GRAPHS:
      return;
    default:
      throw Error(ErrorKind::unsupported, "attribute '" + proto.name() + "' has type " +
                                              onnx::AttributeProto_AttributeType_Name(type) +
                                              ", which npukit does not support");
  }
}

void check_for_conversion(const onnx::GraphProto& graph) {
  if (graph.sparse_initializer_size() > 0) {
    throw Error(ErrorKind::unsupported, "sparse initializer '" + graph.sparse_initializer(0).values().name() +
                                            "': npukit supports dense initializers only");
  }
  // The declared type the conversion gives each value: an input's wins over an output's over value_info's.
  std::unordered_map<std::string, const onnx::TypeProto*> declared;
  for (const auto& info : graph.value_info()) declared[info.name()] = &info.type();
  for (const auto& info : graph.output()) declared[info.name()] = &info.type();
  for (const auto& info : graph.input()) declared[info.name()] = &info.type();
  auto check_declared = [&](const std::string& name) {
    auto found = declared.find(name);
    if (found != declared.end()) check_value_type(*found->second, name);
  };
  for (const auto& input : graph.input()) check_declared(input.name());
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    if (is_constant_node(node)) {
      check_constant_node(node, i);
      continue;
    }
    for (const std::string& output : node.output()) {
      if (!output.empty()) check_declared(output);
    }
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    if (is_constant_node(node)) continue;
    for (const auto& attribute : node.attribute()) {
      try {
        check_attribute_type(attribute);
        if (attribute.has_g()) check_for_conversion(attribute.g());
        for (const auto& subgraph : attribute.graphs()) check_for_conversion(subgraph);
      } catch (const Error& error) {
        throw error.node().empty() ? error.with_node(describe_proto_node(node, i)) : error;
      }
    }
  }
  for (const auto& output : graph.output()) {
    if (output.name().empty()) throw Error(ErrorKind::invalid_model, "a graph output has an empty name");
    check_declared(output.name());
  }
}

}  // namespace

onnx::ModelProto parse_untrusted_model(std::string_view bytes) {
  if (bytes.empty()) throw Error(ErrorKind::invalid_model, "not an ONNX model (the file is empty)");
  if (bytes.size() >= kMaxModelBytes) {
    throw Error(ErrorKind::resource_limit,
                "the file is 2 GiB or larger; protobuf cannot parse it (large models must keep weights in external data)");
  }
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(static_cast<int>(kMaxModelBytes));
  onnx::ModelProto model;
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage()) {
    throw Error(ErrorKind::invalid_model,
                "not an ONNX model (protobuf parse failed: the file is truncated, corrupt or of another format)");
  }
  // Random bytes sometimes parse as a message of unknown fields; a model has at least a version and a graph.
  if (!model.has_ir_version() || !model.has_graph()) {
    throw Error(ErrorKind::invalid_model, std::string("not an ONNX model (parsed, but it has no ") +
                                              (model.has_ir_version() ? "graph" : "ir_version") + ")");
  }
  return model;
}

void validate_untrusted_model(onnx::ModelProto& proto, const std::string& base_directory,
                              const ImportOptions& options) {
  check_opsets(proto);
  apply_input_shapes(proto, options.input_shapes);
  check_graph_structure(proto.graph(), {});
  check_tensors(proto.graph(), base_directory);
  // Rank checks first: they name the node, where a crash of inference in the child could not.
  if (options.run_shape_inference) check_ranks_libonnx_trusts(proto.graph());
  ValidationSteps steps;
  steps.run_checker = options.run_checker;
  steps.run_shape_inference = options.run_shape_inference;
  steps.propagate_shape_data = options.propagate_shape_data;
  steps.model_directory = base_directory;
  validate_and_infer_shapes(proto, steps);
  check_for_conversion(proto.graph());
}

}  // namespace npukit::onnx_io
