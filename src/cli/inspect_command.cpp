// npukit inspect MODEL: ops, parameters, MACs and activation memory, per layer and in total.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "inspect/model_statistics.h"
#include "report/inspect_report.h"

namespace npukit::cli {

namespace {

struct InspectArguments {
  std::string model;
  bool json = false;
  bool per_layer = false;
  size_t layers = 10;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
};

void run_inspect(const InspectArguments& arguments) {
  preparation::PreparedModel prepared =
      load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values);
  const inspect::ModelStatistics statistics = report::inspect_statistics(prepared, arguments.model);
  if (arguments.json) {
    // The same text npukit::inspect_model(...).to_json() gives a library caller.
    std::cout << report::inspect_report(statistics, prepared).to_json() << "\n";
    return;
  }
  report::InspectReportOptions options;
  options.every_layer = arguments.per_layer;
  options.heaviest_layers = arguments.layers;
  report::print_inspect_report(std::cout, statistics, options);
}

}  // namespace

void register_inspect_command(CLI::App& app) {
  auto arguments = std::make_shared<InspectArguments>();
  CLI::App* command = app.add_subcommand("inspect", "Ops, parameters, MACs and peak activation memory of a model");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  command->add_flag("--json", arguments->json, "Print JSON for programs (every node included)");
  command->add_flag("--per-layer", arguments->per_layer, "List every layer in graph order");
  command->add_option("--layers", arguments->layers, "List the N layers with the most MACs (default 10)")
      ->type_name("N");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { run_inspect(*arguments); });
}

}  // namespace npukit::cli
