// IR shape inference against libonnx's and against the reference backend.
//
// libonnx: every ONNX node-test model (libonnx-testdata) and every whole model
// in models/ is loaded with npukit's importer (which runs libonnx shape inference), the types of computed
// values are erased, ir::infer_shapes runs, and every value libonnx gave a static shape must get the same
// dtype and dims from the IR. A disagreement is a bug in one of the two: see the notes at kOpsWithoutRule.
//
// Reference backend: the whole models whose shapes are computed at run time (Shape → Gather → Div → Slice,
// ConstantOfShape → Where → Expand), where libonnx gives up, run once at a fixed input size; every tensor's
// actual shape must be the one infer_shapes gives, and infer_shapes must leave no dim unknown.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include <fstream>
#include <sstream>

#include "conformance/conformance_runner.h"
#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "onnx/onnx_import.h"

namespace npukit {
namespace {

const std::string kNodeTests = "/usr/share/libonnx-testdata/data/node";
const std::filesystem::path kModels = NPUKIT_MODELS_DIR;

// Ops the IR has no rule for: their outputs keep whatever type they had (here: none), so libonnx's static
// shapes for them are not compared. Keep this list short; each entry says why it is here. Empty today: every
// op of every importable node test has a rule.
const std::set<std::string> kOpsWithoutRule = {};

// The model file with every declared shape of a computed value removed (value_info, graph outputs, in
// subgraphs too), so that the shapes libonnx gives them are its inference's, not the file's declarations (a
// node test declares its outputs, data-dependent ones included).
void strip_declared_shapes(onnx::GraphProto& graph) {
  graph.clear_value_info();
  for (auto& output : *graph.mutable_output()) {
    if (output.type().has_tensor_type()) output.mutable_type()->mutable_tensor_type()->clear_shape();
  }
  for (auto& node : *graph.mutable_node()) {
    for (auto& attribute : *node.mutable_attribute()) {
      if (attribute.has_g()) strip_declared_shapes(*attribute.mutable_g());
      for (auto& subgraph : *attribute.mutable_graphs()) strip_declared_shapes(subgraph);
    }
  }
}

// The checker is off: it requires declared output shapes (the files pass it as they are, in the importer's tests).
ir::Model load_with_inferred_shapes(const std::filesystem::path& path, onnx_io::ImportOptions options = {}) {
  options.run_checker = false;
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  onnx::ModelProto proto;
  if (!proto.ParseFromString(bytes.str())) throw Error(ErrorKind::invalid_model, "does not parse", path.string());
  strip_declared_shapes(*proto.mutable_graph());
  return onnx_io::load_model_from_bytes(proto.SerializeAsString(), path.string(), path.parent_path().string(), options);
}

struct Expected {
  const ir::Node* producer;
  ir::TensorType type;
};

// Every value a node of `graph` (or of its subgraphs) computes: remembers what libonnx found and erases it,
// so infer_shapes starts from nothing but the inputs and constants.
void erase_computed(ir::Graph& graph, std::map<ir::Value*, Expected>& expected) {
  for (const auto& node : graph.nodes()) {
    for (ir::Value* output : node->outputs) {
      if (!output) continue;
      if (output->type.dtype != DType::undefined || output->type.shape) expected[output] = {node.get(), output->type};
      output->type = {};
    }
    for (auto& [key, attribute] : node->attributes) {
      if (attribute.graph_value) erase_computed(*attribute.graph_value, expected);
      for (auto& subgraph : attribute.graph_values) erase_computed(*subgraph, expected);
    }
  }
}

struct Coverage {
  size_t models = 0;
  size_t values_compared = 0;         // libonnx knew the dtype or the rank
  size_t static_values_compared = 0;  // libonnx knew every dim
  size_t values_skipped = 0;  // produced by an op of kOpsWithoutRule
  size_t outputs_checked_against_data = 0;
  std::set<std::string> ops_met;
  std::vector<std::string> failures;
};

// Ours must know what libonnx knows: its dtype, its rank, each of its static dims (its symbols are names it
// made up, not compared). Where ours knows more, libonnx could not tell: not a disagreement.
bool at_least_as_known(const ir::TensorType& ours, const ir::TensorType& libonnx) {
  if (libonnx.dtype != DType::undefined && ours.dtype != libonnx.dtype) return false;
  if (!libonnx.shape) return true;
  if (!ours.shape || ours.shape->size() != libonnx.shape->size()) return false;
  for (size_t i = 0; i < libonnx.shape->size(); ++i) {
    const ir::Dim& theirs = (*libonnx.shape)[i];
    if (theirs.is_static() && (*ours.shape)[i].value != theirs.value) return false;
  }
  return true;
}

void compare_model(ir::Model& model, const std::string& label, Coverage& coverage) {
  std::map<ir::Value*, Expected> expected;
  erase_computed(*model.graph, expected);
  ir::ShapeInferenceReport report;
  try {
    report = ir::infer_shapes(*model.graph);
  } catch (const Error& error) {
    coverage.failures.push_back(label + ": infer_shapes threw: " + error.what());
    return;
  }
  ++coverage.models;
  for (const std::string& op : report.ops_without_rule) {
    if (!kOpsWithoutRule.count(op)) {
      coverage.failures.push_back(label + ": no rule for " + op + " (add one or list it in kOpsWithoutRule)");
    }
  }
  for (const auto& [value, truth] : expected) {
    coverage.ops_met.insert(truth.producer->op_type);
    if (kOpsWithoutRule.count(truth.producer->op_type)) {
      ++coverage.values_skipped;
      continue;
    }
    ++coverage.values_compared;
    if (truth.type.has_static_shape()) ++coverage.static_values_compared;
    if (!at_least_as_known(value->type, truth.type)) {
      coverage.failures.push_back(label + ": '" + value->name + "' of node " + truth.producer->describe() + ": libonnx " +
                                  truth.type.to_string() + ", ir " + value->type.to_string());
    }
  }
}

// Where ours knows more than libonnx, the test's expected output tensors tell whether it is right: every
// dim ours gives a graph output must be the expected tensor's.
void compare_with_expected_outputs(const ir::Graph& graph, const std::vector<conformance::DataSet>& data_sets,
                                   const std::string& label, Coverage& coverage) {
  for (const conformance::DataSet& data_set : data_sets) {
    for (size_t k = 0; k < graph.outputs.size() && k < data_set.expected_outputs.size(); ++k) {
      const ir::TensorType& ours = graph.outputs[k]->type;
      const Tensor& expected = data_set.expected_outputs[k];
      if (!ours.shape) continue;
      ++coverage.outputs_checked_against_data;
      bool agrees = ours.shape->size() == expected.rank();
      for (size_t d = 0; agrees && d < expected.rank(); ++d) {
        const ir::Dim& dim = (*ours.shape)[d];
        agrees = !dim.is_static() || dim.value == expected.dim(d);
      }
      if (!agrees || (ours.dtype != DType::undefined && ours.dtype != expected.dtype())) {
        coverage.failures.push_back(label + " " + data_set.name + ": output '" + graph.outputs[k]->name + "' is " +
                                    std::string(dtype_name(expected.dtype())) + shape_to_string(expected.shape()) +
                                    ", ir inferred " + ours.to_string());
      }
    }
  }
}

std::string failure_list(const std::vector<std::string>& failures) {
  std::string text;
  for (size_t i = 0; i < failures.size() && i < 60; ++i) text += "  " + failures[i] + "\n";
  if (failures.size() > 60) text += "  ... and " + std::to_string(failures.size() - 60) + " more\n";
  return text;
}

TEST(ShapeInferenceAgainstLibonnx, EveryNodeTestModel) {
  ASSERT_TRUE(std::filesystem::is_directory(kNodeTests)) << kNodeTests << " is missing: install libonnx-testdata";
  Coverage coverage;
  size_t not_loaded = 0;
  for (const std::string& folder : conformance::list_tests(kNodeTests)) {
    const std::string name = std::filesystem::path(folder).filename().string();
    ir::Model model;
    try {
      model = load_with_inferred_shapes(folder + "/model.onnx");
    } catch (const Error&) {
      ++not_loaded;  // sequences, strings, ... npukit does not import them; the importer's tests cover that
      continue;
    }
    std::vector<conformance::DataSet> data_sets;
    try {
      data_sets = conformance::read_data_sets(folder, *model.graph);
    } catch (const Error&) {
      // Data the conformance runner cannot read either (it reports those tests); the shapes are still compared.
    }
    compare_model(model, name, coverage);
    compare_with_expected_outputs(*model.graph, data_sets, name, coverage);
  }
  std::cout << "shape inference vs libonnx: " << coverage.models << " node-test models (" << not_loaded
            << " not importable), " << coverage.values_compared << " values compared ("
            << coverage.static_values_compared << " fully static), " << coverage.values_skipped
            << " skipped (ops without rule), " << coverage.outputs_checked_against_data
            << " outputs checked against the expected tensors, " << coverage.ops_met.size() << " op types\n";
  EXPECT_GT(coverage.static_values_compared, 1000u);
  EXPECT_TRUE(coverage.failures.empty()) << coverage.failures.size() << " disagreements:\n"
                                         << failure_list(coverage.failures);
}

// The models the suite must cover, and every other model found next to them (tools/make_models.sh adds more).
std::vector<std::filesystem::path> whole_models() {
  std::vector<std::filesystem::path> models = {
      kModels / "generated" / "mobilenetv2.onnx", kModels / "generated" / "resnet50.onnx",
      kModels / "generated" / "yolov5s.onnx",     kModels / "generated" / "yolov5s_raw.onnx",
      kModels / "generated" / "yolov8n.onnx",     kModels / "generated" / "yolov8n_raw.onnx",
      kModels / "generated" / "vit.onnx",         kModels / "ocr" / "ch_PP-OCRv4_det_infer.onnx",
      kModels / "ocr" / "ch_PP-OCRv4_rec_infer.onnx", kModels / "ocr" / "ch_ppocr_mobile_v2.0_cls_infer.onnx",
  };
  std::set<std::filesystem::path> found;
  for (const char* folder : {"generated", "ocr"}) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(kModels / folder, error)) {
      if (entry.path().extension() == ".onnx") found.insert(entry.path());
    }
  }
  for (const auto& path : models) found.erase(path);
  models.insert(models.end(), found.begin(), found.end());
  return models;
}

