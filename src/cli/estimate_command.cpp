// npukit estimate MODEL --target T|all: the latency a board would give, per segment and per layer, with the
// bottleneck and an error band from how well the model predicts published figures it was not fitted on.
// npukit estimate --fit: refits the parameters on the published figures (src/estimate/estimator_inputs.json).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "check/target_check.h"
#include "cli/commands.h"
#include "cli/estimate_report.h"
#include "cli/estimate_sweep.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "cli/target_arguments.h"
#include "estimate/estimate_json.h"
#include "estimate/host_cpu_timing.h"
#include "estimate/model_estimate.h"
#include "estimate/parameter_fit.h"
#include "npukit/error.h"
#include "report_html/estimate_sections.h"
#include "sweep/sweep_document.h"

namespace npukit::cli {

namespace {

struct EstimateArguments {
  std::vector<std::string> models;  // one: the full single-model output; several (or --model-list/--shard/-o): a sweep
  std::string model_list;
  std::string shard;
  std::string output;
  TargetArguments targets;
  bool json = false;
  int cores = 0;
  double cpu_slowdown = 0;
  bool no_cpu_timing = false;
  size_t layers = 10;
  std::string report;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
  bool fit = false;
  std::string fit_output = "src/estimate/fitted_parameters.json";
  std::string models_root = ".";
  double shrinkage = 0;  // 0: chosen among shrinkage_candidates by leave-one-out error (docs/estimate.md)
  // The grid the shrinkage is chosen on (docs/estimate.md: a grid extended to 0.01 gives the same verdict).
  std::vector<double> shrinkage_candidates = {1, 0.3, 0.1, 0.03};
};

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return text;
}

// Writes through a temporary file renamed into place: a failed write leaves the old parameters whole.
void write_whole_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".partial";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text;
    file.flush();
    if (!file) {
      std::remove(temporary.c_str());
      throw Error(ErrorKind::io, "cannot write the fitted parameters (is the folder there and writable?)", path);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw Error(ErrorKind::io, "cannot move the fitted parameters into place", path);
  }
}

