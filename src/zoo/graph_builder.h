// GraphBuilder: writes an ir::Model op by op, with static shapes on every value and deterministic
// pseudo-random weights, for models npukit builds in C++ (src/zoo).
//
// Shapes are computed here, as each op is added, because a built-in model never goes through ONNX shape
// inference; inspect and the runtime then see the same typed values as for an imported file.
// Weights come from one seeded generator of our own (splitmix64) so a model is bit-identical on every
// platform and compiler: std:: distributions are implementation-defined.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::zoo {

class WeightGenerator {
 public:
  explicit WeightGenerator(uint64_t seed) : state_(seed) {}
  uint64_t next_bits();
  // Uniform in [-1, 1).
  float next_symmetric();

 private:
  uint64_t state_;
};

class GraphBuilder {
 public:
  GraphBuilder(ir::Model& model, uint64_t seed);

  ir::Value* input(const std::string& name, DType dtype, const Shape& shape);
  void output(ir::Value* value, const std::string& name);
  ir::Value* constant(const std::string& name, Tensor data);
  ir::Value* scalar(float value);
  ir::Value* int64_vector(const std::string& name, const std::vector<int64_t>& values);

  // Conv with bias (BatchNorm folded into it). Weights are He-initialised, uniform with the variance
  // gain² / fan_in, so activations keep their scale through ReLU-like nonlinearities; the bias is small.
  ir::Value* conv(const std::string& name, ir::Value* x, int64_t out_channels, int64_t kernel, int64_t stride,
                  int64_t pad, float gain = 1.4142135f);
  ir::Value* sigmoid(const std::string& name, ir::Value* x);
  ir::Value* mul(const std::string& name, ir::Value* a, ir::Value* b);
  ir::Value* add(const std::string& name, ir::Value* a, ir::Value* b);
  ir::Value* pow(const std::string& name, ir::Value* a, ir::Value* exponent);
  // `output_name` names the result (default: "<name>_output"), for values that are graph outputs.
  ir::Value* concat(const std::string& name, const std::vector<ir::Value*>& parts, int64_t axis,
                    const std::string& output_name = {});
  ir::Value* max_pool(const std::string& name, ir::Value* x, int64_t kernel, int64_t stride, int64_t pad);
  // Resize (opset 13) with nearest mode and integer scales on the last two axes, as torch exports
  // nn.Upsample(scale_factor, 'nearest').
  ir::Value* resize_nearest(const std::string& name, ir::Value* x, int64_t scale);
  ir::Value* reshape(const std::string& name, ir::Value* x, const Shape& shape);
  ir::Value* transpose(const std::string& name, ir::Value* x, const std::vector<int64_t>& permutation);
  std::vector<ir::Value*> split(const std::string& name, ir::Value* x, const std::vector<int64_t>& sizes,
                                int64_t axis);

  Shape shape_of(const ir::Value* value) const;
  WeightGenerator& weights() { return generator_; }

 private:
  ir::Value* new_value(const std::string& name, const Shape& shape, DType dtype = DType::f32);
  ir::Node* add_node(const std::string& op, const std::string& name, std::vector<ir::Value*> inputs,
                     std::vector<ir::Value*> outputs);
  ir::Value* elementwise(const std::string& op, const std::string& name, ir::Value* a, ir::Value* b);
  static void set_ints(ir::Node* node, const std::string& key, std::vector<int64_t> values);
  static void set_int(ir::Node* node, const std::string& key, int64_t value);
  static void set_string(ir::Node* node, const std::string& key, std::string value);

  ir::Model& model_;
  ir::Graph& graph_;
  WeightGenerator generator_;
  size_t scalar_count_ = 0;
};

}  // namespace npukit::zoo
