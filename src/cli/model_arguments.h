// What the model-taking commands share: the MODEL argument (a file or builtin:NAME), --input-shape and
// --input-value, and the one preparation path behind them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <ostream>

#include <nlohmann/json.hpp>

#include "ir/graph.h"
#include "npukit/session.h"
#include "preparation/model_preparation.h"

namespace npukit::cli {

using InputShapes = std::map<std::string, std::vector<int64_t>>;

// Parses "name=1,3,640,640" (one per --input-shape). Throws Error(invalid_argument) saying the expected
// form; a name given twice is an error too.
InputShapes parse_input_shapes(const std::vector<std::string>& arguments);

// Adds --input-shape and --input-value to a subcommand.
void add_input_shape_option(CLI::App& command, std::vector<std::string>& shapes, std::vector<std::string>& values);

// Loads and prepares MODEL (an ONNX file or "builtin:NAME") the one way every command does
// (preparation/model_preparation.h), with the --input-shape and --input-value arguments as given. Throws
// npukit::Error naming the file.
preparation::PreparedModel load_model_argument(const std::string& reference, const std::vector<std::string>& shapes,
                                               const std::vector<std::string>& values,
                                               preparation::PreparationOptions options = {});

// The preparation notes ("batch dim N set to 1", "input 'sr' held at 16000") as "npukit: note: ..." lines.
void print_preparation_notes(std::ostream& stream, const preparation::PreparationReport& report);

// For --json: the input shapes the command used and the preparation notes.
nlohmann::json preparation_json(const preparation::PreparedModel& prepared);

// The help text of MODEL arguments.
std::string model_argument_help();

// preparation::input_shape_example for an input as a Session declares it ("state=1,D1,16").
std::string input_shape_example(const ValueInfo& input);

// "[1, 3, ?, ?]" with symbols for dynamic dims, for messages.
std::string describe_dims(const std::vector<int64_t>& shape, const std::vector<std::string>& dim_names);

}  // namespace npukit::cli