void run_fit(const EstimateArguments& arguments) {
  // Refuse an unwritable destination before a fit of a minute, not after it.
  const std::filesystem::path folder = std::filesystem::path(arguments.fit_output).parent_path();
  if (!folder.empty() && !std::filesystem::is_directory(folder)) {
    throw Error(ErrorKind::io, "the folder for the fitted parameters does not exist (run from the repository root or give --fit-output)",
                arguments.fit_output);
  }
  if (arguments.shrinkage < 0) throw Error(ErrorKind::invalid_argument, "--shrinkage must be positive (or left out to choose it)");
  const estimate::EstimatorInputs& inputs = estimate::builtin_estimator_inputs();
  Progress progress("preparing points", static_cast<int64_t>(inputs.points.size()));
  estimate::FitOptions options;
  options.repository_root = arguments.models_root;
  options.progress = [&progress](size_t done, size_t, const std::string& what) { progress.update(static_cast<int64_t>(done), what); };
  std::vector<std::string> excluded;
  std::vector<estimate::PreparedPoint> points = estimate::prepare_points(inputs, options, excluded);
  progress.update(static_cast<int64_t>(inputs.points.size()), "fitting (leave-one-out)");
  if (points.size() < 3) {
    throw Error(ErrorKind::invalid_argument, "only " + std::to_string(points.size()) +
                                                 " published points could be prepared; run tools/make_models.sh or give --models-root");
  }
  // The shrinkage: given, or chosen by leave-one-out on every point; the nested leave-one-out then chooses it again
  // inside each fold, so the figure it reports did not see the point it predicts (docs/estimate.md).
  const std::vector<double>& candidates = arguments.shrinkage_candidates;
  if (candidates.empty()) throw Error(ErrorKind::invalid_argument, "--shrinkage-candidates needs at least one value");
  for (double candidate : candidates) {
    if (!(candidate > 0) || !std::isfinite(candidate)) throw Error(ErrorKind::invalid_argument, "--shrinkage-candidates must be positive numbers");
  }
  std::string candidates_text;
  for (double candidate : candidates) candidates_text += (candidates_text.empty() ? "" : ", ") + estimate::shrinkage_text(candidate);
  double shrinkage = arguments.shrinkage;
  if (shrinkage <= 0) {
    progress.update(static_cast<int64_t>(inputs.points.size()), "choosing the shrinkage (leave-one-out)");
    shrinkage = estimate::choose_shrinkage(points, candidates);
  }
  estimate::FittedParameters fitted = estimate::fit_prepared_points(points, shrinkage);
  progress.finish();
  {
    Progress nested("nested leave-one-out (folds x shrinkages)", static_cast<int64_t>(fitted.points.size() * candidates.size()));
    estimate::add_nested_leave_one_out(fitted, points, candidates,
                                       [&nested](size_t done, size_t) { nested.update(static_cast<int64_t>(done)); });
  }
  fitted.excluded = excluded;
  for (const estimate::LeftOutPoint& left : inputs.left_out) fitted.excluded.push_back(left.target + " " + left.published_model + ": " + left.reason);
  fitted.provenance = "written by `npukit estimate --fit` on " + utc_now() + " from the calibration_points of src/estimate/estimator_inputs.json "
                      "(published figures, sources per point) and the models of tools/make_models.sh (random weights: the estimate "
                      "depends on shapes only; fallback nodes timed on the fitting host). Loss: squared log error + shrinkage x "
                      "squared distance of each target's parameters from the shared prior; Levenberg-Marquardt.";
  write_whole_file(arguments.fit_output, estimate::fitted_parameters_json(fitted));

  if (arguments.json) {
    std::cout << estimate::fit_quality_json(fitted).dump(2) << "\n";
    return;
  }
  Table table({{"target"}, {"model"}, {"published", Align::right}, {"fitted", Align::right}, {"leave-one-out", Align::right},
               {"error", Align::right}, {"nested", Align::right}, {"error", Align::right}, {"bottleneck"}});
  for (const estimate::PointResult& point : fitted.points) {
    table.add_row({point.point.target, point.point.published_model, format_number(point.point.milliseconds, 4) + " ms",
                   format_number(point.fitted_milliseconds, 4) + " ms", format_number(point.leave_one_out_milliseconds, 4) + " ms",
                   format_percent(std::abs(point.leave_one_out_milliseconds - point.point.milliseconds) / point.point.milliseconds),
                   format_number(point.nested_leave_one_out_milliseconds, 4) + " ms",
                   format_percent(std::abs(point.nested_leave_one_out_milliseconds - point.point.milliseconds) / point.point.milliseconds),
                   point.bottleneck});
  }
  for (const estimate::PointResult& point : fitted.held_out_points) {
    table.add_row({point.point.target + " (held out)", point.point.published_model, format_number(point.point.milliseconds, 4) + " ms",
                   "-", format_number(point.fitted_milliseconds, 4) + " ms",
                   format_percent(std::abs(point.fitted_milliseconds - point.point.milliseconds) / point.point.milliseconds), "-", "-",
                   point.bottleneck});
  }
  table.print(std::cout);
  std::cout << "\n" << fit_quality_line(fitted) << "\n";
  std::cout << "shrinkage " << estimate::shrinkage_text(fitted.shrinkage) << (arguments.shrinkage > 0 ? " (given)" : " (chosen by leave-one-out among " + candidates_text + ")")
            << "; nested leave-one-out chose";
  for (const auto& [value, count] : fitted.nested_choices) std::cout << " " << value << " in " << count << " folds";
  std::cout << "\n";
  const estimate::ErrorSummary& judged = fitted.nested_leave_one_out_error;
  const bool met = judged.median_error <= 0.25 && judged.max_ratio <= 2.0;
  std::cout << "bar (nested leave-one-out median <= 25%, none off by more than 2x): " << (met ? "met" : "NOT met") << "\n";
  for (const std::string& line : fitted.excluded) std::cout << "left out: " << line << "\n";
  std::cout << "written to " << arguments.fit_output << " (rebuild to embed it)\n";
}

