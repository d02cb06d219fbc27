// npukit::patch_model: what `npukit patch MODEL --target T -o OUT --json` does and prints. Applies the fixes `check`
// names for one target, writes the patched model (and the YOLO post-processing sidecar when a head was cut),
// and measures the written model again as `check` would.
//
//   npukit::PatchOptions options;
//   options.target = "rk3588";
//   options.output = "yolov5s.rk3588.onnx";
//   npukit::PatchReport report = npukit::patch_model("yolov5s.onnx", options);
//
// patch_model_to_bytes does the same and hands back the model and the sidecar as bytes, writing nothing the caller
// sees.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "npukit/preparation.h"

namespace npukit {

struct PatchOptions : ModelOptions {
  std::string target;              // a built-in id or alias
  std::string target_file;         // or a profile of your own
  std::string output;              // patch_model(): the .onnx to write (required); patch_model_to_bytes(): ignored
  std::string sidecar;             // where the sidecar goes (default: OUTPUT with .postprocess.json)
  bool keep_postprocess = false;   // do not cut the YOLO decode/DFL/NMS off the graph
  bool allow_retraining = false;   // also run the passes that change what the model computes
  bool silu_to_relu = false;       // that one pass (the model then needs retraining)
  // Also move convolutions `check` places off the optimized path onto it (exact, more MACs).
  bool optimized_path = false;
  // Fold the host's (x - mean) / std into the first Conv, as --fold-normalization takes it:
  // "mean=123.675,116.28,103.53:std=58.395,57.12,57.375[:uint8][:nhwc]" (raw pixel units); "" for none.
  std::string fold_normalization;
};

struct PassSummary {
  std::string pass;
  int rewrites = 0;
  bool changes_meaning = false;
  std::vector<std::string> notes;
};

struct PatchReport {
  std::string model;
  std::string target;
  std::string output;                  // "" for patch_model_to_bytes
  std::optional<std::string> sidecar;  // the sidecar's path; nullopt when no head was cut (or for bytes)
  std::optional<std::string> input_contract;  // OUTPUT.input.json after fold_normalization (nullopt for bytes)
  bool needs_retraining = false;
  PreparationSummary preparation;
  int rounds = 0;
  bool converged = false;
  std::vector<PassSummary> passes;     // fold-normalization first when it ran
  double accelerator_mac_share_before = 1.0;
  double accelerator_mac_share_after = 1.0;
  double optimized_mac_share_before = 1.0;
  double optimized_mac_share_after = 1.0;
  size_t segments_before = 0;
  size_t segments_after = 0;

  // Beyond the JSON, for the CLI's table: the target's name and accelerator, and what crosses the boundary.
  std::string target_name;
  std::string accelerator;
  size_t transfers_before = 0;
  size_t transfers_after = 0;
  size_t nodes_off_accelerator_before = 0;
  size_t nodes_off_accelerator_after = 0;
  bool some_macs_off_optimized_path = false;  // before or after: the table shows the optimized-path row
  std::string raw_input;               // after fold_normalization: "uint8 NHWC images" (what the host now sends)
  std::string sidecar_json;            // the sidecar's text; "" when no head was cut
  std::string input_contract_json;     // the input contract's text; "" without fold_normalization

  // Exactly the text `npukit patch … --json` prints (without its final newline).
  std::string to_json() const;
};

PatchReport patch_model(const std::string& model, const PatchOptions& options);

struct PatchedModel {
  std::string model_bytes;   // the patched model, serialized ONNX
  PatchReport report;
};

PatchedModel patch_model_to_bytes(const std::string& model, const PatchOptions& options);

}  // namespace npukit
