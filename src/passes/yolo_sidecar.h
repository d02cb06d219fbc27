// The sidecar JSON that `patch` writes next to a model whose YOLO post-processing it cut off: everything a
// CPU post-processor needs and the graph no longer says — classes and their names, strides, anchors or DFL
// bins, the head outputs in order, the expected input (size, layout, channel order, normalization, letterbox)
// and default thresholds. Format: docs/sidecar.md. A field the model does not tell is null, with a note why.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ir/graph.h"
#include "passes/yolo_head_detection.h"

namespace npukit::passes {

// Class names as exporters write them in the ONNX metadata "names": Ultralytics' Python dict
// "{0: 'person', 1: 'car'}" (keys 0 … n-1, in any order), a JSON list or a JSON object with "0" … keys.
// nullopt when the text is none of these.
std::optional<std::vector<std::string>> parse_class_names(const std::string& text);

// `outputs`: one object per head output of the cut model (name, kind, stride, layout), in output order.
// Notes about what the model does not tell go into the sidecar's "notes" and are appended to `notes`.
nlohmann::json make_yolo_sidecar(const ir::Model& model, const YoloHead& head, const nlohmann::json& outputs,
                                 std::vector<std::string>& notes);

}  // namespace npukit::passes
