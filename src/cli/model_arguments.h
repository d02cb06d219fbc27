// What the model-taking commands share: the MODEL argument (a file or builtin:NAME) and --input-shape.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ir/graph.h"
#include "npukit/session.h"

namespace npukit::cli {

using InputShapes = std::map<std::string, std::vector<int64_t>>;

// Parses "name=1,3,640,640" (one per --input-shape). Throws Error(invalid_argument) saying the expected
// form; a name given twice is an error too.
InputShapes parse_input_shapes(const std::vector<std::string>& arguments);

// Adds --input-shape to a subcommand.
void add_input_shape_option(CLI::App& command, std::vector<std::string>& target);

// Loads MODEL: an ONNX file (checked and shape-inferred, with the given input shapes fixed first) or a
// built-in model ("builtin:yolov5s"). Throws npukit::Error naming the file. `propagate_shape_data`: see
// onnx_io::ImportOptions (check and patch want the shapes an NPU compiler would see).
ir::Model load_model_argument(const std::string& reference, const InputShapes& input_shapes,
                              bool propagate_shape_data = false);

// The help text of MODEL arguments.
std::string model_argument_help();

// What to pass to fix a dynamic input, in the input's own rank with its known dims kept and a placeholder
// for each unknown one: "state=2,D1,128" for [2, ?, 128], "images=N,3,H,W" for a 4-D input, "x=D0,D1,..."
// when even the rank is unknown. (The same form as preparation::input_shape_example on main.)
std::string input_shape_example(const std::string& name, const std::optional<std::vector<ir::Dim>>& dims);
std::string input_shape_example(const ValueInfo& input);

// "[1, 3, ?, ?]" with symbols for dynamic dims, for messages.
std::string describe_dims(const std::vector<int64_t>& shape, const std::vector<std::string>& dim_names);

}  // namespace npukit::cli
