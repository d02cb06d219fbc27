// ir::QuantParams ⇄ ONNX QuantizeLinear / DequantizeLinear.
//
// Import (attach_qdq_params): every QuantizeLinear and DequantizeLinear whose scale (and zero point) are
// constants gives its integer value its parameters: the output of a Q, the input of a DQ (so the value between
// a Q and its DQ gets them, and an integer weight initializer a DQ reads is marked). The nodes stay in the
// graph: the runtime executes them as ONNX defines. A Q or DQ whose scale is computed at run time is left
// without parameters (nothing constant to record).
//
// Export (plan_qdq_export + write_qdq_nodes): a float value with parameters is a quantization point; it is
// written as a Q → DQ pair (an activation) or as an integer initializer read through a DQ (a float weight,
// quantized here with the parameters' rounding). Integer values need nothing: their Q/DQ nodes are in the
// graph already, so import → export → import gives the same graph and parameters.
//
// 16-bit grids (int16 / uint16): ONNX's own QuantizeLinear takes them from opset 21 only, beyond npukit's libonnx
// (opsets up to 17). ONNX Runtime has them in its contrib domain: com.microsoft QuantizeLinear / DequantizeLinear,
// the ONNX semantics (round half to even, saturate) over int8 / uint8 / int16 / uint16 / int32, which is what
// ORT's own quantizer writes for 16-bit QDQ (its `UseQDQContribOps` option). So a 16-bit point is written as a
// com.microsoft Q / DQ pair (and an opset import of com.microsoft version 1), and the import reads such a pair as
// the ONNX op in the default domain: inside npukit one Q / DQ whatever the bit width.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "ir/graph.h"

namespace npukit::onnx_io {

// Throws Error(invalid_model) naming the node for constant parameters that are unusable (a scale that is not
// finite and > 0, a per-axis scale count that does not match the axis, an axis outside the rank).
void attach_qdq_params(ir::Graph& graph, int64_t opset);

// ONNX Runtime's contrib domain, where 16-bit QuantizeLinear / DequantizeLinear live before opset 21.
inline constexpr const char* kContribDomain = "com.microsoft";
// True for a 16-bit grid, written through kContribDomain.
bool is_sixteen_bit_grid(DType storage);
// The domain a node of the file is read in: com.microsoft QuantizeLinear / DequantizeLinear become the default
// domain's (same semantics, wider types); any other domain is kept.
std::string imported_qdq_domain(const std::string& op_type, const std::string& domain);
// The domain a default-domain node is written in: a QuantizeLinear / DequantizeLinear whose integer side is 16-bit
// goes to kContribDomain (what ORT reads before opset 21); everything else keeps its domain.
std::string exported_qdq_domain(const ir::Node& node);

// One float value written as Q/DQ.
struct QdqPoint {
  const ir::Value* value = nullptr;
  bool is_weight = false;           // an initializer: stored quantized, no QuantizeLinear
  std::string quantized_name;       // the integer tensor (Q output or the quantized initializer)
  std::string scale_name;
  std::string zero_point_name;
  std::string quantize_input;       // what the Q reads (activations)
  std::string dequantized_name;     // what the DQ writes (per group: what the final Reshape writes)
  // Per-group weights (opset 13 has no block_size): the integer tensor regrouped so each group is one row,
  // DequantizeLinear at scale 1 (exactly the integers), Sub of the group zero points (asymmetric only), Mul by
  // the group scales (one rounding: exactly DequantizeLinear's (q - z) * s), Reshape back to the weight's shape.
  bool per_group = false;
  Shape grouped_shape;              // [C, G, group] (channel axis 0) or [G, group, N] (a [K, N] weight, axis 1)
  Shape group_parameter_shape;      // [C, G, 1] or [G, 1, N]
  std::string group_scales_name;
  std::string group_zero_points_name;
  std::string weight_shape_name;
  std::string integers_name;        // the DequantizeLinear's output (float integers)
  std::string centred_name;         // the Sub's output
  std::string scaled_name;          // the Mul's output
  // A short last group (group size not dividing the inputs): the grouped tensor is padded with zeros, and after
  // the Mul a Reshape to [C, G * group] ([G * group, N]) and a Slice to the inputs drop the padding.
  int64_t inputs = 0;               // inputs per channel (K)
  std::string flat_shape_name;
  std::string flat_name;
  std::string slice_starts_name;
  std::string slice_ends_name;
  std::string slice_axes_name;
  std::string sliced_name;
};

struct QdqExportPlan {
  std::vector<QdqPoint> points;
  std::map<std::string, std::string> producer_output_names;  // node output renamed so the DQ can take its name
  std::map<std::string, std::string> consumer_input_names;   // node input renamed to the DQ's output (graph inputs)
  std::map<const ir::Value*, const QdqPoint*> by_value;
};

// Checks every quantization point against what ONNX at `opset` (with libonnx 1.12) can express and names the
// value when it cannot: per-group activations, per-group weights whose groups are not whole rows of a channel's
// inputs (block_size: opset 21), int16 / uint16 / 4-bit activations (opset 21),
// per axis below opset 13, a rounding other than half to even on an activation (QuantizeLinear rounds half to
// even), a point inside a subgraph.
QdqExportPlan plan_qdq_export(const ir::Graph& graph, int64_t opset);

// Writes the scale / zero-point initializers, the quantized weight or the QuantizeLinear, and the
// DequantizeLinear of one point.
void write_qdq_nodes(const QdqPoint& point, onnx::GraphProto& proto);

// Any float value with parameters in `graph` (for the subgraph check).
bool has_quantization_points(const ir::Graph& graph);

}  // namespace npukit::onnx_io
