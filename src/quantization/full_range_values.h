// The activation values whose calibrated range a clipping method (percentile, entropy, mse) must not cut: the
// values a graph output is read from, directly or through ops that only pick the winner or move elements
// (Softmax, LogSoftmax, ArgMax, ArgMin, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Identity) or that shift or
// scale them by a constant (Add, Sub, Mul, Div with an initializer operand: a bias add after a MatMul).
//
// Why: the last layer of a classifier (PP-OCRv4 rec's logits before Softmax, a detector head's class and box
// outputs) holds its decision in its extremes. The 99.99th percentile of the logits is the winning class's logit at
// each step: clipping it flattens exactly what the Softmax / ArgMax after it compares (PP-OCRv4 rec W8A8 rk3588 lost
// 0.58 points of character accuracy with percentile, 0.42 with minmax). Box outputs in pixels lose their far
// edge the same way. So quantize_model gives these values minmax ranges whatever the method, and says which.
#pragma once

#include <set>
#include <string>

#include "ir/graph.h"
#include "quantization/quantization_points.h"

namespace npukit::quantization {

// The activation points of `plan` reached from a graph output by walking back through the ops above (a point met on
// the way is in the set, and the walk goes on through it); a walk stops at any other op (MatMul, Conv, ...).
std::set<std::string> values_kept_at_full_range(const ir::Graph& graph, const QuantizationPlan& plan);

}  // namespace npukit::quantization
