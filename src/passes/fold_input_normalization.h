// fold-normalization: the host's input normalization, (pixel − mean) / std per channel, moves into the model's
// first convolution (as RKNN's mean_values/std_values and Hailo's normalization layer do), so the host sends
// raw pixels; optionally as uint8, and NHWC (a Transpose and a Cast at the front, which NPU compilers absorb into
// the input layer).
//
// Exactness: a Conv reading the normalized input n = (x − m)/s computes Σ W·n + b = Σ (W/s)·x + (b − Σ W·m/s).
// That holds where every tap reads a real pixel. Where the Conv pads, the original pads n with 0, which is the
// raw value x = m, not 0: folding m into the bias would be wrong at the borders. So a Conv with non-zero pads
// keeps the mean as one Sub before it (x − m, then the Conv's own zero padding is exact) and gets only 1/s in its
// weights; a Conv without padding gets both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

struct InputNormalization {
  std::vector<double> mean;  // per channel (or one for all), in the units of the raw input (0…255 for pixels)
  std::vector<double> std;   // likewise; none may be 0
  bool uint8_input = false;  // the new input is uint8 (a Cast to float follows it)
  bool nhwc_input = false;   // the new input is [N, H, W, C] (a Transpose to NCHW follows it)
};

struct NormalizationFold {
  PassResult pass;
  std::string input_name;
  std::vector<int64_t> raw_shape;    // the new input's shape
  std::string raw_dtype;             // "uint8" or "float32"
  std::string raw_layout;            // "NHWC" or "NCHW"
  bool mean_kept_as_sub = false;     // a padded Conv: the mean stays as one Sub before it
};

// Throws npukit::Error(invalid_argument) naming the input or node and the reason when the model's one input is
// not a static 4-D float tensor read only by Convs with constant float weights, when the channel counts differ,
// or a std is 0.
NormalizationFold fold_input_normalization(ir::Model& model, const InputNormalization& normalization);

}  // namespace npukit::passes
