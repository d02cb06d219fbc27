// The activation a fused node (com.npukit FusedConv / FusedGemm) applies after its linear part.
//
// The activation fusion pass (passes/activation_fusion.cpp) writes it into the fused node's attributes
// `activation`, `activation_alpha`, `activation_beta`; the reference kernel applies it with apply() and the
// cpu backend turns it into a oneDNN post-op. Keeping both readers on this one definition is what makes the
// reference the oracle for the fused forms.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "ir/graph.h"

namespace npukit::ir {

// Domain of npukit's own fused ops.
inline constexpr const char* fused_domain = "com.npukit";

enum class ActivationKind { none, relu, leaky_relu, clip, sigmoid, tanh, hard_sigmoid, hard_swish, silu, gelu };

struct FusedActivation {
  ActivationKind kind = ActivationKind::none;
  float alpha = 0;  // LeakyRelu slope, Clip min, HardSigmoid alpha
  float beta = 0;   // Clip max, HardSigmoid beta

  float apply(float x) const {
    switch (kind) {
      case ActivationKind::none: return x;
      case ActivationKind::relu: return x > 0 ? x : 0.0f;
      case ActivationKind::leaky_relu: return x >= 0 ? x : alpha * x;
      case ActivationKind::clip: return std::min(std::max(x, alpha), beta);
      case ActivationKind::sigmoid: return 1.0f / (1.0f + std::exp(-x));
      case ActivationKind::tanh: return std::tanh(x);
      case ActivationKind::hard_sigmoid: return std::max(0.0f, std::min(1.0f, alpha * x + beta));
      case ActivationKind::hard_swish: return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f));
      case ActivationKind::silu: return x / (1.0f + std::exp(-x));
      case ActivationKind::gelu: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    }
    return x;
  }
};

inline const char* activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::none: return "";
    case ActivationKind::relu: return "Relu";
    case ActivationKind::leaky_relu: return "LeakyRelu";
    case ActivationKind::clip: return "Clip";
    case ActivationKind::sigmoid: return "Sigmoid";
    case ActivationKind::tanh: return "Tanh";
    case ActivationKind::hard_sigmoid: return "HardSigmoid";
    case ActivationKind::hard_swish: return "HardSwish";
    case ActivationKind::silu: return "Silu";
    case ActivationKind::gelu: return "Gelu";
  }
  return "";
}

inline std::optional<ActivationKind> activation_from_name(const std::string& name) {
  for (ActivationKind kind : {ActivationKind::none, ActivationKind::relu, ActivationKind::leaky_relu,
                              ActivationKind::clip, ActivationKind::sigmoid, ActivationKind::tanh,
                              ActivationKind::hard_sigmoid, ActivationKind::hard_swish, ActivationKind::silu,
                              ActivationKind::gelu}) {
    if (name == activation_name(kind)) return kind;
  }
  return std::nullopt;
}

// Reads a fused node's activation attributes; throws Error(invalid_model) for an unknown name.
inline FusedActivation read_fused_activation(const ir::Node& node) {
  const std::string name = node.get_string("activation", "");
  std::optional<ActivationKind> kind = activation_from_name(name);
  if (!kind) throw Error(ErrorKind::invalid_model, "unknown fused activation '" + name + "'", {}, node.describe());
  FusedActivation activation;
  activation.kind = *kind;
  activation.alpha = static_cast<float>(node.get_float("activation_alpha", 0));
  activation.beta = static_cast<float>(node.get_float("activation_beta", 0));
  return activation;
}

}  // namespace npukit::ir
