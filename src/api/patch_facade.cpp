// npukit::patch_model and npukit::patch_model_to_bytes (include/npukit/patch.h): what `npukit patch` does, step by step.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/model_errors.h"
#include "api/target_selection.h"
#include "check/target_check.h"
#include "npukit/patch.h"
#include "onnx/onnx_export.h"
#include "patch/patch_pipeline.h"
#include "report/preparation_report.h"

namespace npukit {

namespace {

size_t nodes_off_accelerator(const check::CheckResult& result) {
  return result.count(check::Placement::fallback) + result.count(check::Placement::fallback_after_first) +
         result.count(check::Placement::rejected);
}

PatchReport patch_into(const std::string& model, const PatchOptions& options, const std::string& output,
                       const std::string& sidecar) {
  if (output.empty()) throw Error(ErrorKind::invalid_argument, "no output: pass -o OUT.onnx, the patched model to write");
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
  const patch::PatchReport passes = patch::patch_model(patched, profile, patch_options);

  onnx_io::save_model(patched, output);
  // The figures "after" are those of the file as written, prepared as `check` prepares it: what a user who runs
  // `npukit check OUT.onnx` will see, not what the passes believe they did.
  const preparation::PreparedModel written = preparation::load_prepared_model(output);
  const check::CheckResult after = check::check_model(written.model, profile);
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
  for (const passes::PassResult& pass : passes.passes) {
    report.passes.push_back({pass.pass, pass.rewrites, pass.changes_meaning, pass.notes});
  }
  report.accelerator_mac_share_before = before.accelerator_mac_share();
  report.accelerator_mac_share_after = after.accelerator_mac_share();
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
    return patched;
  } catch (const Error& error) {
    throw api::with_model_file(error, model);
  }
}

}  // namespace npukit
