// GraphBuilder: writes an ir::Model op by op, with static shapes on every value and deterministic
// pseudo-random weights, for models npukit builds in C++ (src/zoo).
//
// Shapes are computed here, as each op is added, because a built-in model never goes through ONNX shape
// inference; inspect and the runtime then see the same typed values as for an imported file.
// Weights are scaled the way a trained network's folded BatchNorm scales them: every Conv's output has
// about unit variance. The builder tracks the first two moments of every value as it goes (analytically,
// from the ops' definitions) and sizes each Conv's weights from its input's second moment, so activations
// neither vanish nor explode however deep the model is (plain He init decays by ~0.7 per SiLU layer).
// Weights come from one seeded generator of our own (splitmix64) so a model is bit-identical on every
// platform and compiler: std:: distributions are implementation-defined.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
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

  // Mean and mean square of a value's elements, as estimated while building.
  struct Moments {
    double mean = 0;
    double mean_square = 1;
  };

  // `moments`: what the data fed to this input looks like (images in [0, 1): mean 1/2, mean square 1/3).
  ir::Value* input(const std::string& name, DType dtype, const Shape& shape, Moments moments = {0.5, 1.0 / 3.0});
  void output(ir::Value* value, const std::string& name);
  ir::Value* constant(const std::string& name, Tensor data);
  ir::Value* scalar(float value);
  ir::Value* int64_vector(const std::string& name, const std::vector<int64_t>& values);

  // Conv with bias (BatchNorm folded into it). Weights are uniform with the variance
  // output_std² / (fan_in × input mean square), so the output's standard deviation is about output_std;
  // the bias is small.
  ir::Value* conv(const std::string& name, ir::Value* x, int64_t out_channels, int64_t kernel, int64_t stride,
                  int64_t pad, double output_std = 1.0);
  ir::Value* sigmoid(const std::string& name, ir::Value* x);
  // SiLU as the ONNX export writes it: Mul(x, Sigmoid(x)), named <name>.sigmoid and <name>.mul.
  ir::Value* silu(const std::string& name, ir::Value* x);
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
  Moments moments_of(const ir::Value* value) const;
  WeightGenerator& weights() { return generator_; }

 private:
  ir::Value* new_value(const std::string& name, const Shape& shape, DType dtype = DType::f32);
  ir::Node* add_node(const std::string& op, const std::string& name, std::vector<ir::Value*> inputs,
                     std::vector<ir::Value*> outputs);
  ir::Value* elementwise(const std::string& op, const std::string& name, ir::Value* a, ir::Value* b);
  static void set_ints(ir::Node* node, const std::string& key, std::vector<int64_t> values);
  static void set_int(ir::Node* node, const std::string& key, int64_t value);
  static void set_string(ir::Node* node, const std::string& key, std::string value);

  ir::Value* with_moments(ir::Value* value, Moments moments);

  std::unordered_map<const ir::Value*, Moments> moments_;
  ir::Model& model_;
  ir::Graph& graph_;
  WeightGenerator generator_;
  size_t scalar_count_ = 0;
};

}  // namespace npukit::zoo
