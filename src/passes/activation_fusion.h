// Fuses what follows a Conv into one com.npukit FusedConv node that the cpu backend runs as a single
// oneDNN primitive with post-ops (and ref runs as Conv, add, activation — the oracle):
//   Conv → Add(·, z) → activation     residual sum, then activation (ResNet, MobileNetV2's Add alone)
//   Conv → activation                 Relu, LeakyRelu, Clip (ReLU6) with constant bounds, Sigmoid, Tanh,
//                                     HardSigmoid, HardSwish
//   Conv → Sigmoid + Mul(x, sigmoid)  SiLU / swish (YOLOv5, YOLOv8)
//   Conv → Add/Mul by a constant (scalar or per channel)   folded into the weights and bias first
//   Conv → x * Clip(x + 3, 0, 6) / 6                        HardSwish written out (Paddle exports)
// Only f32 convolutions whose intermediate results nothing else reads are fused.
#pragma once

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult fuse_activations(ir::Model& model);

}  // namespace npukit::passes