TEST(ShapeInferenceAgainstLibonnx, EveryWholeModel) {
  const std::vector<std::filesystem::path> models = whole_models();
  Coverage coverage;
  std::vector<std::string> left_dynamic;
  for (const auto& path : models) {
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run tools/make_models.sh";
    // As exported (dynamic dims stay symbolic), then at a fixed input size as check and patch see the models,
    // so that every computed value has static dims: batch 1, other dynamic dims 640.
    ir::Model as_exported = load_with_inferred_shapes(path);
    onnx_io::ImportOptions options;
    for (const ir::Value* input : as_exported.graph->inputs) {
      if (!input->type.shape) continue;
      std::vector<int64_t> dims;
      for (const ir::Dim& dim : *input->type.shape) dims.push_back(dim.is_static() ? dim.value : (dims.empty() ? 1 : 640));
      options.input_shapes[input->name] = dims;
    }
    compare_model(as_exported, path.filename().string() + " (as exported)", coverage);
    ir::Model fixed = load_with_inferred_shapes(path, options);
    compare_model(fixed, path.filename().string(), coverage);
    // At a fixed input size the IR alone makes every computed value static: no run on ref needed.
    for (const auto& node : fixed.graph->nodes()) {
      for (const ir::Value* output : node->outputs) {
        if (output && !output->type.has_static_shape()) {
          left_dynamic.push_back(path.filename().string() + ": '" + output->name + "' " + output->type.to_string());
        }
      }
    }
  }
  std::cout << "shape inference vs libonnx: " << coverage.models << " whole models, " << coverage.values_compared
            << " values compared (" << coverage.static_values_compared << " fully static), "
            << coverage.ops_met.size() << " op types\n";
  EXPECT_EQ(coverage.models, 2 * models.size());
  EXPECT_TRUE(coverage.failures.empty()) << coverage.failures.size() << " disagreements:\n"
                                         << failure_list(coverage.failures);
  EXPECT_TRUE(left_dynamic.empty()) << left_dynamic.size() << " values left dynamic at a fixed input size:\n"
                                    << failure_list(left_dynamic);
}

