// npukit check MODEL --target T: a verdict per node, the NPU/CPU partition, transfers, MAC share, fixes.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "check/target_check.h"
#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/target_arguments.h"
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
};

void run_check(const CheckArguments& arguments) {
  std::vector<targets::TargetProfile> profiles = resolve_targets(arguments.targets, true);
  preparation::PreparedModel prepared =
      load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values);
  const ir::Model& model = prepared.model;
  // What preparation assumed (a batch set to 1; an input that keeps dynamic dims and the flag that fixes it)
  // goes first: an NPU compiles one static input size.
  print_preparation_notes(std::cerr, prepared.report);
  std::vector<check::CheckResult> results;
  for (const targets::TargetProfile& profile : profiles) results.push_back(check::check_model(model, profile));

  if (!arguments.report.empty()) {
    std::ofstream report(arguments.report);
    report << report::check_markdown(results, arguments.model);
    if (!report) throw Error(ErrorKind::io, "cannot write the report (is the folder there and writable?)", arguments.report);
  }
  if (arguments.json) {
    // The same text npukit::check_model(...).to_json() gives a library caller.
    std::cout << report::check_report(arguments.model, prepared, results).to_json() << "\n";
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
  command->callback([arguments] { run_check(*arguments); });
}

}  // namespace npukit::cli
