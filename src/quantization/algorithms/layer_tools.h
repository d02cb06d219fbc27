// Tools the qalgo algorithms (cross-layer equalization, bias correction, clipping search) share, kept apart from
// the seam (quantization_algorithm.h): a convolution's weights read and written as per-channel float rows, the
// float model run over calibration samples one at a time (so a large model's activations are never all held at
// once), and the sampled input patches of a layer from which its output error is measured without a kernel.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/quant_params.h"
#include "npukit/tensor.h"
#include "quantization/calibration_data.h"
#include "quantization/quantization_algorithm.h"  // for_each_float_sample

namespace npukit::quantization {

// A Conv (or Gemm) whose weight (and bias, when it has one) are f32 initializers, seen as rows: one row per
// output channel, `row_length` elements each. Conv weights [M, C/group, k...]; Gemm weights [K, N] (transB 0)
// or [N, K] (transB 1), rows are the N outputs either way.
struct LinearLayer {
  ir::Node* node = nullptr;
  ir::Value* weight = nullptr;
  ir::Value* bias = nullptr;  // null when the node has none
  int64_t output_channels = 0;
  int64_t row_length = 0;        // weights per output channel
  int64_t group = 1;             // Conv groups (1 for Gemm)
  int64_t input_channels = 0;    // the channels of the node's input (Conv: C; Gemm: K)
  int64_t kernel_elements = 1;   // product of the spatial kernel dims (1 for Gemm)
  bool transposed_rows = false;  // Gemm with transB 0: row n is the column W[:, n]
  bool padded = false;           // Conv with any non-zero pad (or auto_pad): borders see zeros
  bool depthwise() const { return group > 1 && group == input_channels && row_length == kernel_elements; }
};

// The layer view of `node`, or nullopt when it is not a Conv / Gemm on f32 initializer weights that this code can
// rewrite (a weight computed at run time, a Gemm with transA or alpha != 1, a 1-D weight, ...).
std::optional<LinearLayer> linear_layer(ir::Node* node);

// The weights of output channel by channel: rows[o][j] (j in the row order of LinearLayer).
std::vector<std::vector<float>> weight_rows(const LinearLayer& layer);
// Writes rows back as a new initializer tensor (tensors are never written in place: clones share bytes).
void set_weight_rows(LinearLayer& layer, const std::vector<std::vector<float>>& rows);
// The bias (zeros when the layer has none).
std::vector<float> bias_values(const LinearLayer& layer);
// Writes the bias, adding a bias input to the node when it had none.
void set_bias_values(ir::Graph& graph, LinearLayer& layer, const std::vector<float>& values);

// Input patches of a layer: each patch is what one output position of one group reads (Conv: C/group · k
// elements, zeros where the window leaves the padded input; Gemm: one row of K), so the output of channel o at
// that position is dot(row o, patch) + bias. Patches of group g feed rows [g·M/G, (g+1)·M/G).
struct LayerPatches {
  int64_t patch_length = 0;
  std::vector<std::vector<std::vector<float>>> by_group;  // [group][patch][element]
  size_t count() const { return by_group.empty() ? 0 : by_group[0].size(); }
};

// Appends up to `per_sample` patches drawn at random positions (the same positions for every group) from
// `input`, the layer's input tensor of one sample; every position, in order, when there are no more than that.
// Throws Error(invalid_model) naming the node for an input whose shape does not fit the layer.
void sample_patches(const LinearLayer& layer, const Tensor& input, size_t per_sample, std::mt19937& random,
                    LayerPatches& patches);

// Σ a[j] · b[j] over `length` elements, in float with eight independent partial sums (so the compiler vectorizes
// it: the searches spend their time here).
float dot_product(const float* a, const float* b, size_t length);

// `value` onto the grid (scale, zero point, [minimum, maximum], the rounding given) and back: the real value the
// stored integer represents.
float fake_quantize(float value, float scale, int64_t zero_point, int64_t minimum, int64_t maximum,
                    ir::RoundingMode rounding);

}  // namespace npukit::quantization
