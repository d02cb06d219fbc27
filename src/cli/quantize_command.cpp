// npukit quantize MODEL --target T --calibration PATH -o OUT.onnx: a QDQ model for the target's grids, its
// OUT.quant.json manifest, and a per-layer table.
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "cli/target_arguments.h"
#include "npukit/error.h"
#include "cli/precision_latency.h"
#include "quantization/mixed_precision.h"
#include "quantization/quantization_manifest.h"
#include "quantization/quantize_model.h"
#include "quantization/vendor_hints.h"
#include "report_html/quantize_sections.h"
#include "report_html/report.h"

namespace npukit::cli {

namespace {

struct QuantizeArguments {
  std::string model;
  TargetArguments targets;
  std::string calibration;
  std::string output;
  std::string method = "percentile";
  double percentile = 99.99;
  std::string preprocess;
  std::string weights;
  std::string activations;
  int64_t group_size = 0;
  int64_t int4_min_inputs = kNotGiven;  // --int4-min-inputs K
  static constexpr int64_t kNotGiven = std::numeric_limits<int64_t>::min();
  std::vector<std::string> exclude;
  std::string algorithms;
  int adaround_iterations = 0;
  size_t adaround_samples = 0;
  double time_budget = 0;
  bool per_tensor = false;
  bool json = false;
  std::string report;
  int threads = 1;
  int keep_float = -1;          // --keep-float N (-1: not given)
  int keep_int16 = -1;          // --keep-int16 N (-1: not given)
  double budget_latency = 0;    // --budget-latency MS (0: not given)
  std::string vendor_hints;     // --vendor-hints DIR
  int sensitivity_samples = 4;  // --sensitivity-samples N
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
};

void print_table(const quantization::QuantizeResult& result, const std::string& output, const std::string& manifest) {
  std::cout << "Quantized " << result.model_path << " for " << result.target_id << " → " << output << "\n";
  std::cout << "  calibration: " << result.calibration_description << ", run on the " << result.calibration_backend
            << " backend\n";
  std::cout << "  range method: " << quantization::range_method_name(result.range_options.method);
  if (result.range_options.method == quantization::RangeMethod::percentile) {
    std::cout << " " << format_number(result.range_options.percentile);
  }
  std::cout << "\n\n";
  Table table({{"value"}, {"role"}, {"op"}, {"dtype"}, {"granularity"}, {"range", Align::right},
               {"scale", Align::right}, {"zero point", Align::right}});
  size_t activations = 0;
  size_t weights = 0;
  size_t biases = 0;
  for (const quantization::QuantizedTensor& tensor : result.tensors) {
    activations += tensor.role == quantization::PointRole::activation;
    weights += tensor.role == quantization::PointRole::weight;
    biases += tensor.role == quantization::PointRole::bias;
    table.add_row({tensor.value, std::string(quantization::point_role_name(tensor.role)), tensor.op_type,
                   std::string(dtype_name(tensor.params.storage)),
                   std::string(ir::granularity_name(tensor.params.granularity())),
                   "[" + format_number(tensor.range_minimum, 4) + ", " + format_number(tensor.range_maximum, 4) + "]",
                   quantization::describe_scales(tensor.params), quantization::describe_zero_points(tensor.params)});
  }
  table.print(std::cout, 2);
  std::cout << "\n  " << activations << " activations, " << weights << " weights, " << biases << " biases quantized; "
            << result.float_nodes.size() << " nodes run in float";
  if (!result.float_nodes.empty()) {
    std::map<std::string, size_t> by_op;
    for (const quantization::FloatNode& node : result.float_nodes) ++by_op[node.op_type];
    std::string ops;
    for (const auto& [op, count] : by_op) ops += (ops.empty() ? "" : ", ") + op + " " + std::to_string(count);
    std::cout << " (" << ops << ")";
  }
  if (!result.algorithms.empty()) {
    std::cout << "\n\n";
    Table algorithms({{"algorithm"}, {"metric"}, {"before", Align::right}, {"after", Align::right},
                      {"seconds", Align::right}});
    auto optional_text = [](const std::optional<double>& value) {
      return value ? format_number(*value, 4) : std::string("-");
    };
    for (const quantization::AlgorithmOutcome& outcome : result.algorithms) {
      algorithms.add_row({outcome.algorithm, outcome.metric.empty() ? "-" : outcome.metric,
                          optional_text(outcome.before), optional_text(outcome.after),
                          format_number(outcome.seconds, 3)});
    }
    algorithms.print(std::cout, 2);
    for (const quantization::AlgorithmOutcome& outcome : result.algorithms) {
      for (const std::string& note : outcome.notes) std::cout << "  " << outcome.algorithm << ": " << note << "\n";
    }
  }
  std::cout << "\n  numerics spec:\n";
  for (const auto& [fact, text] : targets::summarize(result.spec)) std::cout << "    " << fact << ": " << text << "\n";
  for (const quantization::CalibrationDiagnostic& diagnostic : result.diagnostics) {
    std::cout << "  " << (diagnostic.is_error ? "error" : "warning") << ": " << diagnostic.subject << ": "
              << diagnostic.message << "\n";
  }
  for (const std::string& note : result.notes) std::cout << "  note: " << note << "\n";
  std::cout << "  wrote " << output << " and " << manifest << "\n";
}

void run_quantize(const QuantizeArguments& arguments) {
  const std::vector<targets::TargetProfile> profiles = resolve_targets(arguments.targets, false);
  quantization::QuantizeOptions options;
  options.calibration = arguments.calibration;
  options.preprocessing = arguments.preprocess;
  options.input_shapes = parse_input_shapes(arguments.input_shapes);
  const std::optional<quantization::RangeMethod> method = quantization::range_method_from_name(arguments.method);
  if (!method) {
    throw Error(ErrorKind::invalid_argument,
                "--method '" + arguments.method + "': give minmax, percentile, entropy or mse");
  }
  options.method = *method;
  if (!(arguments.percentile > 0 && arguments.percentile <= 100)) {
    throw Error(ErrorKind::invalid_argument, "--percentile " + format_number(arguments.percentile) +
                                                 ": give a value in (0, 100], such as 99.99");
  }
  options.percentile = arguments.percentile;
  if (!arguments.weights.empty()) {
    options.settings.weights = quantization::parse_storage_grid(arguments.weights, "--weights");
  }
  if (!arguments.activations.empty()) {
    options.settings.activations = quantization::parse_storage_grid(arguments.activations, "--activations");
  }
  if (arguments.group_size < 0 || arguments.group_size == 1 || arguments.group_size > 65536) {
    throw Error(ErrorKind::invalid_argument, "--group-size " + std::to_string(arguments.group_size) +
                                                 ": give the inputs per group, such as 32, 64 or 128");
  }
  options.settings.group_size = arguments.group_size;
  if (arguments.int4_min_inputs != QuantizeArguments::kNotGiven) {
    const int64_t minimum = arguments.int4_min_inputs;
    if (minimum < 0 || minimum > 65536) {
      throw Error(ErrorKind::invalid_argument, "--int4-min-inputs " + std::to_string(minimum) +
                                                   ": give the fewest inputs per output a 4-bit weight may have, such "
                                                   "as 64 (0 puts every weight on 4 bits)");
    }
    const bool four_bits = options.settings.weights && (*options.settings.weights == targets::StorageGrid::int4 ||
                                                        *options.settings.weights == targets::StorageGrid::uint4);
    if (!four_bits) {
      throw Error(ErrorKind::invalid_argument, "--int4-min-inputs chooses which weights stay on 8 bits when the "
                                               "others are on 4: give it with --weights int4");
    }
    options.settings.int4_minimum_inputs = minimum;
  }
  options.settings.per_tensor = arguments.per_tensor;
  options.settings.exclude = arguments.exclude;
  options.threads = arguments.threads;
  options.algorithms = quantization::parse_algorithm_list(arguments.algorithms);
  if (arguments.adaround_iterations < 0 || arguments.time_budget < 0 || !std::isfinite(arguments.time_budget)) {
    throw Error(ErrorKind::invalid_argument, "--adaround-iterations and --time-budget take a number >= 0 (0: the default)");
  }
  options.adaround_iterations = arguments.adaround_iterations;
  options.adaround_samples = arguments.adaround_samples;
  options.time_budget_seconds = arguments.time_budget;
  if (!arguments.input_values.empty()) {
    throw Error(ErrorKind::invalid_argument, "quantize does not take --input-value: an input held at a value would be "
                                             "folded into the graph the QDQ file describes");
  }
  auto progress = std::make_shared<std::unique_ptr<Progress>>();
  options.progress = [progress, &arguments](size_t done, size_t total) {
    if (!*progress) *progress = std::make_unique<Progress>("calibrating", static_cast<int64_t>(total), !arguments.json);
    (*progress)->update(static_cast<int64_t>(done), std::to_string(done) + " samples");
  };
  auto algorithm_progress = std::make_shared<std::unique_ptr<Progress>>();
  auto algorithm_label = std::make_shared<std::string>();
  options.algorithm_progress = [algorithm_progress, algorithm_label, &arguments](size_t done, size_t total,
                                                                                 const std::string& what) {
    if (!*algorithm_progress || *algorithm_label != what) {
      if (*algorithm_progress) (*algorithm_progress)->finish();
      *algorithm_progress = std::make_unique<Progress>(what, static_cast<int64_t>(total), !arguments.json);
      *algorithm_label = what;
    }
    (*algorithm_progress)->update(static_cast<int64_t>(done), std::to_string(done) + "/" + std::to_string(total));
  };
  if (arguments.sensitivity_samples < 1) {
    throw Error(ErrorKind::invalid_argument, "--sensitivity-samples " + std::to_string(arguments.sensitivity_samples) +
                                                 ": give at least 1 (default 4)");
  }
  options.sensitivity_samples = static_cast<size_t>(arguments.sensitivity_samples);
  if (!arguments.report.empty() && !report_html::is_report_path(arguments.report)) {
    throw Error(ErrorKind::invalid_argument, "--report takes a file ending in .md or .html", arguments.report);
  }
  const bool mixed_precision = arguments.keep_float >= 0 || arguments.keep_int16 >= 0 || arguments.budget_latency != 0;
  if (!arguments.vendor_hints.empty() && !mixed_precision) {
    throw Error(ErrorKind::invalid_argument, "--vendor-hints lists the layers kept in high precision: give --keep-float N "
                                             "or --budget-latency MS (or --keep-int16 N) with it");
  }
  quantization::QuantizeResult result;
  std::vector<quantization::QuantizedLayer> float_layers;
  std::vector<quantization::QuantizedLayer> sixteen_bit_layers;
  if (mixed_precision) {
    quantization::MixedPrecisionOptions mixed;
    if (arguments.keep_float >= 0) mixed.keep_float = static_cast<size_t>(arguments.keep_float);
    if (arguments.keep_int16 >= 0) mixed.keep_int16 = static_cast<size_t>(arguments.keep_int16);
    if (arguments.budget_latency != 0) {
      mixed.budget_latency_ms = arguments.budget_latency;
      const PrecisionLatency latency = precision_latency(profiles.front());
      mixed.estimate_milliseconds = latency.milliseconds;
      mixed.estimate_basis = latency.basis;
    }
    quantization::MixedPrecisionResult mixed_result =
        quantization::quantize_with_mixed_precision(arguments.model, profiles.front(), options, mixed);
    result = std::move(mixed_result.quantized);
    float_layers = std::move(mixed_result.float_layers);
    sixteen_bit_layers = std::move(mixed_result.sixteen_bit_layers);
  } else {
    result = quantization::quantize_model(arguments.model, profiles.front(), options);
  }
  if (*progress) (*progress)->finish();
  if (*algorithm_progress) (*algorithm_progress)->finish();
  const std::string manifest = quantization::write_quantized_model(result, arguments.output);
  if (!arguments.vendor_hints.empty()) {
    for (const std::string& path : quantization::write_vendor_hints(
             arguments.vendor_hints,
             quantization::vendor_hint_files(result.model, float_layers, sixteen_bit_layers, arguments.model,
                                             result.target_id))) {
      if (!arguments.json) std::cerr << "wrote " << path << "\n";
    }
  }
  if (!arguments.report.empty() && arguments.report.size() > 3 &&
      arguments.report.substr(arguments.report.size() - 3) != ".md") {
    report_html::write_quantize_report(arguments.report, result, arguments.output);
  } else if (!arguments.report.empty()) {
    const std::string temporary = arguments.report + ".partial";
    std::ofstream file(temporary, std::ios::trunc);
    file << quantization::manifest_markdown(result);
    file.close();
    if (!file || std::rename(temporary.c_str(), arguments.report.c_str()) != 0) {
      std::remove(temporary.c_str());
      throw Error(ErrorKind::io, "cannot write the report " + arguments.report + ": check the folder exists and is writable");
    }
  }
  if (arguments.json) {
    std::ifstream file(manifest);
    std::cout << file.rdbuf();
    return;
  }
  print_table(result, arguments.output, manifest);
}

}  // namespace

void register_quantize_command(CLI::App& app) {
  auto arguments = std::make_shared<QuantizeArguments>();
  CLI::App* command = app.add_subcommand(
      "quantize", "Calibrate a float model on data and write it as QDQ ONNX for a target's integer grids");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  add_target_options(*command, arguments->targets, false);
  command->add_option("--calibration", arguments->calibration,
                      "Calibration data: a .npy batch, a folder of .npy files, or a folder of pictures")
      ->required()
      ->type_name("PATH");
  command->add_option("-o,--output", arguments->output, "QDQ model to write; OUT.quant.json is written beside it")
      ->required()
      ->type_name("OUT.onnx");
  command->add_option("--method", arguments->method, "Range method: minmax, percentile, entropy, mse (default percentile)")
      ->type_name("M");
  command->add_option("--percentile", arguments->percentile, "Percentile for --method percentile (default 99.99)")
      ->type_name("P");
  command->add_option("--preprocess", arguments->preprocess,
                      "How pictures become the input, e.g. letterbox=640,mean=0,std=255,rgb,nchw (default: letterbox "
                      "at the input's size, /255, RGB)")
      ->type_name("SPEC");
  command->add_option("--weights", arguments->weights, "Weight grid: int8 | int16 | int4 (default: the target's)")->type_name("T");
  command->add_option("--group-size", arguments->group_size,
                      "Weights per group of N inputs of each output channel (Conv: C x KH x KW; MatMul / Gemm: K), "
                      "e.g. 32, 64, 128 (default: the target's granularity)")
      ->type_name("N");
  command->add_option("--int4-min-inputs", arguments->int4_min_inputs,
                      "With --weights int4: weights with fewer inputs per output channel than K (depthwise 3x3: 9, a "
                      "first 3x3x3 conv: 27) stay on 8 bits, listed in the notes (default " +
                          std::to_string(quantization::kDefaultInt4MinimumInputs) + "; 0: every weight on 4 bits)")
      ->type_name("K");
  command->add_option("--activations", arguments->activations, "Activation grid: int8 | uint8 | int16 (default: the target's)")
      ->type_name("T");
  command->add_option("--exclude", arguments->exclude, "Keep a node (by name) or every node of an op type in float")
      ->type_name("NODE|OP_TYPE");
  std::string algorithm_names;
  for (const quantization::QuantizationAlgorithm& algorithm : quantization::quantization_algorithms()) {
    algorithm_names += (algorithm_names.empty() ? "" : ", ") + algorithm.name;
  }
  command->add_option("--algorithm", arguments->algorithms,
                      "Accuracy algorithms to apply, comma-separated (" +
                          (algorithm_names.empty() ? std::string("none built yet") : algorithm_names) + ")")
      ->type_name("A,B,...");
  command->add_option("--adaround-iterations", arguments->adaround_iterations,
                      "adaround / block-reconstruction: Adam iterations per layer or block (default 1000)")
      ->type_name("N");
  command->add_option("--adaround-samples", arguments->adaround_samples,
                      "adaround / block-reconstruction: calibration samples to learn the rounding on (default 16)")
      ->type_name("N");
  command->add_option("--time-budget", arguments->time_budget,
                      "adaround / block-reconstruction: seconds they may take together; they stop learning early "
                      "and keep what they learned (default: no limit)")
      ->type_name("SECONDS");
  command->add_flag("--per-tensor", arguments->per_tensor, "Weights per tensor, whatever the target says");
  command->add_option("--threads", arguments->threads, "Threads for the calibration run (default 1, 0: all cores)");
  command->add_flag("--json", arguments->json, "Print the manifest (OUT.quant.json) for programs");
  command->add_option("--report", arguments->report,
                      "Also write a report: Markdown (.md) or HTML with a sensitivity chart (.html)")
      ->type_name("FILE.md|FILE.html");
  command->add_option("--keep-float", arguments->keep_float,
                      "Keep the N layers most sensitive to quantization in float (sensitivity on sim, then --exclude)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--keep-int16", arguments->keep_int16,
                      "Run the next N most sensitive layers with 16-bit activations, 8-bit weights (targets listing int16)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--budget-latency", arguments->budget_latency,
                      "Keep sensitive layers float while the estimated latency stays within MS milliseconds")
      ->type_name("MS");
  command->add_option("--vendor-hints", arguments->vendor_hints,
                      "Write the layers kept float as RKNN hybrid-quantization and Hailo model-script lines into DIR")
      ->type_name("DIR");
  command->add_option("--sensitivity-samples", arguments->sensitivity_samples,
                      "Calibration samples the sensitivity analysis runs on sim (default 4)")
      ->type_name("N");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { run_quantize(*arguments); });
}

}  // namespace npukit::cli
