// The YOLO head matcher and the cut on heads written apart from the project's own exports
// (tools/export_yolo_variants.py, made by tools/make_models.sh): v8 DFL heads with box and class outputs apart
// or joined, the stride before or after dist2bbox, the DFL as a Conv or a MatMul; a YOLO11 depthwise class
// branch; a dynamic batch; v5 decodes with Pow, Mul or in-place slice assignment (ScatterND); raw v5 and v8
// heads. For each: the uncut model on `ref` equals ONNX Runtime, the head is found, and the cut model's
// outputs equal the head Conv values the full model computes before its decode (read by tensor name from yolo_variants.json, which the export
// script wrote by module path, not by the matcher). The sidecar is checked field by field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "preparation/shape_discovery.h"
#include "check/target_check.h"
#include "core/npy.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "onnx/onnx_import.h"
#include "pass_equivalence.h"
#include "passes/yolo_head_detection.h"
#include "passes/yolo_postprocess_cut.h"
#include "passes/yolo_sidecar.h"
#include "patch/patch_pipeline.h"
#include "target_test_graphs.h"
#include "targets/profile_loader.h"

namespace npukit::passes {
namespace {

using testing::count_ops;

using testing::copy_model;
using testing::int_attr;
using testing::ints_attr;
using testing::TestGraph;

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

ir::Model load_variant(const std::string& name) {
  const std::filesystem::path path = models_directory / "generated" / (name + ".onnx");
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path.string() + " is missing: run tools/make_models.sh (make models)");
  }
  onnx_io::ImportOptions options;
  options.propagate_shape_data = true;
  ir::Model model = onnx_io::load_model(path.string(), options);
  preparation::discover_missing_shapes(model);
  return model;
}

// Per level (stride 8, 16, 32) the names of the head Conv outputs, as the export script recorded them.
nlohmann::json head_conv_outputs(const std::string& name) {
  std::ifstream file(models_directory / "generated" / "yolo_variants.json");
  if (!file) throw std::runtime_error("models/generated/yolo_variants.json is missing: run tools/make_models.sh");
  return nlohmann::json::parse(file).at(name).at("head_conv_outputs");
}

std::map<std::string, Tensor> reference_feeds(const std::string& name) {
  return {{"images", read_npy((models_directory / "reference" / name / "input_images.npy").string())}};
}

Tensor ort_output(const std::string& model, const std::string& output) {
  return read_npy((models_directory / "reference" / model / ("output_" + output + ".npy")).string());
}

// max |a - b| / max |b| over the channels [first, first + count) of a [1, C, H, W] map b against all of a.
double relative_difference(const Tensor& actual, const Tensor& expected, int64_t first_channel = 0) {
  const Shape& shape = actual.shape();
  const int64_t cells = shape[2] * shape[3], channels = shape[1], expected_channels = expected.shape()[1];
  double magnitude = 0, difference = 0;
  for (int64_t channel = 0; channel < channels; ++channel) {
    for (int64_t cell = 0; cell < cells; ++cell) {
      const double want = expected.value_as_double((first_channel + channel) * cells + cell);
      magnitude = std::max(magnitude, std::fabs(want));
      difference = std::max(difference, std::fabs(want - actual.value_as_double(channel * cells + cell)));
    }
  }
  EXPECT_LE(first_channel + channels, expected_channels);
  EXPECT_GT(magnitude, 0);
  return difference / magnitude;
}

struct Variant {
  std::string name;
  YoloFamily family;
  bool decode_in_graph;
  int64_t classes;
};

const std::vector<Variant> variants = {
    {"yolo_v8_split_stride_before", YoloFamily::anchor_free, true, 2},
    {"yolo_v8_concat_stride_after", YoloFamily::anchor_free, true, 2},
    {"yolo11_depthwise", YoloFamily::anchor_free, true, 5},
    {"yolo_v8_dynamic_batch", YoloFamily::anchor_free, true, 3},
    {"yolo_v8_raw_concat", YoloFamily::anchor_free, false, 3},
    {"yolo_v5_pow", YoloFamily::anchor_based, true, 3},
    {"yolo_v5_mul", YoloFamily::anchor_based, true, 2},
    {"yolo_v5_raw", YoloFamily::anchor_based, false, 3},
    {"yolo_v5_inplace", YoloFamily::anchor_based, true, 4},
};

