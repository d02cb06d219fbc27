// A target's integer arithmetic as data: the `numerics` section of a profile (schema: docs/targets.md), in the
// one typed form code computes with (the quantizer places and sizes quantization points with it, the integer
// reference and the sim backend run it).
//
// Every fact says where it comes from: `known` with the citation of the vendor's or a reference
// implementation's own statement, or not known with why, in which case `value` is the assumption npukit makes
// and reports make that visible ("unknown - assumed half_to_even").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ir/quant_params.h"

namespace npukit::targets {

// Where one fact comes from.
struct Provenance {
  bool known = false;
  std::string source;  // known: the citation; otherwise why the sources are silent
};

template <typename T>
struct Stated {
  T value{};
  Provenance provenance;
  // "half_to_even" or "unknown - assumed half_to_even": what a report prints.
  std::string display(std::string_view value_text) const {
    return provenance.known ? std::string(value_text) : "unknown - assumed " + std::string(value_text);
  }
};

// The grid a tensor kind is stored on.
enum class StorageGrid { int8, int8_narrow, uint8, int16, uint16, int4, uint4, int32 };
std::string_view storage_grid_name(StorageGrid grid);  // "int8", "int8_narrow", ...
// The storage type and narrow flag of ir::QuantParams for a grid.
DType storage_dtype(StorageGrid grid);
bool storage_is_narrow(StorageGrid grid);

// How an int32 accumulator is brought to the output's scale (quant_anchors.md §3.2).
enum class Requantization {
  float_scale,                  // acc * (float) M, round half to even, + zp (ONNX Runtime MLAS)
  fixed_point_double_rounding,  // SaturatingRoundingDoublingHighMul + RoundingDivideByPOT (gemmlowp, TFLite reference)
  fixed_point_single_rounding,  // (acc * q + 2^(s-1)) >> s, one rounding (TFLite with TFLITE_SINGLE_ROUNDING)
  fixed_point_upward,           // TVM QNN rounding="UPWARD": ties toward +infinity
  fixed_point_to_nearest,       // TVM QNN rounding="TONEAREST": ties away from zero
  power_of_two,                 // scales are powers of two: a rounding shift only
};
std::string_view requantization_name(Requantization requantization);

// Weights, activations: the grid and how scales are shared.
struct TensorNumerics {
  Stated<StorageGrid> storage;
  Stated<ir::QuantGranularity> granularity;
  Stated<int64_t> channel_axis;   // per channel / per group: the axis of an ONNX Conv / MatMul weight; -1 otherwise
  Stated<int64_t> group_size;     // per group only; 0 otherwise
  Stated<bool> symmetric;         // zero point fixed at 0 (for uint8: at 128 is not symmetric here)
};

struct NumericsSpec {
  bool present = false;  // false: the profile has no `numerics` section (a user's --target-file may omit it)
  TensorNumerics weights;
  TensorNumerics activations;
  Stated<StorageGrid> bias_storage;              // the bias is stored at scale s_x * s_w, zero point 0
  Stated<ir::RoundingMode> quantize_rounding;    // of x / s when quantizing
  Stated<ir::ClampOrder> clamp_order;
  Stated<Requantization> requantization;
  Stated<int64_t> multiplier_bits;               // fixed-point multiplier width (31 in TFLite / TVM); 0 for float_scale
  Stated<bool> fused_activation_clamp;           // Relu / Relu6 / Clip after a Conv become the output's clamp bounds
  Stated<std::vector<std::string>> fused_activations;   // the ops folded that way
  Stated<std::vector<std::string>> shared_scale_ops;    // the output keeps its input's scale and zero point
  Stated<std::vector<std::string>> requantizing_ops;    // inputs of different scales are rescaled to the output's
  Stated<std::vector<std::string>> lookup_table_ops;    // nonlinearities computed as a table over the input grid
  // Op sequences the target runs as one layer: the tensors inside a group are never quantized.
  Stated<std::vector<std::vector<std::string>>> fusion_groups;
};

// Parses the `numerics` section (`section_json`, the JSON text of that object) of profile `file`, resolving
// `source` keys against the profile's own `sources` and the section's `sources`. Throws Error(invalid_model)
// naming the file and the field: "rk3588.json: field 'numerics.weights.storage.value': expected one of ...".
NumericsSpec parse_numerics_spec(std::string_view section_json, const std::map<std::string, std::string>& profile_sources,
                                 const std::string& file);

// One line per fact for reports: ("weights", "int8 per_channel(axis 0) symmetric"), ...
std::vector<std::pair<std::string, std::string>> summarize(const NumericsSpec& spec);

}  // namespace npukit::targets
