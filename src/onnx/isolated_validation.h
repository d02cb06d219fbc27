// The libonnx checker and shape inference, run in a child process.
//
// libonnx 1.12's shape-inference functions trust what they read: a node whose input ranks or attributes
// disagree with what the op expects makes several of them index past the end of a dims list and crash (the
// loader fuzzer keeps finding new ones: Conv weight rank, STFT signal rank, LayerNormalization axis, …).
// A hostile or corrupt model must give an error, never take the user's process down, and no list of
// pre-checks can be shown complete. So the checker and inference run in a forked child: the child does the
// work and sends back the inferred types (value_info and graph outputs, nested graphs included, without
// tensor data, so the message stays small); when the child dies, the parent reports an invalid model.
// The child is a fork of this process or, where that is unsafe (other threads), the helper program
// npukit-validate (include/npukit/isolation.h).
#pragma once

#include <string>

namespace onnx {
class ModelProto;
}

namespace npukit::onnx_io {

struct ValidationSteps {
  bool run_checker = true;
  bool run_shape_inference = true;
  // Lets inference evaluate small shape computations (Shape → Gather → Concat → Reshape), as
  // ImportOptions::propagate_shape_data asks.
  bool propagate_shape_data = false;
  // The folder the checker resolves external-data locations against ("" when not loaded from a file).
  std::string model_directory;
};

// Runs the requested steps on `model` and, after inference, writes the inferred value_info and output types
// into it. Throws Error(invalid_model) with the checker's or inference's message, or saying that inference
// crashed. Falls back to running in this process only when fork() itself fails.
void validate_and_infer_shapes(onnx::ModelProto& model, const ValidationSteps& steps);

// The helper program's side (validation_helper_main.cpp): reads one request from `input` (as
// validate_and_infer_shapes sends it), validates, and reports on `output`. Returns the exit status.
int serve_validation_request(int input, int output);

}  // namespace npukit::onnx_io