class YoloHeadVariant : public ::testing::TestWithParam<Variant> {};

TEST_P(YoloHeadVariant, UncutModelOnRefEqualsOnnxRuntime) {
  const Variant& variant = GetParam();
  auto model = std::make_shared<ir::Model>(load_variant(variant.name));
  std::vector<std::string> output_names;
  for (const ir::Value* output : model->graph->outputs) output_names.push_back(output->name);
  auto outputs = engine::Engine::from_model(model, {.backend = "ref"})->run(reference_feeds(variant.name));
  for (const std::string& name : output_names) {
    const Tensor expected = ort_output(variant.name, name);
    const Tensor& actual = outputs.at(name);
    ASSERT_EQ(actual.shape(), expected.shape()) << name;
    double magnitude = 0, difference = 0;
    for (int64_t i = 0; i < expected.element_count(); ++i) {
      magnitude = std::max(magnitude, std::fabs(expected.value_as_double(i)));
      difference = std::max(difference, std::fabs(expected.value_as_double(i) - actual.value_as_double(i)));
    }
    std::cout << "[ model    ] " << variant.name << " output '" << name << "': max |ref - ORT| / max |ORT| "
              << difference / magnitude << "\n";
    EXPECT_LT(difference / magnitude, 1e-4) << name;
  }
}

TEST_P(YoloHeadVariant, HeadIsFoundAndTheCutOutputsEqualTheHeadConvValues) {
  const Variant& variant = GetParam();
  ir::Model model = load_variant(variant.name);
  YoloHeadSearch search = search_yolo_head(*model.graph);
  ASSERT_TRUE(search.head) << (search.notes.empty() ? "no note" : search.notes.front());
  const YoloHead& head = *search.head;
  EXPECT_EQ(head.family, variant.family);
  EXPECT_EQ(head.decode_in_graph, variant.decode_in_graph);
  EXPECT_EQ(head.class_count, variant.classes);
  EXPECT_EQ(head.input_height, 256);
  EXPECT_EQ(head.input_width, 256);
  ASSERT_EQ(head.levels.size(), 3u);
  const nlohmann::json recorded = head_conv_outputs(variant.name);
  for (size_t i = 0; i < 3; ++i) {
    const YoloLevel& level = head.levels[i];
    EXPECT_EQ(level.stride, recorded[i]["stride"].get<int64_t>());
    EXPECT_EQ(level.height, 256 / level.stride);
    if (variant.family == YoloFamily::anchor_free) {
      EXPECT_EQ(head.reg_max, 16);
      EXPECT_EQ(level.box_conv->output(0)->name, recorded[i]["boxes"]) << level.stride;
      EXPECT_EQ(level.class_conv->output(0)->name, recorded[i]["classes"]) << level.stride;
    } else {
      EXPECT_EQ(head.anchors_per_cell, 3);
      EXPECT_EQ(level.box_conv->output(0)->name, recorded[i]["joint"]) << level.stride;
    }
  }

  // The head Conv values of the full model, on ref: its recorded tensors made extra outputs.
  auto full = std::make_shared<ir::Model>(load_variant(variant.name));
  for (const nlohmann::json& level : recorded) {
    for (const char* kind : {"boxes", "classes", "joint"}) {
      if (!level.contains(kind)) continue;
      ir::Value* value = full->graph->find_value(level[kind].get<std::string>());
      ASSERT_NE(value, nullptr) << level[kind];
      if (value->is_graph_output) continue;
      value->is_graph_output = true;
      full->graph->outputs.push_back(value);
    }
  }
  const auto feeds = reference_feeds(variant.name);
  auto expected = engine::Engine::from_model(full, {.backend = "ref"})->run(feeds);

  auto cut_model = std::make_shared<ir::Model>(load_variant(variant.name));
  YoloCutResult cut = cut_yolo_postprocess(*cut_model);
  EXPECT_EQ(cut.pass.rewrites, 3);
  ASSERT_FALSE(cut.sidecar_json.empty()) << (cut.pass.notes.empty() ? "" : cut.pass.notes.front());
  ASSERT_EQ(cut_model->graph->outputs.size(), 6u);
  // The decode's ops are gone (the backbone has Conv, Sigmoid and Mul only: SiLU).
  for (const char* op : {"Softmax", "MatMul", "Pow", "Concat", "Reshape", "Transpose", "Split", "Slice", "Expand", "Add"}) {
    EXPECT_EQ(count_ops(*cut_model, op), 0u) << op;
  }
  auto actual = engine::Engine::from_model(cut_model, {.backend = "ref"})->run(feeds);
  const int64_t per_anchor = 5 + variant.classes;
  for (const nlohmann::json& level : recorded) {
    const std::string stride = std::to_string(level["stride"].get<int64_t>());
    const Tensor& boxes = actual.at("boxes_stride" + stride);
    const Tensor& scores = actual.at("scores_stride" + stride);
    if (variant.family == YoloFamily::anchor_free) {
      EXPECT_LT(relative_difference(boxes, expected.at(level["boxes"])), 1e-4) << stride;
      EXPECT_LT(relative_difference(scores, expected.at(level["classes"])), 1e-4) << stride;
      ASSERT_EQ(boxes.shape()[1], 64);
      ASSERT_EQ(scores.shape()[1], variant.classes);
      continue;
    }
    // The joint map, per anchor 4 box rows then objectness and classes, against the two split Convs.
    const Tensor& joint = expected.at(level["joint"]);
    ASSERT_EQ(boxes.shape()[1], 12);
    ASSERT_EQ(scores.shape()[1], 3 * (1 + variant.classes));
    const int64_t cells = joint.shape()[2] * joint.shape()[3];
    for (int64_t anchor = 0; anchor < 3; ++anchor) {
      for (int64_t row = 0; row < per_anchor; ++row) {
        for (int64_t cell = 0; cell < cells; ++cell) {
          const double want = joint.value_as_double((anchor * per_anchor + row) * cells + cell);
          const double got = row < 4 ? boxes.value_as_double((anchor * 4 + row) * cells + cell)
                                     : scores.value_as_double((anchor * (per_anchor - 4) + row - 4) * cells + cell);
          ASSERT_NEAR(got, want, 1e-4 * std::max(1.0, std::fabs(want))) << stride << " anchor " << anchor << " row " << row;
        }
      }
    }
  }
}