// Several models, a model list, a shard or an output file: the sweep form (estimate_sweep.h).
void run_sweep(const EstimateArguments& arguments) {
  if (!arguments.report.empty()) {
    throw Error(ErrorKind::invalid_argument, "--report is for one model; a sweep writes mergeable JSON (-o FILE) and `npukit merge` joins shards");
  }
  EstimateSweepSettings settings;
  settings.shard = arguments.shard.empty() ? sweep::Shard{} : sweep::parse_shard(arguments.shard);
  settings.models = arguments.models;
  if (!arguments.model_list.empty()) {
    const std::vector<std::string> listed = read_model_list(arguments.model_list);
    settings.models.insert(settings.models.end(), listed.begin(), listed.end());
  }
  settings.profiles = resolve_targets(arguments.targets, true);
  settings.cores = arguments.cores;
  settings.cpu_slowdown = arguments.cpu_slowdown;
  settings.no_cpu_timing = arguments.no_cpu_timing;
  settings.input_shapes = arguments.input_shapes;
  settings.input_values = arguments.input_values;
  if (!arguments.output.empty()) {
    // Refuse an unwritable destination before the sweep, not after it.
    const std::filesystem::path folder = std::filesystem::path(arguments.output).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder)) {
      throw Error(ErrorKind::io, "the folder for -o does not exist", arguments.output);
    }
  }
  const nlohmann::json document = run_estimate_sweep(settings);
  if (!arguments.output.empty()) sweep::write_document(arguments.output, document);
  if (arguments.json) {
    std::cout << document.dump(2) << "\n";
    return;
  }
  std::cout << "latency estimates, shard " << settings.shard.text() << " of a sweep of " << document["sweep"]["items"].get<size_t>()
            << " items (model x target), " << document["records"].size() << " in this shard\n\n";
  print_sweep_table(std::cout, document);
  std::cout << "\n" << fit_quality_line(estimate::builtin_fitted_parameters()) << "\n";
  if (!arguments.output.empty()) std::cout << "written to " << arguments.output << " (npukit merge joins the shards)\n";
}

void run_estimate(const EstimateArguments& arguments) {
  if (arguments.fit) {
    run_fit(arguments);
    return;
  }
  if (arguments.cores < 0) throw Error(ErrorKind::invalid_argument, "--cores must be 1 or more (0: the target's default)");
  if (arguments.cpu_slowdown < 0) throw Error(ErrorKind::invalid_argument, "--cpu-slowdown must be a positive factor");
  if (arguments.models.size() > 1 || !arguments.model_list.empty() || !arguments.shard.empty() || !arguments.output.empty()) {
    run_sweep(arguments);
    return;
  }
  if (arguments.models.empty()) {
    throw Error(ErrorKind::invalid_argument, "give a MODEL to estimate (several, or --model-list FILE, for a sweep; --fit to refit the parameters)");
  }
  const std::string& model = arguments.models.front();
  if (!arguments.report.empty() && !report_html::is_report_path(arguments.report)) {
    throw Error(ErrorKind::invalid_argument, "--report takes a file ending in .html or .md", arguments.report);
  }
  std::vector<targets::TargetProfile> profiles = resolve_targets(arguments.targets, true);
  preparation::PreparedModel prepared = load_model_argument(model, arguments.input_shapes, arguments.input_values);
  print_preparation_notes(std::cerr, prepared.report);
  // A latency at an unknown input size would be a figure the estimate cannot know: refuse, naming the input and
  // the --input-shape that fixes it (as bench does).
  preparation::require_static_inputs(prepared.model, "estimate");
  std::vector<check::CheckResult> checks;
  bool any_fallback = false;
  for (const targets::TargetProfile& profile : profiles) {
    checks.push_back(check::check_model(prepared.model, profile));
    any_fallback = any_fallback || estimate::has_fallback_nodes(checks.back());
  }
  estimate::HostCpuTimes cpu_times;
  cpu_times.description = "not needed: no node falls back";
  if (any_fallback && arguments.no_cpu_timing) cpu_times.description = "not measured (--no-cpu-timing)";
  if (any_fallback && !arguments.no_cpu_timing) {
    Progress progress("timing fallback nodes on this host", 4);
    cpu_times = estimate::time_nodes_on_host(prepared.model, 3, 1, [&progress](int done, int) { progress.update(done); });
  }
  estimate::ModelEstimateOptions options;
  options.cores = arguments.cores;
  if (arguments.cpu_slowdown > 0) options.cpu_slowdown = arguments.cpu_slowdown;
  std::vector<estimate::Estimate> estimates;
  for (size_t i = 0; i < profiles.size(); ++i) {
    estimates.push_back(estimate::estimate_model(prepared.model, checks[i], profiles[i], cpu_times,
                                                 estimate::builtin_fitted_parameters(), estimate::builtin_estimator_inputs(), options));
  }
  const estimate::FittedParameters& fitted = estimate::builtin_fitted_parameters();
  if (!arguments.report.empty()) report_html::write_estimate_report(arguments.report, model, estimates, fitted);
  if (arguments.json) {
    nlohmann::json json;
    json["model"] = model;
    json["preparation"] = preparation_json(prepared);
    json["fit"] = estimate::fit_quality_json(fitted);
    json["targets"] = nlohmann::json::array();
    for (const estimate::Estimate& estimate : estimates) json["targets"].push_back(estimate::estimate_json(estimate));
    std::cout << json.dump(2) << "\n";
    return;
  }
  std::cout << "latency estimate for " << model << " (INT8, batch 1, the graph as given: no image pre-processing or NMS outside it)\n\n";
  print_estimate_summary(std::cout, estimates);
  if (estimates.size() == 1) print_estimate_details(std::cout, estimates.front(), arguments.layers);
  std::cout << "\n" << fit_quality_line(fitted) << "\n";
  if (estimates.size() > 1) std::cout << "(one --target shows the segments, slowest layers and assumptions; --json has them all)\n";
  if (!arguments.report.empty()) std::cout << "report written to " << arguments.report << "\n";
}

}  // namespace