TEST(ShapeInferenceAgainstReference, ModelsWithShapesComputedAtRunTime) {
  struct Case {
    std::filesystem::path path;
    std::vector<int64_t> input_dims;
  };
  const std::vector<Case> cases = {
      {kModels / "generated" / "yolov8n_raw.onnx", {1, 3, 320, 320}},
      {kModels / "generated" / "yolo_v8_dynamic_batch.onnx", {1, 3, 320, 256}},  // anchors: Range(0, Shape(x)[3])
      {kModels / "generated" / "yolov5s.onnx", {}},
      {kModels / "generated" / "vit.onnx", {}},
      {kModels / "ocr" / "ch_PP-OCRv4_rec_infer.onnx", {1, 3, 48, 160}},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.path.filename().string());
    ASSERT_TRUE(std::filesystem::exists(test.path)) << test.path << " is missing: run tools/make_models.sh";
    onnx_io::ImportOptions options;
    auto model = std::make_shared<ir::Model>(onnx_io::load_model(test.path.string()));
    if (!test.input_dims.empty()) {
      options.input_shapes[model->graph->inputs[0]->name] = test.input_dims;
      *model = onnx_io::load_model(test.path.string(), options);
    }
    // Every computed value of the top graph becomes an output, so one run measures them all.
    std::map<std::string, Tensor> feeds;
    for (const ir::Value* input : model->graph->inputs) {
      ASSERT_TRUE(input->type.has_static_shape()) << input->name;
      feeds[input->name] = Tensor(input->type.dtype, input->type.static_shape());
    }
    for (const auto& node : model->graph->nodes()) {
      for (ir::Value* output : node->outputs) {
        if (!output || output->is_graph_output) continue;
        output->is_graph_output = true;
        model->graph->outputs.push_back(output);
      }
    }
    std::map<std::string, Tensor> measured = engine::Engine::from_model(model, {.backend = "ref"})->run(feeds);
    for (const auto& node : model->graph->nodes()) {
      for (ir::Value* output : node->outputs) {
        if (output) output->type = {};
      }
    }
    const auto start = std::chrono::steady_clock::now();
    ir::ShapeInferenceReport report = ir::infer_shapes(*model->graph);
    const double milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(report.ops_without_rule.empty());
    size_t compared = 0;
    for (const auto& node : model->graph->nodes()) {
      for (const ir::Value* output : node->outputs) {
        if (!output) continue;
        auto found = measured.find(output->name);
        ASSERT_NE(found, measured.end()) << output->name;
        ir::TensorType actual{found->second.dtype(), {}};
        actual.shape.emplace();
        for (int64_t dim : found->second.shape()) actual.shape->push_back(ir::Dim::fixed(dim));
        EXPECT_EQ(output->type.to_string(), actual.to_string()) << "'" << output->name << "' of node " << node->describe();
        ++compared;
      }
    }
    std::cout << test.path.filename().string() << ": " << compared << " computed tensors, every shape inferred as the "
              << "reference backend produces it, in " << milliseconds << " ms\n";
  }
}

}  // namespace
}  // namespace npukit

