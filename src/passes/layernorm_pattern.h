// Recognises LayerNorm written out by hand, as older PyTorch exports (opset < 17), hand-written modules
// (`(x - u) / sqrt(s + eps)`) and TF-style graphs produce it:
//
//   mean  = ReduceMean(x, trailing axes, keepdims)
//   d     = Sub(x, mean)                       (one Sub, or a twin Sub(x, mean) feeding the square)
//   var   = ReduceMean(Pow(d, 2) | Mul(d, d), the same axes)
//   std   = Sqrt(Add(var, epsilon))            (Add in either order)
//   n     = Div(d, std) | Mul(d, Reciprocal(std)) | Mul(d, Div(1, std))
//   y     = Add(Mul(n, gamma), beta)           (gamma and beta optional, constants, either order; gamma may
//                                              also scale d before the division: w * (x - u) / std + b)
//
// and tf.nn.batch_normalization's form (Keras' LayerNormalization after tf2onnx):
//
//   t     = Reciprocal(Sqrt(var + epsilon)) [· gamma]
//   y     = x · t + (beta - mean · t)
//
// Every intermediate must be read only inside the pattern (the output y may be read anywhere). Not matched:
// Keras 3's -mean · t + beta ordering, the fused-batch-norm lowering (Reshape, BatchNormalization), RMSNorm.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace npukit::passes {

struct WrittenLayerNorm {
  ir::Value* input = nullptr;
  ir::Value* output = nullptr;
  int64_t axis = 0;               // first normalized axis, non-negative
  double epsilon = 0;
  ir::Value* scale = nullptr;     // gamma, or nullptr (1)
  ir::Value* shift = nullptr;     // beta, or nullptr (0)
  std::vector<ir::Node*> nodes;   // the pattern's nodes, in graph order of discovery
};

// Every written-out LayerNorm on an f32 input of static shape in the graph.
std::vector<WrittenLayerNorm> find_written_layernorms(const ir::Graph& graph);

}  // namespace npukit::passes