// `check` marks the decode as post-processing and, where the target refuses a node of it, suggests the cut.
TEST_P(YoloHeadVariant, CheckSuggestsTheCutForRefusedPostProcessing) {
  const Variant& variant = GetParam();
  ir::Model model = load_variant(variant.name);
  for (const char* target : {"rk3566", "edgetpu"}) {
    check::CheckResult result = check::check_model(model, targets::find_builtin_target(target));
    EXPECT_TRUE(result.has_yolo_postprocess) << target;
    size_t in_postprocess = 0;
    for (const check::NodeVerdict& node : result.nodes) {
      if (!node.in_yolo_postprocess) continue;
      ++in_postprocess;
      // Refused nodes (not those placed after the first refusal by an all-after-first fallback policy).
      if (node.placement == check::Placement::fallback || node.placement == check::Placement::rejected) {
        EXPECT_EQ(node.patch, "cut-yolo-postprocess") << target << " " << node.name;
      }
    }
    // Raw v5 maps are the outputs themselves; every other variant has nodes after its head Convs.
    EXPECT_EQ(in_postprocess > 0, variant.name != "yolo_v5_raw") << target << " " << in_postprocess;
  }
}

INSTANTIATE_TEST_SUITE_P(Exports, YoloHeadVariant, ::testing::ValuesIn(variants),
                         [](const ::testing::TestParamInfo<Variant>& info) { return info.param.name; });

