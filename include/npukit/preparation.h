// What the facades (inspect.h, check.h, patch.h) share: how a model is prepared before it is measured, and
// what preparation assumed. The fields mirror the "preparation" object of the CLI's --json.
//
// Every model-taking command prepares the model one way: ONNX checker and shape inference, a symbolic batch
// set to 1, inputs held at a value folded in, constants folded until nothing new is learned. What stays
// dynamic is reported, never guessed (the figures computed from it are unknown, `std::nullopt`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace npukit {

// The model's input settings, as the CLI's --input-shape and --input-value take them.
struct ModelOptions {
  // Fixes an input's dynamic dims: {"images", {1, 3, 640, 640}}.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  // Holds an input at a value and specializes the model for it, in the text form --input-value takes:
  // "16000", "1,2,3" or "FILE.npy".
  std::map<std::string, std::string> input_values;
};

// One dimension of a shape: a number when static; otherwise the symbol the model gives it ("batch"), empty
// when it has none.
struct Dimension {
  std::optional<int64_t> value;
  std::string symbol;
};

struct PreparedInput {
  std::string name;
  std::string dtype;                                 // "f32", "i64", … (npukit/dtype.h names)
  std::optional<std::vector<Dimension>> shape;       // nullopt: the rank is unknown
};

struct PreparationSummary {
  std::vector<PreparedInput> inputs;       // the inputs a caller feeds, with the shapes the figures assume
  std::vector<std::string> notes;          // what was assumed or changed, and what stays dynamic with its fix
  size_t nodes_in_file = 0;
  size_t nodes_after_preparation = 0;
  size_t values_with_unknown_shape = 0;
};

}  // namespace npukit
