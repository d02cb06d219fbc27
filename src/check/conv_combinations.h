// Tables of documented convolution parameter combinations (Hailo's optimized 2D convolutions, its supported
// Conv3D): what a node's kernel, stride, dilation and padding are in the table's terms, whether a row holds
// them, and the sentence that says which part does not ("Conv 3×5 stride 2×2: Hailo-8 optimizes 3×5 only at
// stride 1×1 or 1×2").
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "targets/target_profile.h"

namespace npukit::check {

// A convolution's parameters per spatial axis (ONNX order), with its input's spatial size.
struct ConvParameters {
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;           // ONNX layout: every axis's begin, then every axis's end
  std::vector<int64_t> input_spatial;  // H, W (3-D: D, H, W)
};

// The parameters of a Conv node; nullopt when its kernel or input shape is unknown.
std::optional<ConvParameters> conv_parameters(const ir::Node& node);

// Which of "VALID", "SAME" (symmetric (k−1)/2) and "SAME_TENSORFLOW" (the odd pixel at the end) the pads are;
// a 1×1 kernel's zero pads are all three, odd pads none.
std::set<std::string> padding_classes(const ConvParameters& parameters);

bool combination_holds(const targets::ParameterCombination& row, const ConvParameters& parameters);
bool any_combination_holds(const targets::Rule& rule, const ConvParameters& parameters);

// The sentence for parameters no row holds. `verb`: "optimizes" or "supports".
std::string explain_missing_combination(const targets::Rule& rule, const ConvParameters& parameters,
                                        const std::string& op, const std::string& target_name, const std::string& verb);

// "3×5".
std::string format_dims_text(const std::vector<int64_t>& values);

}  // namespace npukit::check