// The raw heads' cut outputs against ONNX Runtime's outputs of the same model: channel slices of p3/p4/p5.
TEST(YoloHeadVariants, RawHeadCutEqualsOnnxRuntimeChannelByChannel) {
  ir::Model v8 = load_variant("yolo_v8_raw_concat");
  cut_yolo_postprocess(v8);
  auto v8_outputs = engine::Engine::from_model(std::make_shared<ir::Model>(std::move(v8)), {.backend = "ref"})->run(reference_feeds("yolo_v8_raw_concat"));
  ir::Model v5 = load_variant("yolo_v5_raw");
  cut_yolo_postprocess(v5);
  auto v5_outputs = engine::Engine::from_model(std::make_shared<ir::Model>(std::move(v5)), {.backend = "ref"})->run(reference_feeds("yolo_v5_raw"));
  const std::vector<std::pair<std::string, std::string>> levels = {{"8", "p3"}, {"16", "p4"}, {"32", "p5"}};
  for (const auto& [stride, output] : levels) {
    const Tensor joined = ort_output("yolo_v8_raw_concat", output);
    ASSERT_EQ(joined.shape()[1], 64 + 3);
    EXPECT_LT(relative_difference(v8_outputs.at("boxes_stride" + stride), joined, 0), 1e-4) << output;
    EXPECT_LT(relative_difference(v8_outputs.at("scores_stride" + stride), joined, 64), 1e-4) << output;
    const Tensor joint = ort_output("yolo_v5_raw", output);
    const Tensor& boxes = v5_outputs.at("boxes_stride" + stride);
    const int64_t cells = joint.shape()[2] * joint.shape()[3];
    for (int64_t anchor = 0; anchor < 3; ++anchor) {
      for (int64_t row = 0; row < 4; ++row) {
        for (int64_t cell = 0; cell < cells; ++cell) {
          const double want = joint.value_as_double((anchor * 8 + row) * cells + cell);
          ASSERT_NEAR(boxes.value_as_double((anchor * 4 + row) * cells + cell), want, 1e-4 * std::max(1.0, std::fabs(want)));
        }
      }
    }
  }
}

nlohmann::json sidecar_of(const std::string& name, YoloCutResult* result = nullptr) {
  ir::Model model = load_variant(name);
  YoloCutResult cut = cut_yolo_postprocess(model);
  if (result) *result = cut;
  if (cut.sidecar_json.empty()) throw std::runtime_error(name + ": no sidecar");
  return nlohmann::json::parse(cut.sidecar_json);
}

bool any_note_contains(const std::vector<std::string>& notes, const std::string& text) {
  return std::any_of(notes.begin(), notes.end(), [&](const std::string& note) { return note.find(text) != std::string::npos; });
}

