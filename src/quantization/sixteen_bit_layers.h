// 16-bit layers in a mixed precision (`npukit quantize --keep-int16 N`, issue 11 §6): which targets run them, and
// how a plan puts a layer's activations on the 16-bit grid.
//
// A 16-bit layer here is what Hailo calls a16_w8 and Qualcomm's HTP a16w8: its activations (the values its nodes
// read and write) on a 16-bit grid, its weights on the target's usual grid (int8). The 16-bit grid has the
// signedness of the target's activations: int8 → int16, uint8 → uint16 (Hailo's activations are unsigned:
// uint8, or uint16 in its a16 modes). Values that share a scale group (a Concat and its inputs, a MaxPool and
// its input) share the grid too, so a shared-scale op still needs no requantization; a neighbour layer that reads
// a 16-bit value computes with a 16-bit input and requantizes to its own grid in its output stage (in the QDQ
// file: the DQ of the 16-bit value feeds it, its own Q writes 8 bits).
//
// The arithmetic: the same integer kernels as 8-bit layers (runtime/kernels/integer): products of the centred
// 16-bit input and 8-bit weights summed in an int32 accumulator (an overflow is an error naming the value, never a
// wrap), the target's requantization (its multiplier width and rounding), the 16-bit clamp. No source states a
// target's accumulator width for 16-bit layers: "unknown - assumed int32, as for 8-bit layers" (TFLite's own
// 16x8 reference kernels accumulate in int64; a layer whose int32 sum overflows is reported, see the docs).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantization/quantization_points.h"
#include "targets/target_profile.h"

namespace npukit::quantization {

// The 16-bit activation grid `target` runs, or nullopt with `why` set to what its profile lists. A target runs
// 16-bit layers when its profile's data types name int16 (hailo8, hailo8l: a16_w8 / a16_w16; qualcomm-htp: a16w8;
// a311d, ax620a, esp32s3); rk3588 / rk3566 list int8 and float16 only (rknn-toolkit2 exposes w8a8 and fp16).
std::optional<targets::StorageGrid> sixteen_bit_activation_grid(const targets::TargetProfile& target, std::string& why);

// As above, but Error(invalid_argument) naming the target and what its profile lists when it has no 16-bit layers.
targets::StorageGrid require_sixteen_bit_activations(const targets::TargetProfile& target, const std::string& option);

// Puts the activation points that `nodes` read or write (and their scale groups) on the 16-bit grid of the
// activations' signedness. Error(invalid_argument) for a name that is no node of `graph`.
void widen_to_sixteen_bits(const ir::Graph& graph, const std::vector<std::string>& nodes, QuantizationPlan& plan);

}  // namespace npukit::quantization
