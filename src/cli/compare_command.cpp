// npukit compare A [B]: per-layer error between two models on the same inputs (a float model and its QDQ
// export, an original and its patched copy) or one model on two backends or targets: SQNR, cosine, max and
// mean abs error and an LSB histogram per value, and the value where the error enters.
#include <cmath>
#include <iostream>
#include <memory>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/input_files.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "cli/tensor_values.h"
#include "compare/comparison_cells.h"
#include "compare/error_entry.h"
#include "compare/model_comparison.h"
#include "npukit/error.h"
#include "report_html/compare_sections.h"
#include "report_html/report.h"

namespace npukit::cli {

namespace {

struct CompareArguments {
  std::string model_a;
  std::string model_b;
  std::string backend_a, backend_b;  // "": the default for the form (see resolve_backends)
  std::string target_a, target_b;
  int threads = 1;
  std::vector<std::string> inputs;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
  uint64_t seed = 0;
  bool json = false;
  std::string report;
  size_t top = 10;
  bool all = false;
};

struct FedInput {
  std::string name;
  std::string source;  // the .npy path, or "random (seed N)"
  Tensor tensor;
};

// Two models: both on cpu unless told (only the models differ). One model: ref against cpu unless told.
void resolve_backends(CompareArguments& arguments) {
  const bool one_model = arguments.model_b.empty();
  if (arguments.backend_a.empty()) arguments.backend_a = one_model ? "ref" : "cpu";
  if (arguments.backend_b.empty()) arguments.backend_b = "cpu";
  for (auto [target, backend, side] : {std::tuple{&arguments.target_a, &arguments.backend_a, "a"},
                                       std::tuple{&arguments.target_b, &arguments.backend_b, "b"}}) {
    if (!target->empty() && *backend != "sim") {
      throw Error(ErrorKind::invalid_argument, std::string("--target-") + side + " names the target whose integer arithmetic the sim backend "
                                                   "simulates; the " + *backend + " backend has none: add --backend-" + side + " sim");
    }
  }
  if (one_model && arguments.backend_a == arguments.backend_b && arguments.target_a == arguments.target_b) {
    throw Error(ErrorKind::invalid_argument,
                "A and B would be the same model on the same backend (" + arguments.backend_a +
                    "): give a second model, or different --backend-a/--backend-b (e.g. --backend-a ref --backend-b cpu) or "
                    "--target-a/--target-b");
  }
  if (arguments.threads < 0) throw Error(ErrorKind::invalid_argument, "--threads must be 0 (all cores) or more");
  if (!arguments.report.empty() && !report_html::is_report_path(arguments.report)) {
    throw Error(ErrorKind::invalid_argument, "--report takes a file ending in .html or .md", arguments.report);
  }
}

std::vector<FedInput> prepare_inputs(const CompareArguments& arguments, const std::vector<ValueInfo>& declared) {
  std::vector<FedInput> fed;
  std::set<std::string> given;
  for (InputFile& file : read_input_files(arguments.inputs, declared, arguments.model_a)) {
    given.insert(file.name);
    fed.push_back({file.name, file.path, std::move(file.tensor)});
  }
  std::mt19937_64 generator(arguments.seed);
  for (const ValueInfo& input : declared) {
    if (given.count(input.name)) continue;
    bool dynamic = !input.has_shape;
    for (int64_t dim : input.shape) dynamic = dynamic || dim < 0;
    if (dynamic) {
      throw Error(ErrorKind::invalid_argument,
                  "input '" + input.name + "' has dynamic dims " +
                      (input.has_shape ? describe_dims(input.shape, input.dim_names) : std::string("(rank unknown)")) +
                      "; give it with --input " + input.name + "=FILE.npy or fix its size with --input-shape " +
                      input_shape_example(input) + " for random data",
                  arguments.model_a);
    }
    fed.push_back({input.name, "random (seed " + std::to_string(arguments.seed) + ")", random_tensor(input.dtype, input.shape, generator)});
  }
  return fed;
}

nlohmann::json number_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr); }

