// npukit patch MODEL --target T -o OUT: applies the fixes `check` names, then checks again.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/target_arguments.h"
#include "npukit/patch.h"
#include "patch/patch_pipeline.h"
#include "report/patch_report.h"

namespace npukit::cli {

namespace {

struct PatchArguments {
  std::string model;
  TargetArguments targets;
  std::string output;
  std::string sidecar;
  bool json = false;
  bool keep_postprocess = false;
  bool allow_retraining = false;
  bool silu_to_relu = false;
  bool optimized_path = false;
  std::string fold_normalization;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
};

void run_patch(const PatchArguments& arguments) {
  // The library's npukit::patch_model does the work; this prints what it returns.
  npukit::PatchOptions options;
  options.input_shapes = parse_input_shapes(arguments.input_shapes);
  options.input_values = preparation::parse_input_values(arguments.input_values);
  options.target = arguments.targets.target;
  options.target_file = arguments.targets.target_file;
  options.output = arguments.output;
  options.sidecar = arguments.sidecar;
  options.keep_postprocess = arguments.keep_postprocess;
  options.allow_retraining = arguments.allow_retraining;
  options.silu_to_relu = arguments.silu_to_relu;
  options.optimized_path = arguments.optimized_path;
  options.fold_normalization = arguments.fold_normalization;
  const npukit::PatchReport report = npukit::patch_model(arguments.model, options);
  if (arguments.json) {
    std::cout << report.to_json() << "\n";
    return;
  }
  for (const std::string& note : report.preparation.notes) std::cerr << "npukit: note: " << note << "\n";
  report::print_patch_report(std::cout, report);
}

}  // namespace

void register_patch_command(CLI::App& app) {
  auto arguments = std::make_shared<PatchArguments>();
  std::string passes_text;
  for (const std::string& name : patch::default_pass_names()) passes_text += (passes_text.empty() ? "" : ", ") + name;
  CLI::App* command = app.add_subcommand(
      "patch", "Apply the fixes that keep the model's meaning for a target (default passes: " + passes_text + ")");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  add_target_options(*command, arguments->targets, false);
  command->add_option("-o,--output", arguments->output, "Patched model to write (.onnx)")->required()->type_name("OUT.onnx");
  command->add_option("--sidecar", arguments->sidecar, "Where to write the YOLO post-processing JSON (default OUT.postprocess.json)")
      ->type_name("PATH");
  command->add_flag("--keep-postprocess", arguments->keep_postprocess, "Do not cut the YOLO decode/DFL/NMS off the graph");
  command->add_flag("--allow-retraining", arguments->allow_retraining,
                    "Also run the passes that change the model (SiLU → ReLU); the model then needs retraining");
  command->add_flag("--silu-to-relu", arguments->silu_to_relu, "Replace SiLU by ReLU (needs retraining)");
  command->add_flag("--optimized-path", arguments->optimized_path,
                    "Also move convolutions that `check` places off the optimized path onto it (exact; more MACs)");
  command->add_option("--fold-normalization", arguments->fold_normalization,
                      "Fold the host's (x - mean) / std into the first Conv so the host sends raw pixels: "
                      "mean=M1,M2,M3:std=S1,S2,S3 (raw pixel units), add :uint8 and/or :nhwc for the new input")
      ->type_name("SPEC");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { run_patch(*arguments); });
}

}  // namespace npukit::cli
