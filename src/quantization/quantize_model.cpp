#include "quantization/quantize_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>

#include <onnx/onnx_pb.h>
#include <onnx/version_converter/convert.h>

#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "passes/batchnorm_folding.h"
#include "passes/constant_folding.h"
#include "passes/identity_elimination.h"
#include "preparation/model_preparation.h"
#include "quantization/calibration_data.h"
#include "quantization/calibration_run.h"
#include "quantization/full_range_values.h"
#include "quantization/output_grid_check.h"
#include "quantization/quantization_manifest.h"
#include "quantization/quantize.h"
#include "quantization/sixteen_bit_layers.h"
#include "vision/preprocessing_spec.h"
#include "ir/value_info.h"

namespace npukit::quantization {

namespace {

// Per-axis QuantizeLinear / DequantizeLinear arrived in opset 13.
constexpr int64_t kQdqOpset = 13;

struct GridBounds {
  int64_t minimum;
  int64_t maximum;
};

GridBounds grid_bounds(DType storage, bool narrow_range) {
  ir::QuantParams probe;
  probe.storage = storage;
  probe.narrow_range = narrow_range;
  probe.scales = {1.0f};
  return {probe.storage_min(), probe.storage_max()};
}


vision::PreprocessingSpec preprocessing_for(const std::string& text, const ir::Model& model) {
  const std::vector<ValueInfo> inputs = ir::declared_inputs(model);
  if (text.empty()) {
    // The default only means something for one picture input; .npy sources ignore it.
    if (inputs.size() == 1 && inputs[0].shape.size() == 4 && (inputs[0].shape[1] == 3 || inputs[0].shape[3] == 3)) {
      try {
        return vision::default_preprocessing_spec(inputs[0]);
      } catch (const Error&) {
        return {};
      }
    }
    return {};
  }
  vision::PreprocessingSpec spec = vision::parse_preprocessing_spec(text);
  if (inputs.size() == 1) spec = vision::resolve_preprocessing_spec(spec, inputs[0]);
  return spec;
}

// The model at opset 13 through libonnx's version converter (Clip's bounds become inputs, Softmax keeps its
// meaning through a Flatten / Reshape where needed, ...), prepared again. The converter needs the shapes the
// first preparation made static.
ir::Model raise_opset(const ir::Model& model, const preparation::PreparationOptions& options,
                      std::vector<std::string>& notes) {
  const int64_t from = model.opset();
  onnx::ModelProto proto = onnx_io::export_model(model);
  onnx::ModelProto converted;
  try {
    converted = onnx::version_conversion::ConvertVersion(proto, static_cast<int>(kQdqOpset));
  } catch (const std::exception& error) {
    throw Error(ErrorKind::unsupported,
                "the model's opset " + std::to_string(from) + " has no per-axis QuantizeLinear (opset 13), and "
                    "libonnx's version converter could not raise it: " + error.what() +
                    "; convert the model to opset 13 or later first, or give --per-tensor",
                model.source_path);
  }
  preparation::PreparedModel prepared =
      preparation::load_prepared_model_from_bytes(converted.SerializeAsString(), model.source_path, options);
  prepared.model.source_path = model.source_path;
  notes.push_back("opset raised from " + std::to_string(from) + " to " + std::to_string(kQdqOpset) +
                  " (libonnx version converter): per-axis QuantizeLinear / DequantizeLinear need opset 13");
  return std::move(prepared.model);
}

// Runs the asked algorithms of `stage`, timing each and keeping its outcome.
void run_algorithms(AlgorithmStage stage, AlgorithmContext& context, QuantizeResult& result) {
  for (const QuantizationAlgorithm* algorithm : context.options.algorithms) {
    if (algorithm->stage != stage) continue;
    const auto start = std::chrono::steady_clock::now();
    AlgorithmOutcome outcome = algorithm->apply(context);
    outcome.algorithm = algorithm->name;
    outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.algorithms.push_back(std::move(outcome));
  }
}

void note_pass(const passes::PassResult& result, std::vector<std::string>& notes) {
  if (result.rewrites > 0) notes.push_back(result.pass + ": " + std::to_string(result.rewrites) + " rewrite(s)");
}

// What ONNX up to opset 17 (npukit's libonnx) cannot write, refused before any calibration runs. Returns
// whether the activation points can be written (int16 activations cannot: the file then holds the weights only).
bool check_expressible(const QuantizationPlan& plan, const std::string& file) {
  bool activations_written = true;
  for (const PlannedPoint& point : plan.points) {
    if (point.role == PointRole::activation) {
      // 16-bit activations are written as com.microsoft Q / DQ (onnx/qdq_mapping.h); other grids are not.
      const bool sixteen_bit = point.storage == DType::i16 || point.storage == DType::u16;
      if (point.storage != DType::i8 && point.storage != DType::u8 && !sixteen_bit) activations_written = false;
      if (point.narrow_range) {
        throw Error(ErrorKind::unsupported,
                    "activation '" + point.value + "': the spec's narrow grid [-127, 127] cannot be stated by "
                    "QuantizeLinear (it saturates to [-128, 127]); give --activations int8",
                    file);
      }
    } else if (point.role == PointRole::weight) {
      // 4-bit grids go in an int8 / uint8 container (ONNX's INT4 type needs opset 21).
      const bool container = point.storage == DType::i8 || point.storage == DType::u8 || point.storage == DType::i4 ||
                             point.storage == DType::u4;
      if (!container) {
        throw Error(ErrorKind::unsupported,
                    "weight '" + point.value + "' would be " + std::string(dtype_name(point.storage)) +
                        ": DequantizeLinear of int16 needs ONNX opset 21, npukit's libonnx knows opsets up to 17; "
                        "give --weights int8 or int4",
                    file);
      }
    }
  }
  return activations_written;
}

// Whether `target` runs the grids --weights / --activations ask for. 16 bits (either kind): the target must run
// 16-bit layers at all (its profile lists int16, as --keep-int16 asks); a whole model on a grid the chip lacks would
// simulate arithmetic no board of it computes. 8 bits of the other signedness (--activations uint8 on an int8
// target) stay allowed: an asymmetric grid's zero point absorbs the offset, and ONNX Runtime runs both.
void check_target_runs_grids(const targets::TargetProfile& target, const QuantizationSettings& settings) {
  const auto sixteen_bits = [](targets::StorageGrid grid) {
    return grid == targets::StorageGrid::int16 || grid == targets::StorageGrid::uint16;
  };
  if (settings.activations && sixteen_bits(*settings.activations)) {
    require_sixteen_bit_activations(target, "--activations int16");
  }
  if (settings.weights && sixteen_bits(*settings.weights)) require_sixteen_bit_activations(target, "--weights int16");
  if (!settings.weights) return;
  const targets::StorageGrid grid = *settings.weights;
  if (grid != targets::StorageGrid::int4 && grid != targets::StorageGrid::uint4) return;
  if (target.numerics.weights.storage.value == grid) return;
  for (const std::string& dtype : target.dtypes) {
    if (dtype.find("int4") != std::string::npos) return;
  }
  std::string listed;
  for (const std::string& dtype : target.dtypes) listed += (listed.empty() ? "" : ", ") + dtype;
  throw Error(ErrorKind::invalid_argument,
              "target '" + target.id + "' does not run int4 weights (its profile lists " +
                  (listed.empty() ? std::string("no data types") : listed) +
                  "): give --weights int8, or a target whose profile lists int4 weights (npukit targets shows them; "
                  "e.g. hailo8, qualcomm-htp, jetson-orin-gpu, ax620a)");
}

}  // namespace

ir::QuantParams params_for_range(double minimum, double maximum, DType storage, bool narrow_range, bool symmetric) {
  const GridBounds grid = grid_bounds(storage, narrow_range);
  const double low = std::min(minimum, 0.0);
  const double high = std::max(maximum, 0.0);
  ir::QuantParams params;
  params.storage = storage;
  params.narrow_range = narrow_range;
  double scale = 0;
  int64_t zero_point = 0;
  if (symmetric) {
    const bool is_signed = grid.minimum < 0;
    scale = (is_signed ? std::max(-low, high) : high) / static_cast<double>(grid.maximum);
  } else {
    scale = (high - low) / static_cast<double>(grid.maximum - grid.minimum);
    if (scale > 0) {
      zero_point = static_cast<int64_t>(round_with(static_cast<double>(grid.minimum) - low / scale,
                                                   ir::RoundingMode::half_to_even));
      zero_point = std::clamp(zero_point, grid.minimum, grid.maximum);
    }
  }
  float stored = static_cast<float>(scale);
  // A value that was only ever zero (a dead channel) still needs a usable grid: any scale represents it.
  if (!(stored > 0) || !std::isfinite(stored)) {
    stored = 1.0f;
    zero_point = symmetric ? 0 : std::clamp<int64_t>(0, grid.minimum, grid.maximum);
  }
  params.scales = {stored};
  params.zero_points = {zero_point};
  return params;
}

ir::QuantParams weight_params(const Tensor& weight, DType storage, bool narrow_range, bool symmetric, int64_t axis,
                              int64_t group_size) {
  const std::vector<float> values = weight.to_float_vector();
  if (axis < 0) {
    double low = 0;
    double high = 0;
    for (float value : values) {
      low = std::min<double>(low, value);
      high = std::max<double>(high, value);
    }
    return params_for_range(low, high, storage, narrow_range, symmetric);
  }
  ir::QuantParams params;
  params.storage = storage;
  params.narrow_range = narrow_range;
  params.axis = axis;
  params.group_size = group_size;
  const Shape& shape = weight.shape();
  const size_t count = static_cast<size_t>(shape.at(static_cast<size_t>(axis)) * params.groups_per_channel(shape));
  std::vector<double> low(count, 0.0);
  std::vector<double> high(count, 0.0);
  for (size_t index = 0; index < values.size(); ++index) {
    const size_t slot = parameter_index(params, shape, static_cast<int64_t>(index));
    low[slot] = std::min<double>(low[slot], values[index]);
    high[slot] = std::max<double>(high[slot], values[index]);
  }
  for (size_t slot = 0; slot < count; ++slot) {
    const ir::QuantParams one = params_for_range(low[slot], high[slot], storage, narrow_range, symmetric);
    params.scales.push_back(one.scales[0]);
    params.zero_points.push_back(one.zero_points[0]);
  }
  if (group_size > 0) {
    // A group of zeros takes its channel's coarsest other scale rather than params_for_range's 1: the sim and a
    // target rescale every group sum onto the channel's coarsest group scale, and a stray 1 there would round the
    // channel's accumulator away (any scale represents zeros; ratio 1 changes nothing).
    const size_t groups = static_cast<size_t>(params.groups_per_channel(shape));
    for (size_t first = 0; first + groups <= count; first += groups) {
      float coarsest = 0;
      for (size_t slot = first; slot < first + groups; ++slot) {
        if (low[slot] != 0 || high[slot] != 0) coarsest = std::max(coarsest, params.scales[slot]);
      }
      if (coarsest <= 0) continue;  // the whole channel is zero: one scale of 1, as per channel
      for (size_t slot = first; slot < first + groups; ++slot) {
        if (low[slot] == 0 && high[slot] == 0) params.scales[slot] = coarsest;
      }
    }
  }
  return params;
}

std::vector<float> reference_weight_scales(const ir::QuantParams& weight, int64_t channels) {
  if (weight.scales.size() == 1) return weight.scales;
  if (weight.group_size <= 0) return weight.scales;
  if (channels <= 0 || weight.scales.size() % static_cast<size_t>(channels) != 0) {
    throw Error(ErrorKind::invalid_model, std::to_string(weight.scales.size()) + " group scales do not split into " +
                                              std::to_string(channels) + " channels");
  }
  const size_t groups = weight.scales.size() / static_cast<size_t>(channels);
  std::vector<float> reference(static_cast<size_t>(channels));
  for (size_t channel = 0; channel < reference.size(); ++channel) {
    reference[channel] = *std::max_element(weight.scales.begin() + static_cast<std::ptrdiff_t>(channel * groups),
                                            weight.scales.begin() + static_cast<std::ptrdiff_t>((channel + 1) * groups));
  }
  return reference;
}

ir::QuantParams bias_params(const ir::QuantParams& input, const ir::QuantParams& weight, DType storage,
                            int64_t bias_length) {
  ir::QuantParams params;
  params.storage = storage;
  const double input_scale = input.scales.at(0);
  if (weight.scales.size() == 1) {
    params.scales = {static_cast<float>(input_scale * weight.scales[0])};
    params.zero_points = {0};
    return params;
  }
  const std::vector<float> reference = reference_weight_scales(weight, bias_length);
  if (static_cast<int64_t>(reference.size()) != bias_length) {
    throw Error(ErrorKind::invalid_model, "a bias of " + std::to_string(bias_length) + " elements for a weight of " +
                                              std::to_string(weight.scales.size()) + " channels");
  }
  params.axis = 0;
  for (float weight_scale : reference) {
    params.scales.push_back(static_cast<float>(input_scale * weight_scale));
    params.zero_points.push_back(0);
  }
  return params;
}

int widen_weight_scales_for_bias(const Tensor& bias, const ir::QuantParams& input, ir::QuantParams& weight,
                                 int64_t bias_grid_maximum) {
  const std::vector<float> values = bias.to_float_vector();
  const double input_scale = input.scales.at(0);
  // A margin below the grid's end, so float rounding of s_x · s_w cannot push the largest element over it.
  const double limit = static_cast<double>(bias_grid_maximum) * 0.999;
  // Per group, the channel's accumulator is at its largest group scale: that one is widened.
  const size_t channels = weight.scales.size() == 1 ? 1 : values.size();
  const size_t groups = channels > 0 && weight.group_size > 0 ? weight.scales.size() / channels : 1;
  int widened = 0;
  for (size_t channel = 0; channel < channels; ++channel) {
    double largest = 0;
    for (size_t index = 0; index < values.size(); ++index) {
      if (channels == 1 || index == channel) largest = std::max(largest, std::fabs(static_cast<double>(values[index])));
    }
    const double needed = largest / (input_scale * limit);
    auto first = weight.scales.begin() + static_cast<std::ptrdiff_t>(channel * groups);
    auto coarsest = std::max_element(first, first + static_cast<std::ptrdiff_t>(groups));
    if (needed > *coarsest) {
      *coarsest = static_cast<float>(needed);
      ++widened;
    }
  }
  return widened;
}

QuantizeResult quantize_model(const std::string& model_path, const targets::TargetProfile& target,
                              const QuantizeOptions& options) {
  QuantizeResult result;
  result.model_path = model_path;
  result.target_id = target.id;
  result.spec = target.numerics;
  if (options.calibration.empty()) {
    throw Error(ErrorKind::invalid_argument,
                "quantize needs calibration data: give --calibration PATH (a .npy batch, a folder of .npy files, or a "
                "folder of pictures)");
  }

  // 1. Prepare at the given shapes; a dim left dynamic takes the first calibration sample's size.
  preparation::PreparationOptions preparation_options;
  preparation_options.input_shapes = options.input_shapes;
  preparation::PreparedModel prepared = preparation::load_prepared_model(model_path, preparation_options);
  if (!prepared.report.dynamic_inputs.empty()) {
    const vision::PreprocessingSpec preprocessing = preprocessing_for(options.preprocessing, prepared.model);
    std::unique_ptr<CalibrationSource> probe =
        open_calibration_source(options.calibration, ir::declared_inputs(prepared.model), preprocessing);
    if (probe->size() == 0) {
      throw Error(ErrorKind::invalid_argument, "calibration data " + options.calibration + " holds no sample");
    }
    const CalibrationSample first = probe->sample(0);
    for (const auto& [name, tensor] : first.inputs) preparation_options.data_shapes[name] = tensor.shape();
    prepared = preparation::load_prepared_model(model_path, preparation_options);
    result.notes.push_back("dynamic input dims fixed at the calibration data's shape (" + first.origin + ")");
  }
  preparation::require_static_inputs(prepared.model, "quantize");
  for (const std::string& note : prepared.report.notes) result.notes.push_back(note);
  ir::Model model = std::move(prepared.model);
  for (const ir::Value* input : model.graph->inputs) {
    if (!input->initializer) result.calibrated_input_shapes[input->name] = input->type.static_shape();
  }
  if (model.opset() < kQdqOpset) {
    preparation::PreparationOptions static_options;
    static_options.input_shapes = result.calibrated_input_shapes;
    model = raise_opset(model, static_options, result.notes);
  }

  // 2. Meaning-keeping passes that leave plain ONNX ops (no fused nodes: the file must run anywhere).
  note_pass(passes::fold_constants(model), result.notes);
  note_pass(passes::eliminate_identities(model), result.notes);
  note_pass(passes::fold_batchnorm_into_conv(model), result.notes);

  // 3. Placement.
  check_target_runs_grids(target, options.settings);
  const QuantizationPlan plan = plan_quantization_points(*model.graph, target.numerics, options.settings);
  const bool activations_written = check_expressible(plan, model_path);
  result.float_nodes = plan.float_nodes;
  result.notes.insert(result.notes.end(), plan.notes.begin(), plan.notes.end());
  if (!activations_written) {
    result.notes.push_back("activations on a grid QuantizeLinear cannot state before ONNX opset 21 (npukit's libonnx "
                           "knows opsets up to 17), so the file holds the weights' DequantizeLinear only (activations "
                           "and biases float, a weight-only model); the activations' parameters are in the manifest "
                           "(\"written\": false)");
  }
  size_t sixteen_bit_points = 0;
  for (const PlannedPoint& point : plan.points) {
    sixteen_bit_points += point.role == PointRole::activation && (point.storage == DType::i16 || point.storage == DType::u16);
  }
  if (sixteen_bit_points > 0) {
    result.notes.push_back(std::to_string(sixteen_bit_points) + " activation(s) on a 16-bit grid: written as com.microsoft "
                           "QuantizeLinear / DequantizeLinear (ONNX Runtime's contrib ops, what its own quantizer writes "
                           "for 16-bit QDQ; ONNX's own 16-bit Q / DQ need opset 21, beyond npukit's libonnx)");
  }

  const vision::PreprocessingSpec preprocessing = preprocessing_for(options.preprocessing, model);
  std::unique_ptr<CalibrationSource> source =
      open_calibration_source(options.calibration, ir::declared_inputs(model), preprocessing);
  result.calibration_description = source->describe();
  AlgorithmContext context{model, target, plan, options, *source, nullptr, nullptr, nullptr, options.algorithm_progress};
  run_algorithms(AlgorithmStage::before_calibration, context, result);

  // 4. Calibration.
  CalibrationRunOptions run_options;
  run_options.threads = options.threads;
  run_options.progress = options.progress;
  if (!options.preprocessing.empty()) run_options.declared_preprocessing = preprocessing;
  const std::vector<std::string> calibrated = plan.calibrated_values();
  CalibrationRunResult run = run_calibration(model, calibrated, *source, run_options);
  result.calibration_backend = run.backend;
  result.calibration_samples = run.samples;
  result.diagnostics = run.diagnostics;
  result.notes.insert(result.notes.end(), run.notes.begin(), run.notes.end());

  result.range_options.method = options.method;
  result.range_options.percentile = options.percentile;
  result.range_options.symmetric = target.numerics.activations.symmetric.value;
  std::map<std::string, Range> chosen;
  std::map<std::string, Range> group_range;
  // The values a graph output is read from keep their whole range under a clipping method (full_range_values.h).
  const std::set<std::string> full_range = options.method == RangeMethod::minmax
                                               ? std::set<std::string>{}
                                               : values_kept_at_full_range(*model.graph, plan);
  if (!full_range.empty()) {
    std::string names;
    for (const std::string& name : full_range) names += (names.empty() ? "" : ", ") + name;
    result.notes.push_back("kept at their full calibrated range (minmax), not " +
                           std::string(range_method_name(options.method)) + ": " + names +
                           " (a graph output is read from them: clipping the largest logit or the farthest box edge "
                           "changes the answer)");
  }
  for (const PlannedPoint& point : plan.points) {
    if (point.role != PointRole::activation) continue;
    const ValueHistogram& histogram = run.histograms.at(point.value);
    RangeOptions range_options = result.range_options;
    if (full_range.count(point.value)) range_options.method = RangeMethod::minmax;
    const GridBounds grid = grid_bounds(point.storage, point.narrow_range);
    range_options.quantized_levels = grid.maximum - grid.minimum + 1;
    Range range;
    if (histogram.finite_count() > 0) range = choose_range(histogram, range_options);
    chosen[point.value] = range;
    auto [entry, inserted] = group_range.try_emplace(point.scale_group, range);
    if (!inserted) {
      entry->second.minimum = std::min(entry->second.minimum, range.minimum);
      entry->second.maximum = std::max(entry->second.maximum, range.maximum);
    }
  }

  const std::vector<std::string> mixed_grids =
      mixed_output_grid_notes(plan, values_kept_at_full_range(*model.graph, plan), chosen);
  result.notes.insert(result.notes.end(), mixed_grids.begin(), mixed_grids.end());

  context.calibration_run = &run;
  context.group_ranges = &group_range;
  run_algorithms(AlgorithmStage::after_calibration, context, result);

  // 5-6. Parameters onto the graph.
  std::map<std::string, ir::QuantParams> assigned;
  for (const PlannedPoint& point : plan.points) {
    ir::Value* value = model.graph->find_value(point.value);
    QuantizedTensor record;
    record.value = point.value;
    record.role = point.role;
    record.node = point.node;
    record.op_type = point.op_type;
    if (point.role == PointRole::activation) {
      const Range range = group_range.at(point.scale_group);
      record.params = params_for_range(range.minimum, range.maximum, point.storage, point.narrow_range, point.symmetric);
      record.range_minimum = range.minimum;
      record.range_maximum = range.maximum;
      const ValueHistogram& histogram = run.histograms.at(point.value);
      record.observed_minimum = histogram.minimum();
      record.observed_maximum = histogram.maximum();
      record.scale_group = point.scale_group;
    } else if (point.role == PointRole::weight) {
      record.params = weight_params(*value->initializer, point.storage, point.narrow_range, point.symmetric, point.axis,
                                    point.group_size);
      record.groups_per_channel = record.params.groups_per_channel(value->initializer->shape());
      record.precision_reason = point.precision_reason;
      const std::vector<float> values = value->initializer->to_float_vector();
      if (!values.empty()) {
        record.observed_minimum = *std::min_element(values.begin(), values.end());
        record.observed_maximum = *std::max_element(values.begin(), values.end());
      }
      record.range_minimum = std::min(record.observed_minimum, 0.0);
      record.range_maximum = std::max(record.observed_maximum, 0.0);
    } else {
      const auto input = assigned.find(point.bias_input);
      const auto weight = assigned.find(point.bias_weight);
      if (input == assigned.end() || weight == assigned.end()) continue;  // a side stayed float: so does the bias
      if (!activations_written) continue;  // its input is float in the file: the bias stays float too
      // A bias that does not fit int32 at s_x · s_w (a nearly dead channel whose folded weights are tiny but whose
      // bias is not) would be clamped to nothing: widen that channel's weight scale until it fits, as ONNX
      // Runtime's quantizer does.
      const int widened = widen_weight_scales_for_bias(*value->initializer, input->second, weight->second,
                                                       grid_bounds(point.storage, false).maximum);
      if (widened > 0) {
        ir::Value* weight_value = model.graph->find_value(point.bias_weight);
        weight_value->quant = weight->second;
        for (QuantizedTensor& earlier : result.tensors) {
          if (earlier.value == point.bias_weight) earlier.params = weight->second;
        }
        result.notes.push_back("weight '" + point.bias_weight + "': " + std::to_string(widened) +
                               " channel scale(s) widened so that bias '" + point.value + "' fits int32 at s_x * s_w");
      }
      record.params = bias_params(input->second, weight->second, point.storage, value->initializer->element_count());
      const std::vector<float> values = value->initializer->to_float_vector();
      const GridBounds grid = grid_bounds(point.storage, false);
      for (size_t index = 0; index < values.size(); ++index) {
        const double scale = record.params.scales[record.params.scales.size() == 1 ? 0 : index];
        const double step = std::nearbyint(values[index] / scale);
        if (step < static_cast<double>(grid.minimum) || step > static_cast<double>(grid.maximum)) ++record.saturated;
        record.observed_minimum = index == 0 ? values[index] : std::min<double>(record.observed_minimum, values[index]);
        record.observed_maximum = index == 0 ? values[index] : std::max<double>(record.observed_maximum, values[index]);
      }
      record.range_minimum = record.observed_minimum;
      record.range_maximum = record.observed_maximum;
      if (record.saturated > 0) {
        result.notes.push_back("bias '" + point.value + "': " + std::to_string(record.saturated) +
                               " element(s) beyond the int32 grid at s_x * s_w were clamped");
      }
    }
    record.params.rounding = target.numerics.quantize_rounding.value;
    if (point.role == PointRole::activation) record.params.rounding = ir::RoundingMode::half_to_even;
    record.params.validate(value->initializer ? std::optional(value->initializer->shape()) : ir::static_dims_of(value),
                           "'" + point.value + "'");
    assigned[point.value] = record.params;
    record.written = activations_written || point.role != PointRole::activation;
    if (record.written) value->quant = record.params;
    result.tensors.push_back(std::move(record));
  }
  context.group_ranges = nullptr;
  context.tensors = &result.tensors;
  run_algorithms(AlgorithmStage::after_parameters, context, result);
  if (target.numerics.quantize_rounding.value != ir::RoundingMode::half_to_even) {
    result.notes.push_back("the target rounds " + std::string(ir::rounding_mode_name(target.numerics.quantize_rounding.value)) +
                           ": weights are stored so; activations are written half to even, the only rounding "
                           "QuantizeLinear has (the sim backend applies the target's)");
  }
  result.model = std::move(model);
  return result;
}

namespace {

void write_through_temporary(const std::string& path, const std::string& bytes) {
  const std::string temporary = path + ".partial";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) throw Error(ErrorKind::io, "cannot write " + temporary + ": check the folder exists and is writable");
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.close();
    if (!file) {
      std::remove(temporary.c_str());
      throw Error(ErrorKind::io, "writing " + temporary + " failed (disk full?)");
    }
  }
}

void rename_into_place(const std::string& path) {
  const std::string temporary = path + ".partial";
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw Error(ErrorKind::io, "cannot rename " + temporary + " to " + path);
  }
}

}  // namespace

std::string write_quantized_model(const QuantizeResult& result, const std::string& output_path) {
  std::string manifest_path = output_path;
  if (manifest_path.size() > 5 && manifest_path.substr(manifest_path.size() - 5) == ".onnx") {
    manifest_path.resize(manifest_path.size() - 5);
  }
  manifest_path += ".quant.json";
  // Serialize both before writing either, so an export error leaves nothing behind.
  const std::string model_bytes = onnx_io::serialize_model(result.model);
  const std::string manifest = manifest_json(result);
  write_through_temporary(output_path, model_bytes);
  try {
    write_through_temporary(manifest_path, manifest);
  } catch (...) {
    std::remove((output_path + ".partial").c_str());
    throw;
  }
  rename_into_place(output_path);
  rename_into_place(manifest_path);
  return manifest_path;
}

}  // namespace npukit::quantization