nlohmann::json value_json(const compare::ValueComparison& value, size_t position) {
  const compare::LayerMetrics& metrics = value.metrics;
  nlohmann::json json = {{"position", position},
                         {"name", value.name_a},
                         {"name_b", value.name_b},
                         {"layer_a", value.layer_a},
                         {"layer_b", value.layer_b},
                         {"op_a", value.op_a},
                         {"op_b", value.op_b},
                         {"dtype_a", std::string(dtype_name(value.dtype_a))},
                         {"dtype_b", std::string(dtype_name(value.dtype_b))},
                         {"shape", value.shape},
                         {"elements", metrics.elements},
                         {"is_output", value.is_output},
                         {"is_graph_input", value.is_graph_input},
                         {"is_weight", value.is_weight},
                         {"identical", metrics.identical},
                         // SQNR: null when identical (+∞) or when the reference is all zero or a NaN/Inf disagrees (−∞).
                         {"sqnr_db", number_or_null(metrics.sqnr_db)},
                         {"sqnr_is_minus_infinity", std::isinf(metrics.sqnr_db) && metrics.sqnr_db < 0},
                         {"cosine", metrics.cosine ? nlohmann::json(*metrics.cosine) : nlohmann::json(nullptr)},
                         {"max_abs_error", number_or_null(metrics.max_abs_error)},
                         {"mean_abs_error", number_or_null(metrics.mean_abs_error)},
                         {"reference_peak", metrics.reference_peak},
                         {"non_finite_mismatches", metrics.non_finite_mismatches},
                         {"inputs", value.inputs},
                         {"inputs_sqnr_db", value.inputs_sqnr_db ? number_or_null(*value.inputs_sqnr_db) : nlohmann::json(nullptr)},
                         {"inputs_identical", value.inputs_sqnr_db && std::isinf(*value.inputs_sqnr_db) && *value.inputs_sqnr_db > 0},
                         {"sqnr_drop_db", value.drop_db ? number_or_null(*value.drop_db) : nlohmann::json(nullptr)},
                         {"error_enters_here", value.error_enters_here}};
  if (metrics.lsb) {
    nlohmann::json bins = nlohmann::json::object();
    for (size_t bin = 0; bin < compare::lsb_bin_count; ++bin) bins[compare::lsb_bin_labels[bin]] = metrics.lsb->counts[bin];
    json["lsb_histogram"] = {{"grid", ir::describe(metrics.lsb->params)}, {"grid_side", value.grid_side}, {"bins", bins},
                             {"largest_step", metrics.lsb->largest_step}};
  } else {
    json["lsb_histogram"] = nullptr;
  }
  return json;
}

void print_json(const compare::ModelComparison& comparison, const std::optional<compare::ErrorEntry>& entry,
                const std::vector<FedInput>& inputs) {
  nlohmann::json json;
  for (auto [key, side] : {std::pair{"a", &comparison.a}, std::pair{"b", &comparison.b}}) {
    json[key] = {{"model", side->model_path}, {"backend", side->backend},
                 {"target", side->target.empty() ? nlohmann::json(nullptr) : nlohmann::json(side->target)},
                 {"values_computed", side->values_computed}};
  }
  json["inputs"] = nlohmann::json::array();
  for (const FedInput& input : inputs) {
    json["inputs"].push_back({{"name", input.name}, {"dtype", std::string(dtype_name(input.tensor.dtype()))},
                              {"shape", input.tensor.shape()}, {"source", input.source}});
  }
  json["values"] = nlohmann::json::array();
  for (size_t i = 0; i < comparison.values.size(); ++i) json["values"].push_back(value_json(comparison.values[i], i));
  json["not_comparable"] = nlohmann::json::array();
  for (const compare::NotComparable& item : comparison.not_comparable) {
    json["not_comparable"].push_back({{"name", item.name}, {"side", item.side}, {"reason", item.reason}});
  }
  if (entry) {
    const compare::ValueComparison& value = comparison.values[entry->value];
    json["error_entry"] = {{"position", entry->value}, {"name", value.name_a}, {"name_b", value.name_b},
                           {"layer", value.layer_a.empty() ? value.layer_b : value.layer_a},
                           {"sqnr_db", number_or_null(entry->sqnr_db)}, {"inputs_sqnr_db", number_or_null(entry->inputs_sqnr_db)},
                           {"drop_db", entry->drop_db}};
  } else {
    json["error_entry"] = nullptr;
  }
  json["verdict"] = compare::verdict(comparison, entry);
  std::cout << json.dump(2) << "\n";
}