namespace npukit {
namespace {

// The YOLOv8n export holds its decode's Reshape targets as constants for 640x640 (8400 anchors): at another
// input size the model cannot run, and inference must say where, before anything runs.
TEST(ShapeInferenceAgainstReference, YoloV8AtAnotherInputSizeNamesTheReshapeWithTheHardCodedTarget) {
  const std::filesystem::path path = kModels / "generated" / "yolov8n.onnx";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run tools/make_models.sh";
  ir::Model model = onnx_io::load_model(path.string());
  model.graph->inputs[0]->type.shape = std::vector<ir::Dim>{ir::Dim::fixed(1), ir::Dim::fixed(3), ir::Dim::fixed(320),
                                                            ir::Dim::fixed(320)};
  try {
    ir::infer_shapes(*model.graph);
    FAIL() << "a 320x320 input cannot pass the 640x640 Reshape targets";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_model);
    EXPECT_EQ(error.node(), "'/detect/dfl/Reshape' (Reshape)") << error.what();
    EXPECT_NE(error.reason().find("8400"), std::string::npos) << error.what();
  }
}

// Inference from scratch: with every computed type cleared, one pass gives every node output its shape again.
// (Its time is printed for information only: speed is measured in bench/, never asserted in a unit test.)
TEST(ShapeInferenceAgainstReference, YoloV8nInfersEveryValueAgainAfterItsTypesAreCleared) {
  const std::filesystem::path path = kModels / "generated" / "yolov8n.onnx";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run tools/make_models.sh";
  ir::Model model = onnx_io::load_model(path.string());
  std::map<const ir::Value*, std::vector<int64_t>> expected;
  ir::infer_shapes(*model.graph);
  for (const auto& node : model.graph->nodes()) {
    for (ir::Value* output : node->outputs) {
      if (!output) continue;
      ASSERT_TRUE(output->type.shape.has_value()) << output->name;
      std::vector<int64_t> dims;
      for (const ir::Dim& dim : *output->type.shape) {
        ASSERT_TRUE(dim.is_static()) << output->name;
        dims.push_back(dim.value);
      }
      expected[output] = dims;
    }
  }
  ASSERT_FALSE(expected.empty());
  for (const auto& node : model.graph->nodes()) {
    for (ir::Value* output : node->outputs) {
      if (output) output->type = {};
    }
  }
  const auto start = std::chrono::steady_clock::now();
  ir::infer_shapes(*model.graph);
  const double milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::cout << "yolov8n.onnx: infer_shapes of " << expected.size() << " values in " << milliseconds << " ms\n";
  for (const auto& [value, dims] : expected) {
    ASSERT_TRUE(value->type.shape.has_value()) << value->name;
    std::vector<int64_t> again;
    for (const ir::Dim& dim : *value->type.shape) again.push_back(dim.is_static() ? dim.value : -1);
    EXPECT_EQ(again, dims) << value->name;
  }
}

// What model preparation will do: change a graph input's dims in the IR and infer again, instead of
// exporting, re-importing and forking for libonnx. The result must know everything a re-import at that input
// size knows (the declared, symbolic dims it replaces are not conflicts).
TEST(ShapeInferenceAgainstLibonnx, NewInputSizeInTheIrMatchesAReimportAtThatSize) {
  const std::vector<std::pair<std::filesystem::path, std::vector<int64_t>>> cases = {
      {kModels / "ocr" / "ch_PP-OCRv4_det_infer.onnx", {1, 3, 480, 640}},
      {kModels / "ocr" / "ch_PP-OCRv4_rec_infer.onnx", {2, 3, 48, 320}},
      {kModels / "ocr" / "ch_ppocr_mobile_v2.0_cls_infer.onnx", {4, 3, 48, 192}},
  };
  Coverage coverage;
  for (const auto& [path, dims] : cases) {
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run tools/make_models.sh";
    ir::Model model = onnx_io::load_model(path.string());
    ir::Value* input = model.graph->inputs[0];
    input->type.shape = std::vector<ir::Dim>();
    for (int64_t size : dims) input->type.shape->push_back(ir::Dim::fixed(size));
    ir::ShapeInferenceReport report = ir::infer_shapes(*model.graph);
    EXPECT_TRUE(report.conflicts.empty()) << path.filename() << ": " << report.conflicts.front();
    EXPECT_GT(report.values_learned, 0u);
    // A second run has nothing left to learn and agrees with the first.
    ir::ShapeInferenceReport again = ir::infer_shapes(*model.graph);
    EXPECT_EQ(again.values_learned, 0u);
    EXPECT_TRUE(again.conflicts.empty());
    onnx_io::ImportOptions options;
    options.input_shapes[input->name] = dims;
    ir::Model reimported = load_with_inferred_shapes(path, options);
    for (const auto& node : reimported.graph->nodes()) {
      for (const ir::Value* truth : node->outputs) {
        if (!truth || (!truth->type.shape && truth->type.dtype == DType::undefined)) continue;
        const ir::Value* ours = model.graph->find_value(truth->name);
        ASSERT_NE(ours, nullptr) << truth->name;
        ++coverage.values_compared;
        if (!ours->type.has_static_shape()) {
          coverage.failures.push_back(path.filename().string() + ": '" + ours->name + "' is " + ours->type.to_string());
        } else if (!at_least_as_known(ours->type, truth->type)) {
          coverage.failures.push_back(path.filename().string() + ": '" + ours->name + "' libonnx " +
                                      truth->type.to_string() + ", ir " + ours->type.to_string());
        }
      }
    }
  }
  std::cout << "new input size in the IR: " << coverage.values_compared << " values, all static, agree with a re-import\n";
  EXPECT_TRUE(coverage.failures.empty()) << coverage.failures.size() << " disagreements:\n" << failure_list(coverage.failures);
}

// Bad input is a feature: every node-test model, its inputs' shapes replaced by shapes the ops do not
// expect (rank unknown, every dim 0, 1 or symbolic, one extra dim), must give types or an npukit::Error,
// never a crash or another exception.
TEST(ShapeInferenceRobustness, PerturbedInputShapesGiveTypesOrErrorsNamingTheNode) {
  ASSERT_TRUE(std::filesystem::is_directory(kNodeTests)) << kNodeTests << " is missing: install libonnx-testdata";
  using Perturbation = std::function<std::optional<std::vector<ir::Dim>>(const std::vector<ir::Dim>&)>;
  const std::vector<Perturbation> perturbations = {
      [](const std::vector<ir::Dim>&) { return std::nullopt; },
      [](const std::vector<ir::Dim>& dims) { return std::vector<ir::Dim>(dims.size(), ir::Dim::fixed(0)); },
      [](const std::vector<ir::Dim>& dims) { return std::vector<ir::Dim>(dims.size(), ir::Dim::fixed(1)); },
      [](const std::vector<ir::Dim>& dims) { return std::vector<ir::Dim>(dims.size(), ir::Dim::symbolic("n")); },
      [](const std::vector<ir::Dim>& dims) {
        std::vector<ir::Dim> longer(dims);
        longer.push_back(ir::Dim::fixed(2));
        return longer;
      },
  };
  size_t runs = 0;
  size_t errors = 0;
  std::vector<std::string> failures;
  for (const std::string& folder : conformance::list_tests(kNodeTests)) {
    const std::string name = std::filesystem::path(folder).filename().string();
    ir::Model model;
    try {
      // Neither checker nor libonnx inference: no child process per model, and infer_shapes starts from nothing.
      model = onnx_io::load_model(folder + "/model.onnx", {.run_checker = false, .run_shape_inference = false});
    } catch (const Error&) {
      continue;
    }
    std::vector<std::optional<std::vector<ir::Dim>>> original;
    for (const ir::Value* input : model.graph->inputs) original.push_back(input->type.shape);
    for (const Perturbation& perturb : perturbations) {
      for (size_t i = 0; i < original.size(); ++i) {
        model.graph->inputs[i]->type.shape = original[i] ? perturb(*original[i]) : std::nullopt;
      }
      ++runs;
      try {
        ir::infer_shapes(*model.graph);
      } catch (const Error& error) {
        ++errors;
        if (error.node().empty()) failures.push_back(name + ": an error that names no node: " + error.what());
      } catch (const std::exception& error) {
        failures.push_back(name + ": " + error.what());
      }
    }
  }
  std::cout << "perturbed input shapes: " << runs << " runs, " << errors << " errors naming the node\n";
  EXPECT_GT(runs, 4000u);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures:\n" << failure_list(failures);
}

}  // namespace
}  // namespace npukit
