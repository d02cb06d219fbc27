// npukit patch MODEL --target T -o OUT: applies the fixes `check` names, then checks again.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <cmath>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "check/target_check.h"
#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/table.h"
#include "cli/target_arguments.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "patch/patch_pipeline.h"

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

void run_patch(const PatchArguments& arguments) {
  std::vector<targets::TargetProfile> profiles = resolve_targets(arguments.targets, false);
  const targets::TargetProfile& profile = profiles.front();
  preparation::PreparedModel prepared =
      load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values);
  if (!arguments.json) print_preparation_notes(std::cerr, prepared.report);
  // An NPU compiles one input size: patching a model whose size is unknown would fold and cut at a guess.
  preparation::require_static_inputs(prepared.model, "patch");
  ir::Model& model = prepared.model;
  const check::CheckResult before = check::check_model(model, profile);

  patch::PatchOptions options;
  options.input_shapes = parse_input_shapes(arguments.input_shapes);
  options.cut_yolo_postprocess = !arguments.keep_postprocess;
  options.allow_retraining = arguments.allow_retraining;
  options.silu_to_relu = arguments.silu_to_relu;
  options.optimized_path = arguments.optimized_path;
  if (!arguments.fold_normalization.empty()) options.fold_normalization = parse_fold_normalization(arguments.fold_normalization);
  patch::PatchReport report = patch::patch_model(model, profile, options);

  onnx_io::save_model(model, arguments.output);
  // The figures "after" are those of the file as written, prepared as `check` prepares it: what a user who runs
  // `npukit check OUT.onnx` will see, not what the passes believe they did.
  const preparation::PreparedModel written = preparation::load_prepared_model(arguments.output);
  const check::CheckResult after = check::check_model(written.model, profile);
  std::string sidecar_path, input_contract_path;
  if (!report.input_contract_json.empty()) {
    input_contract_path = std::filesystem::path(arguments.output).replace_extension(".input.json").string();
    std::ofstream contract(input_contract_path);
    contract << report.input_contract_json << "\n";
    if (!contract) throw Error(ErrorKind::io, "cannot write the input contract", input_contract_path);
    if (!report.yolo_sidecar_json.empty()) {
      // The YOLO sidecar's input section describes what the host sends: now raw pixels.
      nlohmann::json sidecar = nlohmann::json::parse(report.yolo_sidecar_json);
      nlohmann::json contract_json = nlohmann::json::parse(report.input_contract_json);
      sidecar["input"]["dtype"] = contract_json["dtype"] == "uint8" ? "uint8" : "float32";
      sidecar["input"]["layout"] = contract_json["layout"];
      sidecar["input"]["normalization"] = {{"inside_model", true}, {"mean", contract_json["folded_mean"]},
                                           {"std", contract_json["folded_std"]}};
      report.yolo_sidecar_json = sidecar.dump(2);
    }
  }
  if (!report.yolo_sidecar_json.empty()) {
    sidecar_path = arguments.sidecar.empty() ? std::filesystem::path(arguments.output).replace_extension(".postprocess.json").string()
                                             : arguments.sidecar;
    std::ofstream sidecar(sidecar_path);
    sidecar << report.yolo_sidecar_json << "\n";
    if (!sidecar) throw Error(ErrorKind::io, "cannot write the post-processing sidecar", sidecar_path);
  }

  if (arguments.json) {
    nlohmann::json json;
    json["model"] = arguments.model;
    json["target"] = profile.id;
    json["output"] = arguments.output;
    json["sidecar"] = sidecar_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(sidecar_path);
    json["input_contract"] = input_contract_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(input_contract_path);
    json["needs_retraining"] = report.needs_retraining;
    json["preparation"] = preparation_json(prepared);
    json["rounds"] = report.rounds;
    json["converged"] = report.converged;
    json["passes"] = nlohmann::json::array();
    if (report.normalization) {
      json["passes"].push_back({{"pass", "fold-normalization"}, {"rewrites", report.normalization->pass.rewrites},
                                {"changes_meaning", false}, {"notes", report.normalization->pass.notes}});
    }
    for (const passes::PassResult& pass : report.passes) {
      json["passes"].push_back({{"pass", pass.pass}, {"rewrites", pass.rewrites},
                                {"changes_meaning", pass.changes_meaning}, {"notes", pass.notes}});
    }
    json["accelerator_mac_share_before"] = before.accelerator_mac_share();
    json["accelerator_mac_share_after"] = after.accelerator_mac_share();
    json["optimized_mac_share_before"] = before.optimized_mac_share();
    json["optimized_mac_share_after"] = after.optimized_mac_share();
    json["segments_before"] = before.segments.size();
    json["segments_after"] = after.segments.size();
    std::cout << json.dump(2) << "\n";
    return;
  }
  std::cout << "model     " << arguments.model << "\ntarget    " << profile.id << "  (" << profile.name << ")\n\n";
  Table table({{"pass"}, {"rewrites", Align::right}, {"meaning"}, {"what changed"}});
  if (report.normalization) {
    std::string notes;
    for (const std::string& note : report.normalization->pass.notes) notes += (notes.empty() ? "" : "; ") + note;
    table.add_row({"fold-normalization", std::to_string(report.normalization->pass.rewrites), "kept", notes});
  }
  for (const passes::PassResult& pass : report.passes) {
    std::string notes;
    for (const std::string& note : pass.notes) notes += (notes.empty() ? "" : "; ") + note;
    table.add_row({pass.pass, std::to_string(pass.rewrites), pass.changes_meaning ? "CHANGED: retrain" : "kept", notes});
  }
  table.print(std::cout, 2, 90);
  // Notes the table's column cuts short, in full: why a head was not cut, or what the sidecar could not tell.
  for (const passes::PassResult& pass : report.passes) {
    size_t length = 0;
    for (const std::string& note : pass.notes) length += note.size() + 2;
    if (length <= 92) continue;
    for (const std::string& note : pass.notes) std::cout << "  " << pass.pass << ": " << note << "\n";
  }
  if (report.converged) {
    std::cout << "  (passes repeated until nothing changed: " << report.rounds << " round" << (report.rounds == 1 ? "" : "s")
              << "; figures after are those of the written file)\n\n";
  } else {
    std::cout << "  WARNING: the passes still rewrote in round " << report.rounds << " of " << patch::max_patch_rounds
              << ": the written model is not a fixed point (please report this with the model)\n\n";
  }
  Table summary({{"figure"}, {"before", Align::right}, {"after", Align::right}});
  summary.add_row({"MACs on the " + after.accelerator, format_percent(before.accelerator_mac_share()), format_percent(after.accelerator_mac_share())});
  if (before.macs_off_optimized_path || after.macs_off_optimized_path) {
    summary.add_row({"MACs on the optimized path", format_percent(before.optimized_mac_share()),
                     format_percent(after.optimized_mac_share())});
  }
  summary.add_row({"segments", std::to_string(before.segments.size()), std::to_string(after.segments.size())});
  summary.add_row({"transfers per inference", std::to_string(before.transfers.size()), std::to_string(after.transfers.size())});
  summary.add_row({"nodes off the " + after.accelerator,
                   std::to_string(before.count(check::Placement::fallback) + before.count(check::Placement::fallback_after_first) + before.count(check::Placement::rejected)),
                   std::to_string(after.count(check::Placement::fallback) + after.count(check::Placement::fallback_after_first) + after.count(check::Placement::rejected))});
  summary.print(std::cout, 2);
  std::cout << "\nwrote " << arguments.output << "\n";
  if (!input_contract_path.empty()) {
    std::cout << "wrote " << input_contract_path << " (the input the model now expects: raw "
              << report.normalization->raw_dtype << " " << report.normalization->raw_layout << " "
              << report.normalization->input_name << "; docs/sidecar.md)\n";
  }
  if (!sidecar_path.empty()) std::cout << "wrote " << sidecar_path << " (what the CPU decoder needs: classes and names, strides, anchors or DFL bins, outputs, input, thresholds; docs/sidecar.md)\n";
  if (report.needs_retraining) std::cout << "NOTE: a pass changed what the model computes: retrain or fine-tune before use.\n";
  std::cout << "next: npukit check " << arguments.output << " --target " << profile.id << "\n";
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