void print_table(const compare::ModelComparison& comparison, const std::optional<compare::ErrorEntry>& entry,
                 const std::vector<FedInput>& inputs, const std::vector<size_t>& rows, const CompareArguments& arguments) {
  auto side_text = [](const compare::SideSummary& side) {
    return side.model_path + " on " + side.backend + (side.target.empty() ? "" : " (target " + side.target + ")");
  };
  std::cout << "A  " << side_text(comparison.a) << "  (reference)\nB  " << side_text(comparison.b) << "\ninputs\n";
  Table input_table({{"name"}, {"dtype"}, {"shape"}, {"from"}});
  for (const FedInput& input : inputs) {
    input_table.add_row({input.name, std::string(dtype_name(input.tensor.dtype())), shape_to_string(input.tensor.shape()), input.source});
  }
  input_table.print(std::cout, 2);
  size_t identical = 0;
  for (const compare::ValueComparison& value : comparison.values) identical += value.metrics.identical ? 1 : 0;
  std::cout << comparison.values.size() << " values compared (" << identical << " identical), " << comparison.not_comparable.size()
            << " not comparable\n";
  if (!rows.empty()) {
    std::cout << (arguments.all ? "every compared value" : "the " + std::to_string(arguments.top) + " lowest SQNRs, the outputs and the error's entry")
              << ", in execution order:\n";
    std::vector<Table::Column> columns;
    const std::vector<std::string> titles = compare::value_column_titles();
    const std::vector<bool> right = compare::value_columns_right_aligned();
    for (size_t i = 0; i < titles.size(); ++i) columns.push_back({titles[i], right[i] ? Align::right : Align::left});
    Table table(columns);
    for (size_t row : rows) table.add_row(compare::value_cells(comparison.values[row], row));
    table.print(std::cout, 2, 40);
  }
  if (!comparison.not_comparable.empty()) {
    std::cout << "not comparable" << (arguments.all ? "" : " (--all lists every one)") << ":\n";
    if (arguments.all) {
      Table table({{"value"}, {"side"}, {"reason"}});
      for (const compare::NotComparable& item : comparison.not_comparable) table.add_row({item.name, item.side, item.reason});
      table.print(std::cout, 2, 70);
    } else {
      Table table({{"side"}, {"values", Align::right}, {"reason"}, {"for example"}});
      for (const compare::ReasonGroup& group : compare::group_not_comparable(comparison)) {
        std::string examples;
        for (const std::string& name : group.examples) examples += (examples.empty() ? "" : ", ") + name;
        table.add_row({group.side, std::to_string(group.count), group.reason, examples});
      }
      table.print(std::cout, 2, 70);
    }
  }
  std::cout << "verdict: " << compare::verdict(comparison, entry) << "\n";
}

