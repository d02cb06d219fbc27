// The QDQ groups the cpu pass list turns into integer operators (passes/qdq_integer_fusion.h): each a pattern of
// DequantizeLinear → op [→ Relu / Clip] → QuantizeLinear that ONNX Runtime's QDQ transformers rewrite into one of
// their QLinear kernels, or whose DQ / Q pair they drop. Matching only reads the graph; the rewriting lives in
// qdq_integer_fusion.cpp. A match returns nothing where ORT would keep the float path (then so does npukit).
#pragma once

#include <cfloat>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::passes::qdq_groups {

// Whether `node` is the ONNX-domain op `op_type` (a null node is not).
bool is_standard(const ir::Node* node, const char* op_type);

// One side of a QuantizeLinear / DequantizeLinear: the integer value, its scale and zero point (a constant
// of the integer's type; created as 0 when the node leaves it out).
struct QuantizedSide {
  ir::Node* node = nullptr;
  ir::Value* integer = nullptr;
  ir::Value* scale = nullptr;
  ir::Value* zero_point = nullptr;  // null: absent (0)
  DType type = DType::undefined;
};

// A new scalar 0 of `type` named after `base`: the zero point a Q / DQ left out, made explicit for a fused node.
ir::Value* zero_point_constant(ir::Graph& graph, const std::string& base, DType type);

struct Group {
  ir::Node* op = nullptr;
  QuantizedSide input, weights, output;
  ir::Value* bias = nullptr;        // int32 constant (Conv only)
  std::vector<ir::Node*> swallowed; // Relu / Clip, then the QuantizeLinear
};

std::optional<Group> match_group(const ir::Model& model, ir::Node* op, const std::set<std::string>& protected_names);

// DQ(a) → Gemm(a, DQ(w), DQ(bias)) → Q(y): ORT's QGemm (GemmReplaceWithQuant), here as a 1x1 QLinearConv between two
// Reshapes. QGemm's arithmetic is QLinearConv's: the exact int32 sum of (a - z_a) · w, plus the int32 bias, times
// float(alpha · s_a · s_w[n]) / s_y (alpha = 1: float(s_a · s_w[n]) / s_y, QLinearConv's multiplier), rounded half to
// even, + z_y. Matched: a 2-D, transA = 0, transB = 1 (w as [N, K], per tensor or per output row), alpha = beta = 1,
// a bias of N int32 values or none, a Relu / Clip only where Q's clamp absorbs it, Q per tensor of a's type.
struct GemmGroup {
  ir::Node* op = nullptr;
  QuantizedSide input, weights, output;
  ir::Value* bias = nullptr;
  ir::Node* activation = nullptr;
};

std::optional<GemmGroup> match_gemm_group(const ir::Model& model, ir::Node* op,
                                          const std::set<std::string>& protected_names);

// DQ(a) + DQ(b) → Add → Q(c), every side per tensor and of one 8-bit type, a and b of one static shape (the
// cpu QLinearAdd kernel is elementwise; ORT's broadcasting cases stay float here).
struct BinaryGroup {
  ir::Node* op = nullptr;
  QuantizedSide first, second, output;
  ir::Node* activation = nullptr;  // a Relu / Clip that Q's clamp makes a no-op (ORT's ReluQuantFusion)
};

std::optional<BinaryGroup> match_binary_group(const ir::Model& model, ir::Node* op,
                                              const std::set<std::string>& protected_names);

// DQ(x) → GlobalAveragePool → Q(y), per tensor, one 8-bit type, x 4-D of static shape with a scale ORT's
// kernel accepts: s_x / (s_y · H · W) in [2^-32, 256), H · W < 2^24 (else ORT throws; the float path stays).
struct UnaryGroup {
  ir::Node* op = nullptr;
  QuantizedSide input, output;
};

std::optional<UnaryGroup> match_global_average_pool(ir::Node* op, const std::set<std::string>& protected_names);

// DQ(x) → Sigmoid → Q(y), per tensor, one 8-bit type (ORT's UnaryReplaceWithQLinear: QLinearSigmoid).
std::optional<UnaryGroup> match_sigmoid(ir::Node* op, const std::set<std::string>& protected_names);

