// The estimator's data: the facts a target profile lacks (assumptions, each with its reason), the published
// (model, board, latency) points it is fitted on, and the fitted parameters with their error band. Inputs are
// hand-written in src/estimate/estimator_inputs.json; fitted_parameters.json is written by `npukit estimate --fit`
// (src/estimate/parameter_fit.h). Both are embedded in the binary.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "targets/target_profile.h"

namespace npukit::estimate {

// One number the estimate uses, and where it comes from: the target profile (with its source) or an assumption
// (with the reason). Printed with every estimate so no figure is a hidden guess.
struct Figure {
  double value = 0;
  bool assumed = false;
  std::string origin;  // "profile (source)" or the assumption's reason
};

// Every hardware fact of one target the latency model reads, resolved: the profile first, the assumption when the
// profile does not have it.
struct TargetFacts {
  std::string target_id;
  Figure tops_int8;             // peak INT8 TOPS of the whole device (all cores)
  Figure dense_share_of_tops{1, false, "the TOPS figure is dense INT8"};  // the share of that figure dense INT8 reaches (0.5 when the TOPS is a sparse figure)
  Figure cores_in_tops;         // how many cores that TOPS covers
  Figure cores_used;            // how many the estimate runs on
  Figure on_chip_bytes;         // SRAM the accelerator can keep tensors or weights in (0: none / unknown)
  Figure dram_bytes_per_second; // 0: no DRAM on the accelerator's side
  Figure link_bytes_per_second; // 0: on-SoC (transfers go through shared memory)
  Figure link_efficiency;
  Figure link_latency_seconds;
  Figure on_soc_transfer_seconds;
  Figure channel_alignment;
  Figure bytes_per_element;
  Figure cpu_slowdown_vs_host;  // board fallback-device time / this host's cpu-backend time
  Figure slow_path_efficiency;  // a node off the accelerator's optimized path, relative to on it
  bool pipelined = false;       // dataflow chip: layers overlap, the figure is time per frame at throughput
  std::string pipelined_reason;
  bool stream_weights_over_link = false;  // weights beyond on-chip memory cross the link every inference
  bool on_soc = true;
  // The architecture family (estimator_inputs.json "architecture_families"): targets of one family share a fitted
  // depthwise efficiency, since how a depthwise convolution maps onto the hardware depends on the kind of array
  // (dataflow fabric, systolic array, MAC-array NPU cores), not on the board. Empty: unlisted, the global value.
  std::string family;
  std::string family_reason;
  std::string link_name;        // the profile's link text
  std::vector<std::string> missing;  // facts neither profile nor assumptions give (the estimate is unknown then)

  double peak_macs_per_second() const;  // of the cores used: dense tops / 2 ops per MAC, per core × cores used
};

struct CalibrationPoint {
  std::string target;
  std::string model;                  // path relative to the repository root
  std::vector<int64_t> input_shape;   // empty: the model's own
  std::string published_model;
  double milliseconds = 0;
  std::string basis;                  // "latency" or "throughput" (1000 / FPS)
  int parallel_instances = 1;         // throughput over N independent instances (2 DLAs)
  int batch = 1;                      // images per call in the published run: per-call costs are shared by them
  std::string source;
  std::string derived;                // how `milliseconds` was derived from the published figures, when it is not one of
                                      // them (Hailo-8L: one-context frame time from its batch-1 and batch-8 FPS)
  bool held_out = false;              // role "held_out": predicted and reported, never fitted
  std::string held_out_reason;
};

struct LeftOutPoint {
  std::string target, published_model, reason;
};

struct EstimatorInputs {
  // target id ("default" for all) -> fact name -> (value, reason)
  std::map<std::string, std::map<std::string, std::pair<double, std::string>>> assumptions;
  // target id -> (architecture family, why the target belongs to it)
  std::map<std::string, std::pair<std::string, std::string>> families;
  std::vector<CalibrationPoint> points;
  std::vector<LeftOutPoint> left_out;
};

// The free parameters of the latency model (src/estimate/latency_model.h says how each is used).
struct ModelParameters {
  double efficiency = 0.4;                // share of peak MAC/s a dense convolution reaches
  double layer_overhead_seconds = 20e-6;  // fixed cost per layer on the accelerator
  double depthwise_efficiency = 0.25;     // depthwise convolution relative to dense
  double other_op_efficiency = 0.25;      // elementwise / pooling ops per second, relative to MAC/s
  double invoke_overhead_seconds = 100e-6;// fixed cost per accelerator segment (one runtime call)
};

// How far predictions are from published figures: |predicted - published| / published, and the worst ratio
// max(predicted/published, published/predicted).
struct ErrorSummary {
  size_t count = 0;
  double median_error = 0;
  double max_ratio = 1;
  double min_signed_log = 0;  // log(published / predicted), smallest and largest: the band's ends
  double max_signed_log = 0;
};

struct PointResult {
  CalibrationPoint point;
  double fitted_milliseconds = 0;        // with parameters fitted on every point
  double leave_one_out_milliseconds = 0; // with parameters fitted on all the other points
  double nested_leave_one_out_milliseconds = 0;  // the same, shrinkage chosen without this point (0: not computed)
  std::string bottleneck;
};

struct FittedParameters {
  bool present = false;                        // false: no fit yet (a fresh checkout before --fit)
  ModelParameters shared;                      // global parameters; efficiency and overhead are the prior
  std::map<std::string, ModelParameters> per_target;  // targets with published points
  std::map<std::string, double> family_depthwise_efficiency;  // architecture family -> its fitted depthwise efficiency
  std::map<std::string, size_t> points_per_target;
  double shrinkage = 0;
  ErrorSummary fit_error;
  ErrorSummary leave_one_out_error;
  std::map<std::string, ErrorSummary> leave_one_out_by_target;
  // Nested leave-one-out: for each point, the shrinkage is chosen among the candidates by a leave-one-out inside the
  // other points only, then the point is predicted by a fit on the others with that choice. Unlike the figure
  // above (whose shrinkage was chosen seeing every point), it is not optimistic. Empty (count 0) when not computed.
  ErrorSummary nested_leave_one_out_error;
  std::vector<double> shrinkage_candidates;
  std::map<std::string, size_t> nested_choices;  // shrinkage (as printed) -> how many folds chose it
  std::vector<PointResult> points;
  std::vector<PointResult> held_out_points;    // predicted by the fit on every fitted point, not in the errors above
  std::vector<std::string> excluded;           // points that could not be evaluated (model missing), with why
  std::string provenance;

  // The parameters for a target: its own when it had points, else the shared prior (with its family's depthwise
  // efficiency when the family had points).
  ModelParameters for_target(const std::string& target_id, const std::string& family = "") const;
};

EstimatorInputs parse_estimator_inputs(std::string_view json_text, const std::string& file);
FittedParameters parse_fitted_parameters(std::string_view json_text, const std::string& file);
std::string fitted_parameters_json(const FittedParameters& fitted);  // the inverse, as the fit writes it

const EstimatorInputs& builtin_estimator_inputs();
const FittedParameters& builtin_fitted_parameters();

TargetFacts resolve_target_facts(const targets::TargetProfile& profile, const EstimatorInputs& inputs);

ErrorSummary summarize_errors(const std::vector<std::pair<double, double>>& predicted_published);

}  // namespace npukit::estimate