TEST(YoloSidecar, AnchorFreeSplitOutputsWithNamesSaysEverything) {
  YoloCutResult cut;
  const nlohmann::json sidecar = sidecar_of("yolo_v8_split_stride_before", &cut);
  EXPECT_EQ(sidecar["format"], "npukit-yolo-postprocess/2");
  EXPECT_EQ(sidecar["family"], "anchor-free (YOLOv8 / YOLO11, DFL)");
  EXPECT_EQ(sidecar["decode_in_original"], true);
  EXPECT_EQ(sidecar["classes"], 2);
  EXPECT_EQ(sidecar["class_names"], nlohmann::json({"person", "car"}));
  EXPECT_EQ(sidecar["strides"], nlohmann::json({8, 16, 32}));
  EXPECT_EQ(sidecar["reg_max"], 16);
  EXPECT_FALSE(sidecar.contains("anchors"));
  const nlohmann::json& input = sidecar["input"];
  EXPECT_EQ(input["name"], "images");
  EXPECT_EQ(input["batch"], 1);
  EXPECT_EQ(input["height"], 256);
  EXPECT_EQ(input["width"], 256);
  EXPECT_EQ(input["layout"], "NCHW");
  EXPECT_EQ(input["channel_order"], "RGB");
  EXPECT_DOUBLE_EQ(input["normalization"]["scale"].get<double>(), 1.0 / 255.0);
  EXPECT_EQ(input["normalization"]["mean"], nlohmann::json({0, 0, 0}));
  EXPECT_EQ(input["letterbox"]["pad_value"], nlohmann::json({114, 114, 114}));
  EXPECT_EQ(input["letterbox"]["keep_aspect_ratio"], true);
  EXPECT_DOUBLE_EQ(sidecar["thresholds"]["confidence"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(sidecar["thresholds"]["iou"].get<double>(), 0.7);
  EXPECT_EQ(sidecar["thresholds"]["max_detections"], 300);
  const std::vector<std::string> names = {"boxes_stride8", "scores_stride8", "boxes_stride16", "scores_stride16",
                                          "boxes_stride32", "scores_stride32"};
  ASSERT_EQ(sidecar["outputs"].size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(sidecar["outputs"][i]["name"], names[i]);
    EXPECT_EQ(sidecar["outputs"][i]["kind"], i % 2 == 0 ? "boxes" : "scores");
    EXPECT_EQ(sidecar["outputs"][i]["stride"], 8 << (i / 2));
  }
  EXPECT_EQ(sidecar["notes"], nlohmann::json::array());
}

TEST(YoloSidecar, Yolo11NamesAndTransposedOutputAreRead) {
  const nlohmann::json sidecar = sidecar_of("yolo11_depthwise");
  EXPECT_EQ(sidecar["classes"], 5);
  EXPECT_EQ(sidecar["class_names"], nlohmann::json({"person", "bicycle", "car", "motorcycle", "airplane"}));
  EXPECT_EQ(sidecar["strides"], nlohmann::json({8, 16, 32}));
}

TEST(YoloSidecar, AnchorsAreReadFromEveryV5DecodeForm) {
  const nlohmann::json anchors = {{10, 13, 16, 30, 33, 23}, {30, 61, 62, 45, 59, 119}, {116, 90, 156, 198, 373, 326}};
  YoloCutResult pow_cut;
  const nlohmann::json pow = sidecar_of("yolo_v5_pow", &pow_cut);
  EXPECT_EQ(pow["family"], "anchor-based (YOLOv5)");
  EXPECT_EQ(pow["anchors"], anchors);
  EXPECT_EQ(pow["anchors_per_cell"], 3);
  EXPECT_EQ(pow["classes"], 3);
  EXPECT_EQ(pow["strides"], nlohmann::json({8, 16, 32}));
  // No names in this model's metadata: null, and a note says so.
  EXPECT_TRUE(pow["class_names"].is_null());
  EXPECT_TRUE(any_note_contains(pow["notes"].get<std::vector<std::string>>(), "no 'names'"));
  EXPECT_TRUE(any_note_contains(pow_cut.pass.notes, "no 'names'"));
  const nlohmann::json mul = sidecar_of("yolo_v5_mul");  // the anchor grid is an Expand of [1, 3, 1, 1, 2]
  EXPECT_EQ(mul["anchors"], anchors);
  EXPECT_EQ(mul["classes"], 2);
  EXPECT_EQ(mul["class_names"], nlohmann::json({"person", "car"}));
  const nlohmann::json inplace = sidecar_of("yolo_v5_inplace");  // ScatterND into the sigmoid's slices
  EXPECT_EQ(inplace["anchors"], anchors);
  EXPECT_EQ(inplace["classes"], 4);
}

TEST(YoloSidecar, RawHeadsSayWhatTheGraphCannotTell) {
  YoloCutResult v5_cut;
  const nlohmann::json v5 = sidecar_of("yolo_v5_raw", &v5_cut);
  EXPECT_EQ(v5["decode_in_original"], false);
  EXPECT_EQ(v5["strides"], nlohmann::json({8, 16, 32}));
  EXPECT_EQ(v5["classes"], 3);
  EXPECT_EQ(v5["anchors_per_cell"], 3);
  EXPECT_TRUE(v5["anchors"].is_null());
  EXPECT_TRUE(any_note_contains(v5_cut.pass.notes, "anchors: not in the graph"));
  EXPECT_TRUE(any_note_contains(v5["notes"].get<std::vector<std::string>>(), "anchors: not in the graph"));
  const nlohmann::json v8 = sidecar_of("yolo_v8_raw_concat");
  EXPECT_EQ(v8["decode_in_original"], false);
  EXPECT_EQ(v8["reg_max"], 16);
  EXPECT_EQ(v8["classes"], 3);
  EXPECT_EQ(v8["strides"], nlohmann::json({8, 16, 32}));
}

TEST(YoloSidecar, DynamicBatchIsFoundCutAndSaid) {
  ir::Model model = load_variant("yolo_v8_dynamic_batch");
  ASSERT_FALSE(model.graph->inputs.front()->type.shape->front().is_static());
  YoloCutResult cut = cut_yolo_postprocess(model);
  ASSERT_FALSE(cut.sidecar_json.empty());
  const nlohmann::json sidecar = nlohmann::json::parse(cut.sidecar_json);
  EXPECT_EQ(sidecar["input"]["batch"], "dynamic");
  EXPECT_EQ(sidecar["classes"], 3);
  // Through `patch`, static-shapes fixes the batch to 1 first.
  ir::Model patched = load_variant("yolo_v8_dynamic_batch");
  patch::PatchReport report = patch::patch_model(patched, targets::find_builtin_target("rk3588"), {});
  ASSERT_FALSE(report.yolo_sidecar_json.empty());
  EXPECT_EQ(nlohmann::json::parse(report.yolo_sidecar_json)["input"]["batch"], 1);
}

TEST(YoloSidecar, ClassNamesParseAsExportersWriteThem) {
  using Names = std::vector<std::string>;
  EXPECT_EQ(parse_class_names("{0: 'person', 1: 'car'}"), Names({"person", "car"}));
  EXPECT_EQ(parse_class_names("{1: 'car', 0: \"driver's seat\"}"), Names({"driver's seat", "car"}));
  EXPECT_EQ(parse_class_names("{0: 'a\\'b'}"), Names({"a'b"}));
  EXPECT_EQ(parse_class_names("[\"cat\", \"dog\"]"), Names({"cat", "dog"}));
  EXPECT_EQ(parse_class_names("{\"0\": \"cat\", \"1\": \"dog\"}"), Names({"cat", "dog"}));
  EXPECT_EQ(parse_class_names("{}"), Names{});
  EXPECT_FALSE(parse_class_names("{0: 'a', 2: 'c'}"));   // a gap: index 1 has no name
  EXPECT_FALSE(parse_class_names("{0: 'a', 0: 'b'}"));   // a key twice
  EXPECT_FALSE(parse_class_names("{0: 'unterminated}"));
  EXPECT_FALSE(parse_class_names("person, car"));
  EXPECT_FALSE(parse_class_names(""));
}

TEST(YoloSidecar, NamesThatDoNotFitTheHeadAreLeftOutWithANote) {
  ir::Model model = load_variant("yolo_v8_concat_stride_after");
  model.metadata["names"] = "{0: 'person', 1: 'car', 2: 'dog'}";  // the head has 2 classes
  YoloCutResult cut = cut_yolo_postprocess(model);
  const nlohmann::json sidecar = nlohmann::json::parse(cut.sidecar_json);
  EXPECT_TRUE(sidecar["class_names"].is_null());
  EXPECT_TRUE(any_note_contains(cut.pass.notes, "lists 3 names but the head has 2 classes"));
  ir::Model garbled = load_variant("yolo_v8_concat_stride_after");
  garbled.metadata["names"] = "person;car";
  cut = cut_yolo_postprocess(garbled);
  EXPECT_TRUE(nlohmann::json::parse(cut.sidecar_json)["class_names"].is_null());
  EXPECT_TRUE(any_note_contains(cut.pass.notes, "neither"));
}

TEST(YoloHeadVariants, ModelsThatAreNotYoloGetNoCutAndANote) {
  for (const char* file : {"generated/mobilenetv2.onnx", "generated/vit.onnx", "ocr/ch_PP-OCRv4_det_infer.onnx",
                           "ocr/ch_PP-OCRv4_rec_infer.onnx"}) {
    onnx_io::ImportOptions options;
    ir::Model model = onnx_io::load_model((models_directory / file).string(), options);
    YoloHeadSearch search = search_yolo_head(*model.graph);
    EXPECT_FALSE(search.head) << file;
    EXPECT_TRUE(search.notes.empty()) << file << ": " << search.notes.front();
    std::vector<std::string> outputs_before;
    for (const ir::Value* output : model.graph->outputs) outputs_before.push_back(output->name);
    const size_t nodes_before = model.graph->nodes().size();
    YoloCutResult cut = cut_yolo_postprocess(model);
    EXPECT_EQ(cut.pass.rewrites, 0) << file;
    EXPECT_TRUE(cut.sidecar_json.empty()) << file;
    ASSERT_EQ(cut.pass.notes.size(), 1u) << file;
    EXPECT_NE(cut.pass.notes.front().find("no YOLO head"), std::string::npos);
    EXPECT_EQ(model.graph->nodes().size(), nodes_before) << file;
    ASSERT_EQ(model.graph->outputs.size(), outputs_before.size());
    for (size_t i = 0; i < outputs_before.size(); ++i) EXPECT_EQ(model.graph->outputs[i]->name, outputs_before[i]);
  }
}

// The project's own raw exports (tools/export_models.py): found as raw heads with their 80 classes.
TEST(YoloHeadVariants, ProjectRawExportsAreFoundAsRawHeads) {
  for (const auto& [name, family] : std::vector<std::pair<std::string, YoloFamily>>{
           {"yolov5s_raw", YoloFamily::anchor_based}, {"yolov8n_raw", YoloFamily::anchor_free}}) {
    ir::Model model = load_variant(name);
    std::optional<YoloHead> head = find_yolo_head(*model.graph);
    ASSERT_TRUE(head) << name;
    EXPECT_EQ(head->family, family) << name;
    EXPECT_FALSE(head->decode_in_graph) << name;
    EXPECT_EQ(head->class_count, 80) << name;
    ASSERT_EQ(head->levels.size(), 3u);
    EXPECT_EQ(head->levels[0].stride, 8);
    EXPECT_EQ(head->levels[2].stride, 32);
  }
}

// Multi-output Conv nets that are not YOLO heads: a RetinaNet-like head (per level 9 x 4 box and 9 x 3 class
// logits) and a feature pyramid of 16 channels. Not matched, not cut, outputs untouched.
TEST(YoloHeadVariants, MultiScaleConvOutputsThatAreNotYoloAreLeftAlone) {
  for (const auto& [box_channels, class_channels] : std::vector<std::pair<int64_t, int64_t>>{{36, 27}, {16, 0}}) {
    TestGraph graph;
    ir::Value* image = graph.input("image", {1, 3, 64, 64});
    for (int64_t stride : {8, 16, 32}) {
      const int64_t side = 64 / stride;
      ir::Value* feature = graph.node("Conv", {image, graph.weights("stem", {8, 3, stride, stride})}, {1, 8, side, side},
                                      {{"kernel_shape", ints_attr({stride, stride})}, {"strides", ints_attr({stride, stride})}});
      graph.output(graph.node("Conv", {feature, graph.weights("box", {box_channels, 8, 1, 1})}, {1, box_channels, side, side},
                              {{"kernel_shape", ints_attr({1, 1})}}));
      if (class_channels == 0) continue;
      graph.output(graph.node("Conv", {feature, graph.weights("cls", {class_channels, 8, 1, 1})},
                              {1, class_channels, side, side}, {{"kernel_shape", ints_attr({1, 1})}}));
    }
    const size_t outputs = graph.model.graph->outputs.size();
    EXPECT_FALSE(find_yolo_head(*graph.model.graph)) << box_channels;
    YoloCutResult cut = cut_yolo_postprocess(graph.model);
    EXPECT_EQ(cut.pass.rewrites, 0);
    EXPECT_TRUE(cut.sidecar_json.empty());
    EXPECT_EQ(graph.model.graph->outputs.size(), outputs);
    ASSERT_EQ(cut.pass.notes.size(), 1u);
    EXPECT_NE(cut.pass.notes.front().find("no YOLO head"), std::string::npos);
  }
}

// Ultralytics' dynamic=True export leaves height and width dynamic: the head is found, not cut, and the note
// says what to give.
TEST(YoloHeadVariants, DynamicInputSizeGivesANoteNotACut) {
  ir::Model model = load_variant("yolo_v8_concat_stride_after");
  ir::Value* input = model.graph->inputs.front();
  (*input->type.shape)[2] = ir::Dim::symbolic("height");
  (*input->type.shape)[3] = ir::Dim::symbolic("width");
  ASSERT_TRUE(find_yolo_head(*model.graph));
  YoloCutResult cut = cut_yolo_postprocess(model);
  EXPECT_EQ(cut.pass.rewrites, 0);
  EXPECT_TRUE(cut.sidecar_json.empty());
  ASSERT_EQ(cut.pass.notes.size(), 1u);
  EXPECT_EQ(cut.pass.notes.front(), "YOLO head found, but the input size is dynamic: give --input-shape; not cut");
  ASSERT_EQ(model.graph->outputs.size(), 1u);
  EXPECT_EQ(model.graph->outputs.front()->name, "output0");
}

// A DFL head whose second level lost its class branch (a truncated export): a note names the map, no cut.
TEST(YoloHeadVariants, TruncatedDflHeadGivesANoteNotACrash) {
  TestGraph graph;
  const int64_t bins = 16;
  ir::Value* image = graph.input("image", {1, 3, 32, 32});
  std::vector<ir::Value*> flattened_boxes;
  ir::Value* class_map = nullptr;
  int64_t anchors = 0;
  for (int64_t stride : {8, 16}) {
    const int64_t side = 32 / stride;
    ir::Value* feature = graph.node("Conv", {image, graph.weights("stem", {8, 3, stride, stride})}, {1, 8, side, side},
                                    {{"kernel_shape", ints_attr({stride, stride})}, {"strides", ints_attr({stride, stride})}});
    ir::Value* box = graph.node("Conv", {feature, graph.weights("box", {4 * bins, 8, 1, 1})}, {1, 4 * bins, side, side},
                                {{"kernel_shape", ints_attr({1, 1})}});
    flattened_boxes.push_back(graph.node("Reshape", {box, graph.ints("flat", {1, 4 * bins, side * side})},
                                         {1, 4 * bins, side * side}));
    if (stride == 8) {
      class_map = graph.node("Conv", {feature, graph.weights("cls", {2, 8, 1, 1})}, {1, 2, side, side},
                             {{"kernel_shape", ints_attr({1, 1})}});
    }
    anchors += side * side;
  }
  ir::Value* boxes = graph.node("Concat", flattened_boxes, {1, 4 * bins, anchors}, {{"axis", int_attr(2)}});
  ir::Value* sides = graph.node("Reshape", {boxes, graph.ints("dfl_shape", {1, 4, bins, anchors})}, {1, 4, bins, anchors});
  ir::Value* bins_first = graph.node("Transpose", {sides}, {1, bins, 4, anchors}, {{"perm", ints_attr({0, 2, 1, 3})}});
  ir::Value* soft = graph.node("Softmax", {bins_first}, {1, bins, 4, anchors}, {{"axis", int_attr(1)}});
  std::vector<float> arange;
  for (int64_t i = 0; i < bins; ++i) arange.push_back(static_cast<float>(i));
  graph.output(graph.node("Conv", {soft, add_float_constant(*graph.model.graph, "dfl", {1, bins, 1, 1}, arange)},
                          {1, 1, 4, anchors}, {{"kernel_shape", ints_attr({1, 1})}}));
  graph.output(graph.node("Sigmoid", {class_map}, {1, 2, 4, 4}));

  YoloHeadSearch search = search_yolo_head(*graph.model.graph);
  EXPECT_FALSE(search.head);
  ASSERT_FALSE(search.notes.empty());
  EXPECT_NE(search.notes.front().find("head map 2x2 has a box Conv but no class Conv"), std::string::npos)
      << search.notes.front();
  YoloCutResult cut = cut_yolo_postprocess(graph.model);
  EXPECT_EQ(cut.pass.rewrites, 0);
  EXPECT_TRUE(cut.sidecar_json.empty());
  EXPECT_EQ(cut.pass.notes, search.notes);
  EXPECT_EQ(graph.model.graph->outputs.size(), 2u);
}

// A YOLOv5 decode whose anchors come from a graph input (not a constant): found and cut, anchors null, noted.
TEST(YoloHeadVariants, AnchorsThatAreNotConstantGiveANote) {
  ir::Model model = load_variant("yolo_v5_pow");
  // Turn every 5-D anchor constant of the decode into a graph input: the values are no longer in the graph.
  for (const auto& node : model.graph->nodes()) {
    for (ir::Value* input : node->inputs) {
      if (!input || !input->initializer || input->initializer->shape().size() != 5 ||
          input->initializer->shape()[1] != 3) {
        continue;
      }
      input->initializer.reset();
      input->is_graph_input = true;
      model.graph->inputs.push_back(input);
    }
  }
  YoloCutResult cut = cut_yolo_postprocess(model);
  ASSERT_FALSE(cut.sidecar_json.empty());
  const nlohmann::json sidecar = nlohmann::json::parse(cut.sidecar_json);
  EXPECT_TRUE(sidecar["anchors"].is_null());
  EXPECT_EQ(sidecar["strides"], nlohmann::json({8, 16, 32}));
  EXPECT_TRUE(any_note_contains(cut.pass.notes, "no constant anchor grid found in the decode of the stride 8 level"));
}

}  // namespace
}  // namespace npukit::passes
