// The sections `npukit quantize --report FILE.html` writes: what was quantized and how, the per-layer sensitivity
// (an SVG bar chart of each layer's output SQNR when quantized alone, most sensitive first, the layers kept float
// in red), the precision chosen per layer, the algorithms applied with their metric before / after, and the
// quantized tensors. `--report FILE.md` keeps the manifest's own Markdown (quantization_manifest.h).
#pragma once

#include <string>
#include <vector>

#include "quantization/quantize_model.h"
#include "report_html/report.h"

namespace npukit::report_html {

extern const char* const sensitivity_bar_color;        // a layer left int8
extern const char* const sensitivity_float_bar_color;  // a layer kept float by --keep-float / --budget-latency
extern const char* const sensitivity_sixteen_bit_bar_color;  // a layer kept on 16 bits by --keep-int16

std::vector<Section> quantize_sections(const quantization::QuantizeResult& result, const std::string& output_path);

void write_quantize_report(const std::string& path, const quantization::QuantizeResult& result,
                           const std::string& output_path);

}  // namespace npukit::report_html
