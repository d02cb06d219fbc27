#include "quantization/vendor_hints.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "npukit/error.h"

namespace npukit::quantization {

namespace {

// The value a layer hands on: the first output of its last node.
std::string layer_output(const ir::Model& model, const QuantizedLayer& layer) {
  if (layer.nodes.empty()) return "";
  for (const auto& node : model.graph->nodes()) {
    if (node->name == layer.nodes.back() && node->output(0)) return node->output(0)->name;
  }
  return "";
}

// YAML needs a quoted key for names with ':' or other specials ("/model.0/conv/Conv_output_0" is plain).
std::string yaml_key(const std::string& name) {
  if (name.find_first_of(":#{}[],&*!|>'\"%@`") == std::string::npos && !name.empty() && name.front() != ' ') return name;
  std::string quoted = "'";
  for (char c : name) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::vector<VendorHintFile> vendor_hint_files(const ir::Model& model, const std::vector<QuantizedLayer>& layers,
                                              const std::vector<QuantizedLayer>& sixteen_bit_layers,
                                              const std::string& model_path, const std::string& target_id) {
  std::ostringstream rknn;
  rknn << "# npukit quantize --vendor-hints: the layers of " << model_path << " that npukit's sensitivity analysis\n"
       << "# (target " << target_id << ") kept float, most sensitive first, for RKNN hybrid quantization.\n"
       << "# Our belief of the format (rknn-toolkit2 examples/functions/hybrid_quant/step1.py): run\n"
       << "# rknn.hybrid_quantization_step1(...), then in the MODEL.quantization.cfg it writes replace the line\n"
       << "# \"custom_quantize_layers: {}\" with the block below (keys: layer output tensor names; types: int8, int16,\n"
       << "# float16), then run rknn.hybrid_quantization_step2(...). The names are the ONNX tensor names; check that\n"
       << "# they appear in the cfg's quantize_parameters (the converter may rename tensors it fuses).\n";
  size_t listed = 0;
  std::ostringstream entries;
  for (const QuantizedLayer& layer : layers) {
    const std::string output = layer_output(model, layer);
    if (output.empty()) continue;
    entries << "    " << yaml_key(output) << ": float16\n";
    ++listed;
  }
  for (const QuantizedLayer& layer : sixteen_bit_layers) {
    const std::string output = layer_output(model, layer);
    if (output.empty()) continue;
    entries << "    " << yaml_key(output) << ": int16\n";
    ++listed;
  }
  if (!sixteen_bit_layers.empty()) {
    rknn << "# int16 entries: the layers npukit ran with 16-bit activations. step1.py lists int16 as a type; whether\n"
         << "# your chip's toolkit accepts it is unknown (npukit's rk3588 / rk3566 profiles list int8 and float16 only).\n";
  }
  if (listed == 0) {
    rknn << "custom_quantize_layers: {}\n";
  } else {
    rknn << "custom_quantize_layers:\n" << entries.str();
  }
  std::ostringstream hailo;
  hailo << "# npukit quantize --vendor-hints: the layers of " << model_path << " that npukit's sensitivity analysis\n"
        << "# (target " << target_id << ") kept in high precision, most sensitive first, as Hailo Dataflow Compiler\n"
        << "# model-script lines (our belief of the format: hailo_model_zoo docs/OPTIMIZATION.rst, cfg/alls/*.alls).\n"
        << "# The names below are ONNX node names: Hailo's model script names layers as the parsed HAR does (conv1,\n"
        << "# conv2, ...); map each with the parser's layer list (e.g. the HAR's original_names) before use.\n";
  for (const QuantizedLayer& layer : layers) {
    if (layer.nodes.empty()) continue;
    hailo << "quantization_param(" << layer.nodes.front() << ", precision_mode=a16_w16)\n";
  }
  if (!sixteen_bit_layers.empty()) {
    hailo << "# 16-bit activations, 8-bit weights: the layers npukit ran as a16w8 (precision_mode a16_w16 | a16_w8 |\n"
          << "# a8_w4: hailo_model_zoo docs/OPTIMIZATION.rst):\n";
  }
  for (const QuantizedLayer& layer : sixteen_bit_layers) {
    if (layer.nodes.empty()) continue;
    hailo << "quantization_param(" << layer.nodes.front() << ", precision_mode=a16_w8)\n";
  }
  return {{"rknn_custom_quantize_layers.cfg", rknn.str()}, {"hailo_a16_w16.alls", hailo.str()}};
}

std::vector<std::string> write_vendor_hints(const std::string& folder, const std::vector<VendorHintFile>& files) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error || !std::filesystem::is_directory(folder)) {
    throw Error(ErrorKind::io, "cannot create the folder for --vendor-hints: " + (error ? error.message() : "not a folder"),
                folder);
  }
  std::vector<std::string> written;
  for (const VendorHintFile& file : files) {
    const std::string path = (std::filesystem::path(folder) / file.file_name).string();
    const std::string temporary = path + ".partial";
    std::ofstream stream(temporary, std::ios::trunc);
    stream << file.text;
    stream.close();
    if (!stream || std::rename(temporary.c_str(), path.c_str()) != 0) {
      std::remove(temporary.c_str());
      throw Error(ErrorKind::io, "cannot write " + path + ": check the folder is writable");
    }
    written.push_back(path);
  }
  return written;
}

}  // namespace npukit::quantization