void run_compare(CompareArguments arguments) {
  resolve_backends(arguments);
  const bool one_model = arguments.model_b.empty();
  Progress progress("compare", 7, !arguments.json);
  progress.update(0, "loading " + arguments.model_a);
  preparation::PreparationOptions options;
  options.data_shapes = shapes_of_input_files(arguments.inputs);
  options.run_reference_for_unknown_shapes = false;
  preparation::PreparedModel prepared_a = load_model_argument(arguments.model_a, arguments.input_shapes, arguments.input_values, options);
  if (!arguments.json) print_preparation_notes(std::cerr, prepared_a.report);
  compare::ComparisonSide a{arguments.model_a, std::make_shared<ir::Model>(std::move(prepared_a.model)), {}};
  compare::ComparisonSide b = a;
  if (!one_model) {
    progress.update(1, "loading " + arguments.model_b);
    preparation::PreparedModel prepared_b =
        load_model_argument(arguments.model_b, arguments.input_shapes, arguments.input_values, options);
    if (!arguments.json) print_preparation_notes(std::cerr, prepared_b.report);
    b = {arguments.model_b, std::make_shared<ir::Model>(std::move(prepared_b.model)), {}};
  }
  a.options.backend = arguments.backend_a;
  a.options.target = arguments.target_a;
  b.options.backend = arguments.backend_b;
  b.options.target = arguments.target_b;
  a.options.threads = b.options.threads = arguments.threads;

  const std::vector<FedInput> fed = prepare_inputs(arguments, compare::common_inputs(a, b));
  std::map<std::string, Tensor> inputs;
  for (const FedInput& input : fed) inputs[input.name] = input.tensor;
  compare::ModelComparison comparison = compare::compare_models(
      a, b, inputs, [&progress](int step, int, const std::string& what) { progress.update(2 + step, what); });
  const std::optional<compare::ErrorEntry> entry = compare::locate_error_entry(comparison);
  const std::vector<size_t> rows = compare::values_to_show(comparison, arguments.top, arguments.all);
  progress.finish();

  if (!arguments.report.empty()) {
    std::vector<std::string> input_lines;
    for (const FedInput& input : fed) {
      input_lines.push_back(input.name + " " + std::string(dtype_name(input.tensor.dtype())) + " " + shape_to_string(input.tensor.shape()) +
                            " from " + input.source);
    }
    report_html::write_compare_report(arguments.report, comparison, entry, rows, input_lines);
  }
  if (arguments.json) {
    print_json(comparison, entry, fed);
    return;
  }
  print_table(comparison, entry, fed, rows, arguments);
  if (!arguments.report.empty()) std::cout << "report written to " << arguments.report << "\n";
}

}  // namespace

void register_compare_command(CLI::App& app) {
  auto arguments = std::make_shared<CompareArguments>();
  CLI::App* command = app.add_subcommand(
      "compare", "Per-layer error between two models (float vs QDQ, original vs patched) or one model on two backends");
  command->add_option("a", arguments->model_a, "Model A, the reference (" + model_argument_help() + ")")->required()->type_name("A");
  command->add_option("b", arguments->model_b, "Model B (default: A again, on --backend-b)")->type_name("B");
  command->add_option("--backend-a", arguments->backend_a, "A's backend: ref, cpu or sim (default: ref for one model, cpu for two)")
      ->type_name("NAME");
  command->add_option("--backend-b", arguments->backend_b, "B's backend (default cpu)")->type_name("NAME");
  command->add_option("--target-a", arguments->target_a, "With --backend-a sim: the target whose integer arithmetic runs A")->type_name("T");
  command->add_option("--target-b", arguments->target_b, "With --backend-b sim: the target whose integer arithmetic runs B")->type_name("T");
  command->add_option("--input,-i", arguments->inputs, "An input from a .npy file or a picture (letterboxed, /255, RGB): NAME=FILE.npy|PICTURE.jpg (repeat per input; others are random)")
      ->type_name("NAME=FILE")
      ->take_all()
      ->allow_extra_args(false);
  command->add_option("--seed", arguments->seed, "Seed of the random inputs (floats in [0,1); default 0)")->type_name("N");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads of the cpu backend (default 1; 0 = all cores)")->type_name("N");
  command->add_flag("--json", arguments->json, "Print JSON for programs (every value and every value not comparable)");
  command->add_option("--report", arguments->report, "Also write a report: FILE.html (SQNR chart) or FILE.md")->type_name("FILE");
  command->add_option("--top", arguments->top, "How many of the lowest SQNRs to list besides the outputs (default 10)")->type_name("N");
  command->add_flag("--all", arguments->all, "List every compared value and every value not comparable");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { run_compare(*arguments); });
}

}  // namespace npukit::cli
