// libFuzzer target: arbitrary bytes through the ONNX loader, the IR verifier and the IR's shape inference
// (which every command runs on the models users give it). The only acceptable
// outcome besides success is an npukit::Error; anything else (a crash, a sanitizer report, another
// exception escaping) is a bug.
//
// The libonnx checker and shape inference are left out: npukit runs them in a forked child
// (onnx/isolated_validation.h, tested in tests/child_process_test.cpp), where their crashes on hostile models
// become errors, and a fork per input would slow the fuzzer a hundredfold. Without them, npukit's own
// structural checks and the conversion to the IR get every malformed graph the checker would have stopped,
// which is the code this target exists to harden.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "npukit/error.h"
#include "npukit/tensor.h"
#include "onnx/onnx_import.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Hostile dims must be refused by the limit, not by running the fuzzer out of memory.
  npukit::set_tensor_memory_limit(size_t{64} << 20);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    // No base folder: external data is refused, so the fuzzer never opens files.
    npukit::onnx_io::ImportOptions options;
    options.run_checker = false;
    options.run_shape_inference = false;
    npukit::ir::Model model = npukit::onnx_io::load_model_from_bytes(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.onnx", "", options);
    npukit::ir::verify(*model.graph);
    npukit::ir::infer_shapes(*model.graph);
  } catch (const npukit::Error&) {
  }
  return 0;
}
