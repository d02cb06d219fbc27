// npukit::patch_model and npukit::patch_model_to_bytes (include/npukit/patch.h): what `npukit patch` does, step by step.
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "api/model_errors.h"
#include "api/target_selection.h"
#include "check/target_check.h"
#include "npukit/patch.h"
#include "onnx/onnx_export.h"
#include "patch/patch_pipeline.h"
#include "report/preparation_report.h"

namespace npukit {

namespace {

// "mean=123.675,116.28,103.53:std=58.395,57.12,57.375[:uint8][:nhwc]" (raw pixel units, as RKNN's mean_values
// and std_values).
passes::InputNormalization parse_fold_normalization(const std::string& argument) {
  auto fail = [&](const std::string& why) -> void {
    throw Error(ErrorKind::invalid_argument,
                "--fold-normalization '" + argument + "': " + why +
                    " (expected mean=M1,M2,M3:std=S1,S2,S3 in raw pixel units, optionally :uint8 and :nhwc; e.g. "
                    "mean=123.675,116.28,103.53:std=58.395,57.12,57.375:uint8:nhwc)");
  };
  passes::InputNormalization normalization;
  auto numbers = [&](const std::string& text) {
    std::vector<double> values;
    size_t start = 0;
    while (true) {
      size_t end = text.find(',', start);
      const std::string piece = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
      try {
        size_t used = 0;
        values.push_back(std::stod(piece, &used));
        if (used != piece.size() || !std::isfinite(values.back())) fail("'" + piece + "' is not a number");
      } catch (const std::logic_error&) {
        fail("'" + piece + "' is not a number");
      }
      if (end == std::string::npos) return values;
      start = end + 1;
    }
  };
  size_t start = 0;
  while (true) {
    size_t end = argument.find(':', start);
    const std::string field = argument.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (field.rfind("mean=", 0) == 0) {
      normalization.mean = numbers(field.substr(5));
    } else if (field.rfind("std=", 0) == 0) {
      normalization.std = numbers(field.substr(4));
    } else if (field == "uint8") {
      normalization.uint8_input = true;
    } else if (field == "nhwc") {
      normalization.nhwc_input = true;
    } else {
      fail("unknown part '" + field + "'");
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (normalization.mean.empty() || normalization.std.empty()) fail("both mean= and std= are needed");
  return normalization;
}

size_t nodes_off_accelerator(const check::CheckResult& result) {
  return result.count(check::Placement::fallback) + result.count(check::Placement::fallback_after_first) +
         result.count(check::Placement::rejected);
}

PatchReport patch_into(const std::string& model, const PatchOptions& options, const std::string& output,
                       const std::string& sidecar) {
  if (output.empty()) throw Error(ErrorKind::invalid_argument, "no output: pass -o OUT.onnx, the patched model to write");
  std::optional<passes::InputNormalization> fold_normalization;
  if (!options.fold_normalization.empty()) fold_normalization = parse_fold_normalization(options.fold_normalization);
  const targets::TargetProfile profile = api::select_targets(options.target, options.target_file, false).front();
  preparation::PreparedModel prepared = preparation::load_prepared_model(model, report::preparation_options(options));
  // An NPU compiles one input size: patching a model whose size is unknown would fold and cut at a guess.
  preparation::require_static_inputs(prepared.model, "patch");
  PatchReport report;
  report.preparation = report::summarize_preparation(prepared);
  ir::Model& patched = prepared.model;
  const check::CheckResult before = check::check_model(patched, profile);

  patch::PatchOptions patch_options;
  patch_options.input_shapes = options.input_shapes;
  patch_options.cut_yolo_postprocess = !options.keep_postprocess;
  patch_options.allow_retraining = options.allow_retraining;
  patch_options.silu_to_relu = options.silu_to_relu;
  patch_options.optimized_path = options.optimized_path;
  patch_options.fold_normalization = fold_normalization;
  patch::PatchReport passes = patch::patch_model(patched, profile, patch_options);

  onnx_io::save_model(patched, output);
  // The figures "after" are those of the file as written, prepared as `check` prepares it: what a user who runs
  // `npukit check OUT.onnx` will see, not what the passes believe they did.
  const preparation::PreparedModel written = preparation::load_prepared_model(output);
  const check::CheckResult after = check::check_model(written.model, profile);
  if (!passes.input_contract_json.empty()) {
    const std::string path = std::filesystem::path(output).replace_extension(".input.json").string();
    std::ofstream contract(path);
    contract << passes.input_contract_json << "\n";
    if (!contract) throw Error(ErrorKind::io, "cannot write the input contract", path);
    report.input_contract = path;
    report.input_contract_json = passes.input_contract_json;
    if (!passes.yolo_sidecar_json.empty()) {
      // The YOLO sidecar's input section describes what the host sends: now raw pixels.
      nlohmann::json sidecar_json = nlohmann::json::parse(passes.yolo_sidecar_json);
      nlohmann::json contract_json = nlohmann::json::parse(passes.input_contract_json);
      sidecar_json["input"]["dtype"] = contract_json["dtype"] == "uint8" ? "uint8" : "float32";
      sidecar_json["input"]["layout"] = contract_json["layout"];
      sidecar_json["input"]["normalization"] = {{"inside_model", true}, {"mean", contract_json["folded_mean"]},
                                                {"std", contract_json["folded_std"]}};
      passes.yolo_sidecar_json = sidecar_json.dump(2);
    }
  }
  if (!passes.yolo_sidecar_json.empty()) {
    const std::string path =
        sidecar.empty() ? std::filesystem::path(output).replace_extension(".postprocess.json").string() : sidecar;
    std::ofstream file(path);
    file << passes.yolo_sidecar_json << "\n";
    if (!file) throw Error(ErrorKind::io, "cannot write the post-processing sidecar", path);
    report.sidecar = path;
    report.sidecar_json = passes.yolo_sidecar_json;
  }

  report.model = model;
  report.target = profile.id;
  report.target_name = profile.name;
  report.accelerator = after.accelerator;
  report.output = output;
  report.needs_retraining = passes.needs_retraining;
  report.rounds = passes.rounds;
  report.converged = passes.converged;
  if (passes.normalization) {
    report.passes.push_back({"fold-normalization", passes.normalization->pass.rewrites, false, passes.normalization->pass.notes});
    report.raw_input = passes.normalization->raw_dtype + " " + passes.normalization->raw_layout + " " +
                       passes.normalization->input_name;
  }
  for (const passes::PassResult& pass : passes.passes) {
    report.passes.push_back({pass.pass, pass.rewrites, pass.changes_meaning, pass.notes});
  }
  report.accelerator_mac_share_before = before.accelerator_mac_share();
  report.accelerator_mac_share_after = after.accelerator_mac_share();
  report.optimized_mac_share_before = before.optimized_mac_share();
  report.optimized_mac_share_after = after.optimized_mac_share();
  report.some_macs_off_optimized_path = before.macs_off_optimized_path != 0 || after.macs_off_optimized_path != 0;
  report.segments_before = before.segments.size();
  report.segments_after = after.segments.size();
  report.transfers_before = before.transfers.size();
  report.transfers_after = after.transfers.size();
  report.nodes_off_accelerator_before = nodes_off_accelerator(before);
  report.nodes_off_accelerator_after = nodes_off_accelerator(after);
  return report;
}

// A private folder for patch_model_to_bytes, removed with everything in it when the call ends.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "npukit-patch-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw Error(ErrorKind::io, "cannot create a temporary folder for the patched model (is $TMPDIR writable?)",
                  pattern);
    }
    path_ = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (!file) throw Error(ErrorKind::io, "cannot read the patched model back", path.string());
  return bytes.str();
}

}  // namespace

PatchReport patch_model(const std::string& model, const PatchOptions& options) {
  try {
    return patch_into(model, options, options.output, options.sidecar);
  } catch (const Error& error) {
    throw api::with_model_file(error, model);
  }
}

PatchedModel patch_model_to_bytes(const std::string& model, const PatchOptions& options) {
  try {
    // The same steps as patch_model(), through a private file: the figures "after" come from the model as written.
    TemporaryFolder folder;
    PatchedModel patched;
    patched.report = patch_into(model, options, (folder.path() / "patched.onnx").string(),
                                (folder.path() / "patched.postprocess.json").string());
    patched.model_bytes = read_file(folder.path() / "patched.onnx");
    patched.report.output.clear();
    patched.report.sidecar.reset();
    patched.report.input_contract.reset();
    return patched;
  } catch (const Error& error) {
    throw api::with_model_file(error, model);
  }
}

}  // namespace npukit
