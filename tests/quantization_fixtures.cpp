#include "quantization_fixtures.h"

#include <cstdio>
#include <filesystem>
#include <random>

#include "core/npy.h"
#include "npukit/tensor.h"
#include "onnx_test_models.h"

namespace npukit::testing {

namespace {

namespace fs = std::filesystem;

void set_int(onnx::NodeProto* node, const std::string& name, int64_t value) {
  auto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto_AttributeType_INT);
  attribute->set_i(value);
}

void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  auto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t value : values) attribute->add_ints(value);
}

}  // namespace

std::vector<float> seeded_values(size_t count, uint32_t seed, float low, float high) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(count);
  for (float& value : values) value = distribution(generator);
  return values;
}

// x[1,3,8,8] → Conv(3→4, 3×3, pad 1) → BatchNormalization → Relu → MaxPool 2×2 → Conv(4→2, 1×1) → y[1,2,4,4]
std::string write_conv_bn_relu_net(const std::string& path) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, 3, 8, 8});
  add_output(graph, "y", {1, 2, 4, 4});
  add_float_initializer(graph, "w1", {4, 3, 3, 3}, seeded_values(108, 1, -0.5f, 0.5f));
  add_float_initializer(graph, "b1", {4}, {0.1f, -0.2f, 0.05f, 0.0f});
  add_float_initializer(graph, "gamma", {4}, {1.0f, 0.5f, 2.0f, 1.5f});
  add_float_initializer(graph, "beta", {4}, {0.1f, 0.2f, -0.1f, 0.0f});
  add_float_initializer(graph, "mean", {4}, {0.05f, -0.1f, 0.2f, 0.0f});
  add_float_initializer(graph, "variance", {4}, {1.0f, 0.5f, 2.0f, 0.8f});
  add_float_initializer(graph, "w2", {2, 4, 1, 1}, seeded_values(8, 2, -1.0f, 1.0f));
  add_float_initializer(graph, "b2", {2}, {0.3f, -0.3f});
  set_ints(add_node(graph, "Conv", {"x", "w1", "b1"}, {"conv1"}, "conv1"), "pads", {1, 1, 1, 1});
  add_node(graph, "BatchNormalization", {"conv1", "gamma", "beta", "mean", "variance"}, {"bn1"}, "bn1");
  add_node(graph, "Relu", {"bn1"}, {"relu1"}, "relu1");
  onnx::NodeProto* pool = add_node(graph, "MaxPool", {"relu1"}, {"pool1"}, "pool1");
  set_ints(pool, "kernel_shape", {2, 2});
  set_ints(pool, "strides", {2, 2});
  add_node(graph, "Conv", {"pool1", "w2", "b2"}, {"y"}, "conv2");
  return write_model(model, path);
}

// `count` samples of [1,3,8,8] in a folder, one .npy each.
std::string write_calibration_folder(const std::string& folder, int count, uint32_t seed) {
  fs::create_directories(folder);
  for (int index = 0; index < count; ++index) {
    const Tensor sample = Tensor::from_vector<float>(DType::f32, {1, 3, 8, 8},
                                                     seeded_values(192, seed + static_cast<uint32_t>(index), -1.0f, 1.0f));
    char name[32];
    std::snprintf(name, sizeof(name), "sample_%02d.npy", index);
    write_npy((fs::path(folder) / name).string(), sample);
  }
  return folder;
}

}  // namespace npukit::testing
