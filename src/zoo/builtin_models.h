// Models npukit builds in C++, named "builtin:<name>" wherever a model path is accepted.
//
//   builtin:yolov5s        YOLOv5s v6.0, 1x3x640x640 "images" → 1x25200x85 "output0"
//   builtin:yolov5n-320    YOLOv5n at 320x320 (any of n s m l x, any multiple of 32)
//
// They let a user (and the tests) count, run and benchmark a real architecture without a model file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace npukit::zoo {

inline constexpr std::string_view builtin_prefix = "builtin:";

bool is_builtin_reference(std::string_view reference);

struct BuiltinOptions {
  // Input name → full shape, e.g. {"images", {1, 3, 320, 320}}; overrides the size in the name.
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

// Throws Error(invalid_argument) naming the known models when the name is unknown, or when an input
// shape does not fit the model.
ir::Model build_builtin_model(const std::string& reference, const BuiltinOptions& options = {});

// One line per model family for help texts.
std::vector<std::string> builtin_model_descriptions();

}  // namespace npukit::zoo
