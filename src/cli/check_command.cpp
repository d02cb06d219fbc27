// npukit check MODEL --target T: a verdict per node, the NPU/CPU partition, transfers, MAC share, fixes.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "check/input_size_fit.h"
#include "check/target_check.h"
#include "cli/input_size_report.h"
#include "cli/progress.h"
#include "cli/commands.h"
#include "cli/estimate_report.h"
#include "cli/model_arguments.h"
#include "cli/target_arguments.h"
#include "estimate/estimate_json.h"
#include "npukit/error.h"
#include "report/check_report.h"

namespace npukit::cli {

namespace {

struct CheckArguments {
  std::string model;
  TargetArguments targets;
  bool json = false;
  bool every_node = false;
  std::string report;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
  std::string input_sizes;
  bool estimate = false;
};

// check --input-sizes: the model prepared at each square size (its one 4-D image input), checked on every target.
void run_input_size_sweep(const CheckArguments& arguments, const std::vector<targets::TargetProfile>& profiles) {
  const std::vector<int64_t> sizes = check::parse_input_sizes(arguments.input_sizes);
  preparation::PreparationOptions light;
  light.run_reference_for_unknown_shapes = false;
  const preparation::PreparedModel first =
      load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values, light);
  std::vector<const ir::Value*> images;
  for (const ir::Value* input : first.model.graph->inputs) {
    if (!input->initializer && input->type.shape && input->type.shape->size() == 4) images.push_back(input);
  }
  if (images.size() != 1) {
    throw Error(ErrorKind::invalid_argument,
                "--input-sizes needs a model with exactly one 4-D [N, C, H, W] input; this one has " +
                    std::to_string(images.size()) + " (check it at one size with --input-shape instead)",
                arguments.model);
  }
  const ir::Value& image = *images.front();
  std::vector<int64_t> dims;
  for (const ir::Dim& dim : *image.type.shape) dims.push_back(dim.is_static() ? dim.value : 1);
  if (dims[1] < 1) dims[1] = 3;
  std::vector<check::InputSizeFit> fits(profiles.size());
  Progress progress("check --input-sizes", static_cast<int64_t>(sizes.size()), !arguments.json);
  for (size_t index = 0; index < sizes.size(); ++index) {
    progress.update(static_cast<int64_t>(index), std::to_string(sizes[index]));
    std::vector<std::string> shapes;
    for (const std::string& shape : arguments.input_shapes) {
      if (shape.rfind(image.name + "=", 0) != 0) shapes.push_back(shape);
    }
    shapes.push_back(image.name + "=" + std::to_string(dims[0]) + "," + std::to_string(dims[1]) + "," +
                     std::to_string(sizes[index]) + "," + std::to_string(sizes[index]));
    const preparation::PreparedModel prepared = load_model_argument(arguments.model, shapes, arguments.input_values);
    for (size_t target = 0; target < profiles.size(); ++target) {
      const check::CheckResult result = check::check_model(prepared.model, profiles[target]);
      fits[target].sizes.push_back(check::fit_at_size(sizes[index], prepared.model, result, profiles[target]));
    }
  }
  progress.finish();
  for (size_t target = 0; target < profiles.size(); ++target) check::summarize_input_size_fit(fits[target], profiles[target]);
  if (arguments.json) {
    nlohmann::json json;
    json["model"] = arguments.model;
    json["input"] = image.name;
    json["input_sizes"] = nlohmann::json::array();
    for (const check::InputSizeFit& fit : fits) json["input_sizes"].push_back(input_size_fit_json(fit));
    std::cout << json.dump(2) << "\n";
    return;
  }
  print_input_size_fit(std::cout, fits, arguments.model, image.name);
}

void run_check(const CheckArguments& arguments) {
  std::vector<targets::TargetProfile> profiles = resolve_targets(arguments.targets, true);
  if (!arguments.input_sizes.empty()) {
    if (!arguments.report.empty()) {
      throw Error(ErrorKind::invalid_argument, "--report and --input-sizes do not go together: use --json for the sizes");
    }
    run_input_size_sweep(arguments, profiles);
    return;
  }
  preparation::PreparedModel prepared =
      load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values);
  const ir::Model& model = prepared.model;
  // What preparation assumed (a batch set to 1; an input that keeps dynamic dims and the flag that fixes it)
  // goes first: an NPU compiles one static input size.
  print_preparation_notes(std::cerr, prepared.report);
  std::vector<check::CheckResult> results;
  for (const targets::TargetProfile& profile : profiles) results.push_back(check::check_model(model, profile));
  std::vector<estimate::Estimate> estimates;  // --estimate: the latency on each target (src/estimate)
  if (arguments.estimate) estimates = estimates_for_checks(model, results, profiles);

  if (!arguments.report.empty()) {
    std::ofstream report(arguments.report);
    report << report::check_markdown(results, arguments.model);
    if (!report) throw Error(ErrorKind::io, "cannot write the report (is the folder there and writable?)", arguments.report);
  }
  if (arguments.json) {
    // The text npukit::check_model(...).to_json() gives a library caller, with --estimate's figures added.
    nlohmann::json json = report::check_report_json(report::check_report(arguments.model, prepared, results));
    for (size_t i = 0; i < estimates.size() && i < json["targets"].size(); ++i) {
      json["targets"][i]["estimate"] = estimate::estimate_json(estimates[i], false);
    }
    std::cout << json.dump(2) << "\n";
    return;
  }
  const bool color = isatty(STDOUT_FILENO) == 1;
  if (results.size() == 1) {
    report::CheckReportOptions options;
    options.every_node = arguments.every_node;
    options.color = color;
    report::print_check_report(std::cout, results.front(), arguments.model, options);
  } else {
    report::print_check_summary(std::cout, results, arguments.model, color);
  }
  if (!estimates.empty()) {
    std::cout << "\nlatency estimate (INT8, batch 1, the graph as given; npukit estimate has the details):\n";
    print_estimate_summary(std::cout, estimates);
    std::cout << fit_quality_line(estimate::builtin_fitted_parameters()) << "\n";
  }
  if (!arguments.report.empty()) std::cout << "\nreport written to " << arguments.report << "\n";
}

}  // namespace

void register_check_command(CLI::App& app) {
  auto arguments = std::make_shared<CheckArguments>();
  CLI::App* command = app.add_subcommand(
      "check", "Which nodes run on a target's NPU, which fall back to the CPU, why, and which patch fixes them");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  add_target_options(*command, arguments->targets, true);
  command->add_flag("--json", arguments->json, "Print JSON for programs (every node, segment and transfer)");
  command->add_flag("--every-node", arguments->every_node, "List every node, not only the ones that leave the NPU");
  command->add_option("--report", arguments->report, "Also write a Markdown report to FILE.md")->type_name("FILE.md");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->add_option("--input-sizes", arguments->input_sizes,
                      "Check the model at several square input sizes (320,480,640 or a range 320:1280:160): per "
                      "target, which sizes pass every size limit, and the MACs, transfers and memory at each")
      ->type_name("SIZES");
  command->add_flag("--estimate", arguments->estimate, "Add the latency estimate per target (see npukit estimate)");
  command->callback([arguments] { run_check(*arguments); });
}

}  // namespace npukit::cli
