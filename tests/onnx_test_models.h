// Helpers for tests that build ONNX models with the protobuf API and write them to temporary folders.
#pragma once

#include <onnx/onnx_pb.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace npukit::testing {

// A fresh folder under the system temp folder, removed with everything in it at the end of the test.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "npukit_test_XXXXXX").string();
    path_ = mkdtemp(pattern.data()) ? pattern : std::string();
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
};

inline onnx::ModelProto make_model(int64_t opset = 13) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("npukit-tests");
  auto* import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  model.mutable_graph()->set_name("main");
  return model;
}

inline void set_value_info(onnx::ValueInfoProto* info, const std::string& name, int32_t elem_type,
                           const std::vector<int64_t>& dims) {
  info->set_name(name);
  auto* tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(elem_type);
  auto* shape = tensor_type->mutable_shape();
  for (int64_t dim : dims) {
    if (dim >= 0) {
      shape->add_dim()->set_dim_value(dim);
    } else {
      shape->add_dim()->set_dim_param("N");
    }
  }
}

inline void add_input(onnx::GraphProto* graph, const std::string& name, const std::vector<int64_t>& dims,
                      int32_t elem_type = onnx::TensorProto_DataType_FLOAT) {
  set_value_info(graph->add_input(), name, elem_type, dims);
}

inline void add_output(onnx::GraphProto* graph, const std::string& name, const std::vector<int64_t>& dims,
                       int32_t elem_type = onnx::TensorProto_DataType_FLOAT) {
  set_value_info(graph->add_output(), name, elem_type, dims);
}

inline onnx::NodeProto* add_node(onnx::GraphProto* graph, const std::string& op_type,
                                 std::initializer_list<std::string> inputs, std::initializer_list<std::string> outputs,
                                 const std::string& name = {}) {
  auto* node = graph->add_node();
  node->set_op_type(op_type);
  if (!name.empty()) node->set_name(name);
  for (const auto& input : inputs) node->add_input(input);
  for (const auto& output : outputs) node->add_output(output);
  return node;
}

inline onnx::TensorProto* add_float_initializer(onnx::GraphProto* graph, const std::string& name,
                                                const std::vector<int64_t>& dims, const std::vector<float>& values) {
  auto* tensor = graph->add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (int64_t dim : dims) tensor->add_dims(dim);
  for (float value : values) tensor->add_float_data(value);
  return tensor;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string write_model(const onnx::ModelProto& model, const std::string& path) {
  write_bytes(path, model.SerializeAsString());
  return path;
}

}  // namespace npukit::testing