// DQ(x) [→ Transpose] → Softmax → Q(y), per tensor, u8: ORT's QLinearSoftmax (UnaryReplaceWithQLinear).
// A Transpose between the DQ and the Softmax is no obstacle there: ORT's QDQ propagation carries the DQ past it
// (the Transpose then moves bytes, Q(DQ(k)) = k) and its transpose optimizer folds it into the softmax's axis;
// here the Transpose runs on the bytes and QLinearSoftmax reads them in that order (the same rows, in the same
// order along the axis, so the same sums). ORT's integer softmax is not the float one quantized
// (runtime/kernels/cpu/qlinear_softmax.h): YOLOv8's DFL softmax differed from ORT in the last bit.
// u8 only: on an s8 file ORT's QDQS8ToU8Transformer first moves some of the Q / DQ pairs to u8 (zero point + 128)
// and not others (softmax_head_int8: the softmax behind the Transpose becomes a u8 QLinearSoftmax, the one read
// from a shared DequantizeLinear stays float), which this pass does not predict; s8 groups stay float here.
struct SoftmaxGroup {
  ir::Node* op = nullptr;
  ir::Node* transpose = nullptr;  // between the DQ and the Softmax, or null
  QuantizedSide input, output;
};

std::optional<SoftmaxGroup> match_softmax(ir::Node* op, const std::set<std::string>& protected_names);

// The fused sigmoid's output `gate` read by QLinearMul `mul` with `other` as the other operand: a SiLU when
// the sigmoid reads `other` itself on the same grid (then the product is a function of one byte).
bool is_silu_pair(const ir::Node& sigmoid, const ir::Node& mul, size_t other, const std::set<std::string>& protected_names);

// DQ(x: per tensor, not a constant) → Relu | Clip(constant bounds) → Q(y: per tensor): ORT computes it in
// float (its ReluQuantFusion drops a Relu that Q's clamp makes a no-op, the rest stays DQ → op → Q), and every
// step is exact or ONNX's own rounding, so y is a function of x's byte: one table (com.npukit QLinearClip).
struct RequantizeGroup {
  QuantizedSide input, output;
  ir::Node* activation = nullptr;  // Relu / Clip, or null
  float low = -FLT_MAX, high = FLT_MAX;
};

std::optional<RequantizeGroup> match_requantize(const ir::Model& model, ir::Node* quantize,
                                                const std::set<std::string>& protected_names);

// DQ(x) → MaxPool | Slice | nearest Resize | Reshape | Transpose | Flatten | Squeeze | Unsqueeze → Q(y) with y on
// x's grid (same type, scale and zero point): the op runs on x's bytes, as ORT's DropQDQNodesRules does. Bit-exact
// with the float path: Q(DQ(k)) = k for every byte, and these ops only move whole values.
struct MovementGroup {
  ir::Node* op = nullptr;
  QuantizedSide input, output;
};

bool same_grid(const QuantizedSide& a, const QuantizedSide& b);

// Ops that only reorder or relabel elements (ORT's DropQDQNodesRules lists them with Gather, Expand, Tile).
bool is_shape_only(const ir::Node* node);

std::optional<MovementGroup> match_same_grid(ir::Node* op, const std::set<std::string>& protected_names);

// DQ(x) → Split → Q(y_i) with every part on x's grid (ORT's QDQ Split selector): the split runs on x's bytes.
struct SplitGroup {
  ir::Node* op = nullptr;
  QuantizedSide input;
  std::vector<QuantizedSide> outputs;
};

std::optional<SplitGroup> match_split(ir::Node* op, const std::set<std::string>& protected_names);

// DQ(x_1) … DQ(x_n) → Concat → Q(y), per tensor, one 8-bit type (ORT's QLinearConcat): an input on y's grid is
// copied, any other goes through a byte table of Q(DQ(x)) on y's grid (ORT's table: identity between its DQ and
// MlasQuantizeLinear, which is QLinearClip's table without bounds), then one Concat of bytes.
struct ConcatGroup {
  ir::Node* op = nullptr;
  std::vector<QuantizedSide> inputs;
  QuantizedSide output;
};

std::optional<ConcatGroup> match_concat(ir::Node* op, const std::set<std::string>& protected_names);

}  // namespace npukit::passes::qdq_groups
