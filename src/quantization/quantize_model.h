// `npukit quantize`: a float ONNX model, a target's numerics spec and calibration data in, a QDQ model out.
//
//   1. prepare the model (preparation/model_preparation.h) at --input-shape or, for dynamic dims, at the shape
//      of the first calibration sample; raise an opset below 13 to 13 with libonnx's version converter
//      (per-axis QuantizeLinear / DequantizeLinear need 13);
//   2. the meaning-keeping passes: fold constants, drop identities, fold BatchNormalization into its Conv;
//   3. place the quantization points (quantization_points.h);
//   4. run the model over the calibration data (calibration_run.h) and choose every activation's range with
//      the method asked for (range_selection.h); members of a scale group take the union of their ranges;
//   5. weights: per-channel (or per-tensor) minimum / maximum; bias: int32 at s_x · s_w;
//   6. the parameters go onto the graph's float values (ir::Value::quant), which the ONNX export writes as Q/DQ.
// The --algorithm list runs at its stages: before step 4, between 4 and 5, after 6 (quantization_algorithm.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantization/calibration_diagnostics.h"
#include "quantization/quantization_algorithm.h"
#include "quantization/quantization_points.h"
#include "quantization/range_selection.h"
#include "targets/target_profile.h"

namespace npukit::quantization {

struct QuantizeOptions {
  std::string calibration;                              // --calibration PATH
  std::string preprocessing;                            // --preprocess SPEC ("" = the model's default)
  std::map<std::string, std::vector<int64_t>> input_shapes;  // --input-shape
  RangeMethod method = RangeMethod::percentile;
  double percentile = 99.99;
  QuantizationSettings settings;
  int threads = 1;
  std::function<void(size_t, size_t)> progress;         // calibration samples done / total
  // --algorithm: run at their stages (quantization_algorithm.h), in registry order.
  std::vector<const QuantizationAlgorithm*> algorithms;
  std::function<void(size_t, size_t, const std::string&)> algorithm_progress;  // (done, total, what)
  // adaround, block-reconstruction: Adam iterations per layer or block (--adaround-iterations; 0: the default),
  // calibration samples they learn on (--adaround-samples; 0: the default), and the wall time they may take
  // together (--time-budget SECONDS; 0: no limit).
  int adaround_iterations = 0;
  size_t adaround_samples = 0;
  double time_budget_seconds = 0;
  size_t sensitivity_samples = 4;  // --sensitivity-samples: calibration samples the sensitivity analysis runs
};

// One quantized tensor, as the manifest and the table show it.
struct QuantizedTensor {
  std::string value;
  PointRole role = PointRole::activation;
  std::string node;
  std::string op_type;
  ir::QuantParams params;
  double range_minimum = 0;  // the clip range the parameters were made from (union over the scale group)
  double range_maximum = 0;
  double observed_minimum = 0;  // activations: what calibration saw; weights: the tensor's own extremes
  double observed_maximum = 0;
  std::string scale_group;      // activations: the group whose range it shares
  int64_t saturated = 0;        // bias: elements that did not fit the int32 grid and were clamped
  // False when the QDQ file cannot state the point (an activation grid other than 8 or 16 bits before ONNX opset
  // 21; 16-bit ones are written as com.microsoft Q / DQ): the value stays float in the file and the parameters are
  // only in the manifest.
  bool written = true;
  int64_t groups_per_channel = 1;  // weights per group: groups of each channel (the scales are [channels, groups])
  std::string precision_reason;    // weights: why the grid differs from the one asked (--int4-min-inputs), or ""
};

struct QuantizeResult {
  ir::Model model;                                   // with QuantParams on every point
  std::string model_path;
  std::string target_id;
  targets::NumericsSpec spec;
  RangeOptions range_options;
  std::string calibration_description;
  std::string calibration_backend;
  size_t calibration_samples = 0;
  std::map<std::string, std::vector<int64_t>> calibrated_input_shapes;
  std::vector<QuantizedTensor> tensors;              // activations (graph order), weights, biases
  std::vector<FloatNode> float_nodes;
  std::vector<CalibrationDiagnostic> diagnostics;
  std::vector<std::string> notes;                    // preparation, opset, passes, fallbacks, saturation
  std::vector<AlgorithmOutcome> algorithms;          // what each --algorithm did, in the order they ran
};

// Parameters for a clip range on a grid: asymmetric scale = (max - min) / (qmax - qmin) and a zero point
// rounded half to even into the grid; symmetric scale = max |x| / qmax with zero point 0 (an unsigned
// symmetric grid keeps [0, max]). A range of only zero gets scale 1. The range is widened to contain 0 first.
ir::QuantParams params_for_range(double minimum, double maximum, DType storage, bool narrow_range, bool symmetric);

// Per-channel (axis >= 0), per-group (axis >= 0 and group_size > 0: groups within each channel, ir/quant_params.h)
// or per-tensor parameters from a float weight's own minimum and maximum.
ir::QuantParams weight_params(const Tensor& weight, DType storage, bool narrow_range, bool symmetric, int64_t axis,
                              int64_t group_size = 0);

// The scale of each output channel's accumulator, s_x · reference_weight_scales(w)[m]: the weight's scale per
// channel (or per tensor); per group, the largest group scale of the channel (its coarsest grid).
std::vector<float> reference_weight_scales(const ir::QuantParams& weight, int64_t channels);

// The bias grid: scale s_x · s_w (per channel when the weight is; per group, the channel's largest group scale:
// reference_weight_scales), zero point 0.
ir::QuantParams bias_params(const ir::QuantParams& input, const ir::QuantParams& weight, DType storage,
                            int64_t bias_length);

// Raises the scale of every weight channel whose bias element would not fit the bias grid (maximum
// `bias_grid_maximum`) at s_x · s_w, keeping its zero point (the weights then use less of their grid). Returns how
// many channel scales changed.
int widen_weight_scales_for_bias(const Tensor& bias, const ir::QuantParams& input, ir::QuantParams& weight,
                                 int64_t bias_grid_maximum);

// Steps 1 to 6. Throws npukit::Error naming the file, the value or the sample for anything the user can fix.
QuantizeResult quantize_model(const std::string& model_path, const targets::TargetProfile& target,
                              const QuantizeOptions& options);

// Writes OUT.onnx and OUT.quant.json (quantization_manifest.h) through temporary files renamed into place, so a
// failure leaves neither half written. Returns the manifest's path.
std::string write_quantized_model(const QuantizeResult& result, const std::string& output_path);

}  // namespace npukit::quantization
