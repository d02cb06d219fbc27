// npukit run MODEL --input name=file.npy ...: run a model once on a backend and write its outputs.
#include <chrono>
#include <cmath>
#include <filesystem>
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
#include "core/npy.h"
#include "ir/graph.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "sim/lowering.h"

namespace npukit::cli {

namespace {

struct RunArguments {
  std::string model;
  std::vector<std::string> inputs;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
  bool random_input = false;
  uint64_t seed = 0;
  std::string output_dir;
  std::string backend = "cpu";
  std::string target;       // --backend sim: the simulated target (built-in id)
  std::string target_file;  // ... or a profile file
  int threads = 1;
  bool json = false;
  std::vector<std::string> keep;  // intermediate values to write besides the outputs (--keep)
};

struct PreparedInput {
  std::string name;
  std::string source;  // the .npy path, or "random"
  Tensor tensor;
};

std::vector<PreparedInput> prepare_inputs(const RunArguments& arguments, const std::vector<ValueInfo>& declared) {
  std::vector<PreparedInput> prepared;
  std::set<std::string> given;
  for (InputFile& file : read_input_files(arguments.inputs, declared, arguments.model)) {
    given.insert(file.name);
    prepared.push_back({file.name, file.path, std::move(file.tensor)});
  }

  std::mt19937_64 generator(arguments.seed);
  for (const ValueInfo& input : declared) {
    if (given.count(input.name)) continue;
    if (!arguments.random_input) {
      throw Error(ErrorKind::invalid_argument,
                  "input '" + input.name + "' is not given; pass --input " + input.name +
                      "=FILE.npy, or --random-input to fill missing inputs with random data",
                  arguments.model);
    }
    bool dynamic = !input.has_shape;
    for (int64_t dim : input.shape) dynamic = dynamic || dim < 0;
    if (dynamic) {
      throw Error(ErrorKind::invalid_argument,
                  "input '" + input.name + "' has dynamic dims " +
                      (input.has_shape ? describe_dims(input.shape, input.dim_names) : std::string("(rank unknown)")) +
                      "; choose them with --input-shape " + input_shape_example(input) + " to use --random-input",
                  arguments.model);
    }
    prepared.push_back({input.name, "random", random_tensor(input.dtype, input.shape, generator)});
  }
  return prepared;
}

std::string values_text(const std::vector<double>& values) {
  std::string text;
  for (double value : values) text += (text.empty() ? "" : " ") + format_number(value, 4);
  return text;
}

nlohmann::json number_or_null(bool known, double value) {
  return known && std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// What the sim backend ran in integer and what stayed float: a user must never mistake a float island for
// the target's arithmetic.
void print_simulation_report(const sim::LoweringReport& report, const std::string& target) {
  std::cout << "simulated  " << target << ": " << report.integer_nodes.size() << " op(s) in integer, "
            << report.float_nodes.size() << " in float\n";
  if (!report.float_nodes.empty()) {
    std::cout << "ran in float (between their DequantizeLinear and QuantizeLinear, not the target's arithmetic)\n";
    Table table({{"node"}, {"op"}, {"why"}});
    for (const auto& entry : report.float_nodes) table.add_row({entry.node, entry.op_type, entry.detail});
    table.print(std::cout, 2, 90);
  }
  for (const std::string& note : report.notes) std::cout << "note: " << note << "\n";
}

void run_model(const RunArguments& arguments) {
  Progress progress("run", 4, !arguments.json);
  progress.update(0, "loading " + arguments.model);
  preparation::PreparationOptions preparation_options;
  // The data given decides the size of dynamic dims; the run itself tells every shape, so no reference run.
  preparation_options.data_shapes = shapes_of_input_files(arguments.inputs);
  preparation_options.run_reference_for_unknown_shapes = false;
  preparation::PreparedModel prepared =
      load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values, preparation_options);
  if (!arguments.json) print_preparation_notes(std::cerr, prepared.report);
  auto model = std::make_shared<ir::Model>(std::move(prepared.model));
  engine::EngineOptions options;
  options.backend = arguments.backend;
  options.threads = arguments.threads;
  options.keep_values = arguments.keep;
  if (!arguments.target.empty() && !arguments.target_file.empty()) {
    throw Error(ErrorKind::invalid_argument, "give --target or --target-file, not both");
  }
  if ((!arguments.target.empty() || !arguments.target_file.empty()) && arguments.backend != "sim") {
    throw Error(ErrorKind::invalid_argument, "--target and --target-file choose the simulated target of --backend sim; "
                                             "add --backend sim (backend '" + arguments.backend + "' runs no target)");
  }
  options.target = arguments.target_file.empty() ? arguments.target : arguments.target_file;
  std::unique_ptr<engine::Engine> session = engine::Engine::adopt(std::move(model), options);

  progress.update(1, "reading inputs");
  std::vector<PreparedInput> inputs = prepare_inputs(arguments, session->inputs());
  for (PreparedInput& input : inputs) session->set_input(input.name, input.tensor);

  progress.update(2, "running");
  auto start = std::chrono::steady_clock::now();
  session->run();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  progress.update(3, "writing outputs");
  std::map<std::string, std::string> files;
  if (!arguments.output_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(arguments.output_dir, error);
    if (error) {
      throw Error(ErrorKind::io, "cannot create the output directory: " + error.message(), arguments.output_dir);
    }
    std::set<std::string> used;
    std::vector<ValueInfo> written = session->outputs();
    written.insert(written.end(), session->kept_values().begin(), session->kept_values().end());
    for (const ValueInfo& output : written) {
      // Two names may sanitize alike ("a/b", "a:b"): number the later ones.
      std::string base = sanitize_file_name(output.name), file = base;
      for (int suffix = 1; !used.insert(file).second; ++suffix) file = base + "_" + std::to_string(suffix);
      std::string path = (std::filesystem::path(arguments.output_dir) / (file + ".npy")).string();
      write_npy(path, session->output(output.name));
      files[output.name] = path;
    }
  }
  progress.finish();

  if (arguments.json) {
    nlohmann::json json;
    json["model"] = arguments.model;
    json["backend"] = arguments.backend;
    json["wall_time_seconds"] = seconds;
    if (const sim::LoweringReport* report = session->simulation_report()) {
      json["target"] = options.target;
      auto entries = [](const std::vector<sim::LoweringReport::Entry>& list, const char* key) {
        nlohmann::json array = nlohmann::json::array();
        for (const auto& entry : list) array.push_back({{"node", entry.node}, {"op_type", entry.op_type}, {key, entry.detail}});
        return array;
      };
      json["simulation"] = {{"integer_nodes", entries(report->integer_nodes, "runs_as")},
                            {"float_nodes", entries(report->float_nodes, "reason")},
                            {"notes", report->notes}};
    }
    json["inputs"] = nlohmann::json::array();
    for (const PreparedInput& input : inputs) {
      json["inputs"].push_back({{"name", input.name}, {"dtype", std::string(dtype_name(input.tensor.dtype()))},
                                {"shape", input.tensor.shape()}, {"source", input.source}});
    }
    json["outputs"] = nlohmann::json::array();
    for (const ValueInfo& output : session->outputs()) {
      const Tensor& tensor = session->output(output.name);
      TensorValueSummary summary = summarize_values(tensor);
      bool any = summary.finite_count > 0;
      json["outputs"].push_back({{"name", output.name},
                                 {"dtype", std::string(dtype_name(tensor.dtype()))},
                                 {"shape", tensor.shape()},
                                 {"file", files.count(output.name) ? nlohmann::json(files[output.name]) : nlohmann::json(nullptr)},
                                 {"min", number_or_null(any, summary.minimum)},
                                 {"max", number_or_null(any, summary.maximum)},
                                 {"mean", number_or_null(any, summary.mean)},
                                 {"nan_count", summary.nan_count},
                                 {"infinity_count", summary.infinity_count},
                                 {"first_values", [&] {
                                    nlohmann::json values = nlohmann::json::array();
                                    for (double value : summary.first_values) values.push_back(number_or_null(true, value));
                                    return values;
                                  }()}});
    }
    json["kept"] = nlohmann::json::array();
    for (const ValueInfo& value : session->kept_values()) {
      const Tensor& tensor = session->output(value.name);
      json["kept"].push_back({{"name", value.name},
                              {"dtype", std::string(dtype_name(tensor.dtype()))},
                              {"shape", tensor.shape()},
                              {"file", files.count(value.name) ? nlohmann::json(files[value.name]) : nlohmann::json(nullptr)}});
    }
    std::cout << json.dump(2) << "\n";
    return;
  }

  std::cout << "model    " << arguments.model << "\nbackend  " << arguments.backend << "\ninputs\n";
  Table input_table({{"name"}, {"dtype"}, {"shape"}, {"from"}});
  for (const PreparedInput& input : inputs) {
    input_table.add_row({input.name, std::string(dtype_name(input.tensor.dtype())), shape_to_string(input.tensor.shape()),
                         input.source == "random" ? "random (seed " + std::to_string(arguments.seed) + ")" : input.source});
  }
  input_table.print(std::cout, 2);
  std::cout << "outputs\n";
  Table output_table({{"name"}, {"dtype"}, {"shape"}, {"min", Align::right}, {"max", Align::right},
                      {"mean", Align::right}, {"first values"}});
  std::vector<std::string> warnings;
  for (const ValueInfo& output : session->outputs()) {
    const Tensor& tensor = session->output(output.name);
    TensorValueSummary summary = summarize_values(tensor);
    bool any = summary.finite_count > 0;
    output_table.add_row({output.name, std::string(dtype_name(tensor.dtype())), shape_to_string(tensor.shape()),
                          any ? format_number(summary.minimum, 5) : "-", any ? format_number(summary.maximum, 5) : "-",
                          any ? format_number(summary.mean, 5) : "-", values_text(summary.first_values)});
    if (summary.nan_count || summary.infinity_count) {
      warnings.push_back("output '" + output.name + "' has " + std::to_string(summary.nan_count) + " NaN and " +
                         std::to_string(summary.infinity_count) + " infinite values");
    }
  }
  output_table.print(std::cout, 2, 60);
  if (const sim::LoweringReport* report = session->simulation_report()) print_simulation_report(*report, options.target);
  std::cout << "wall time  " << format_seconds(seconds) << " (run only, " << arguments.backend << " backend)\n";
  if (!session->kept_values().empty()) {
    std::cout << "kept       " << session->kept_values().size() << " intermediate value(s)"
              << (arguments.output_dir.empty() ? " (give --output-dir to write them)" : ", written with the outputs")
              << "\n";
  }
  if (!files.empty()) std::cout << "written    " << files.size() << " file(s) to " << arguments.output_dir << "\n";
  for (const std::string& warning : warnings) std::cout << "warning: " << warning << "\n";
}

}  // namespace

void register_run_command(CLI::App& app) {
  auto arguments = std::make_shared<RunArguments>();
  CLI::App* command = app.add_subcommand("run", "Run a model once and write its outputs as .npy files");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  command->add_option("--input,-i", arguments->inputs, "An input from a .npy file or a picture (letterboxed, /255, RGB): NAME=FILE.npy|PICTURE.jpg (repeat per input)")
      ->type_name("NAME=FILE")
      ->take_all()
      ->allow_extra_args(false);
  command->add_flag("--random-input", arguments->random_input,
                    "Fill inputs not given with --input with random data (floats in [0,1))");
  command->add_option("--seed", arguments->seed, "Seed of --random-input (default 0)")->type_name("N");
  command->add_option("--output-dir,-o", arguments->output_dir, "Write each output to DIR/<name>.npy")
      ->type_name("DIR");
  command->add_option("--backend", arguments->backend,
                      "Backend: cpu (default; oneDNN and own kernels, ref for the rest), ref (the reference), or sim "
                      "(a QDQ model in the integer arithmetic of --target)")
      ->type_name("NAME");
  command->add_option("--target", arguments->target,
                      "With --backend sim: the target whose integer arithmetic to simulate (see `npukit targets`)")
      ->type_name("NAME");
  command->add_option("--target-file", arguments->target_file,
                      "With --backend sim: your own target profile with a numerics section (JSON, docs/targets.md)")
      ->type_name("PATH");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads of the cpu backend (default 1; 0 = all cores)")
      ->type_name("N");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  command->add_option("--keep", arguments->keep,
                      "Also write this intermediate value (repeat per value; 'all' = every value the backend "
                      "computes), to compare layer by layer: tools/compare_layers.py")
      ->type_name("NAME|all")
      ->allow_extra_args(false);
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { run_model(*arguments); });
}

}  // namespace npukit::cli
