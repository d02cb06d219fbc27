// The vendors' own ways to say "keep these layers in higher precision", written as text files for the layers a
// mixed precision kept float (mixed_precision.h). They are what we believe the formats to be, from public sources;
// npukit cannot run either vendor's tool to check them:
//
//   RKNN (rknn-toolkit2 hybrid quantization): hybrid_quantization_step1 writes MODEL.quantization.cfg (YAML) whose
//     `custom_quantize_layers` maps a layer's OUTPUT TENSOR NAME to a dtype ('int8', 'int16' or 'float16');
//     step2 reads it back. Source: rockchip-linux/rknn-toolkit2, rknn-toolkit2/examples/functions/hybrid_quant/
//     step1.py (its printed instructions show "custom_quantize_layers:" then "    <output name>: float16" and list
//     the supported types) and the same folder's README.md; RKNN Toolkit2 User Guide, "hybrid quantization".
//   Hailo (Dataflow Compiler model script, .alls): `quantization_param(<layer>, precision_mode=a16_w16)` per
//     layer, layer names being the HAR's (conv1, conv2, ... as the parser names them), not ONNX's. Source:
//     hailo-ai/hailo_model_zoo docs/OPTIMIZATION.rst and the cfg/alls/*.alls scripts that use a16_w16 on
//     sensitive layers (summarized in the project's reference quant_anchors.md §2.6 and targets.md).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantization/layer_sensitivity.h"

namespace npukit::quantization {

struct VendorHintFile {
  std::string file_name;  // "rknn_custom_quantize_layers.cfg", "hailo_a16_w16.alls"
  std::string text;
};

// The two files for `layers` kept float and `sixteen_bit_layers` kept with 16-bit activations (each most sensitive
// first) of `model` (the float model after the passes: the output tensor of each layer is the output of its last
// node). 16-bit layers: RKNN `int16` (a type step1.py lists), Hailo `precision_mode=a16_w8` (16-bit activations,
// 8-bit weights; the model script's modes a16_w16 | a16_w8 | a8_w4 per hailo_model_zoo docs/OPTIMIZATION.rst, as
// summarized in quant_anchors.md §2.6).
std::vector<VendorHintFile> vendor_hint_files(const ir::Model& model, const std::vector<QuantizedLayer>& layers,
                                              const std::vector<QuantizedLayer>& sixteen_bit_layers,
                                              const std::string& model_path, const std::string& target_id);

// Writes them into `folder` (created when missing), each through a temporary file renamed into place; returns the
// paths. Error(io) naming the folder or file.
std::vector<std::string> write_vendor_hints(const std::string& folder, const std::vector<VendorHintFile>& files);

}  // namespace npukit::quantization