void register_estimate_command(CLI::App& app) {
  auto arguments = std::make_shared<EstimateArguments>();
  CLI::App* command = app.add_subcommand(
      "estimate", "Estimate a model's latency on a target board, per segment and layer, with its error band");
  command->add_option("model", arguments->models, model_argument_help() + "; several make a sweep")->type_name("MODEL");
  command->add_option("--model-list", arguments->model_list, "Sweep the models listed in FILE (one per line, # comments)")->type_name("FILE");
  command->add_option("--shard", arguments->shard, "Run only shard i of N of the sweep (model x target items; 0 <= i < N)")->type_name("i/N");
  command->add_option("-o,--output", arguments->output, "Write the sweep's mergeable JSON records to FILE (npukit merge joins shards)")
      ->type_name("FILE");
  add_target_options(*command, arguments->targets, true);
  command->add_flag("--json", arguments->json, "Print JSON for programs (every layer, segment, transfer and assumption)");
  command->add_option("--cores", arguments->cores, "Accelerator cores to spread conv/elementwise work over (default: one, as published)")
      ->type_name("N");
  command->add_option("--cpu-slowdown", arguments->cpu_slowdown,
                      "Board CPU time / this host's time for fallback nodes (default: the target's stated assumption)")
      ->type_name("X");
  command->add_flag("--no-cpu-timing", arguments->no_cpu_timing, "Do not run the model here to time fallback nodes");
  command->add_option("--layers", arguments->layers, "How many of the slowest layers to list (default 10)")->type_name("N");
  command->add_option("--report", arguments->report, "Also write a report: FILE.html (charts) or FILE.md")->type_name("FILE");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->add_flag("--fit", arguments->fit, "Refit the parameters on the published figures and write them (no MODEL)");
  command->add_option("--fit-output", arguments->fit_output, "Where --fit writes (default src/estimate/fitted_parameters.json)")
      ->type_name("FILE");
  command->add_option("--models-root", arguments->models_root, "Folder holding models/ for --fit (default: the current one)")
      ->type_name("DIR");
  command->add_option("--shrinkage", arguments->shrinkage,
                      "--fit: pull of each target's parameters toward the shared prior (default: chosen among the candidates by leave-one-out)")
      ->type_name("X");
  command->add_option("--shrinkage-candidates", arguments->shrinkage_candidates,
                      "--fit: the grid the shrinkage is chosen on, by leave-one-out and again inside each nested fold (default 1,0.3,0.1,0.03)")
      ->delimiter(',')
      ->type_name("X,X,...");
  command->callback([arguments] { run_estimate(*arguments); });
}

}  // namespace npukit::cli
