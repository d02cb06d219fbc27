// npukit classify MODEL IMAGE...: the top-k classes of each picture. Pre-processing is the ImageNet one most
// exported classifiers expect (resize to the input size keeping nothing of the aspect, RGB, mean/std), or
// Ultralytics' (/255) with --normalize unit.
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/table.h"
#include "ir/graph.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "passes/yolo_sidecar.h"
#include "vision/classification.h"
#include "vision/image_decoding.h"
#include "vision/letterbox.h"

namespace npukit::cli {

namespace {

struct ClassifyArguments {
  std::string model;
  std::vector<std::string> images;
  int top = 5;
  std::string normalize = "imagenet";
  std::string backend = "cpu";
  int threads = 1;
  bool json = false;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
};

void classify(const ClassifyArguments& arguments) {
  if (arguments.top < 1) throw Error(ErrorKind::invalid_argument, "--top must be 1 or more");
  vision::Normalization normalization;
  if (arguments.normalize == "imagenet") {
    normalization.mean = {123.675f, 116.28f, 103.53f};
    normalization.scale = {1 / 58.395f, 1 / 57.12f, 1 / 57.375f};
  } else if (arguments.normalize != "unit") {
    throw Error(ErrorKind::invalid_argument, "--normalize is imagenet or unit, not '" + arguments.normalize + "'");
  }
  std::vector<std::string> images;
  for (const std::string& argument : arguments.images) {
    std::error_code error;
    if (std::filesystem::is_directory(argument, error)) {
      for (const std::string& file : vision::list_image_files(argument)) images.push_back(file);
    } else {
      images.push_back(argument);
    }
  }
  preparation::PreparedModel prepared = load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values);
  if (!arguments.json) print_preparation_notes(std::cerr, prepared.report);
  preparation::require_static_inputs(prepared.model, "classify");
  std::vector<std::string> names;
  if (auto found = prepared.model.metadata.find("names"); found != prepared.model.metadata.end()) {
    if (auto parsed = passes::parse_class_names(found->second)) names = *parsed;
  }
  engine::EngineOptions options;
  options.backend = arguments.backend;
  options.threads = arguments.threads;
  std::unique_ptr<engine::Engine> session = engine::Engine::adopt(std::make_shared<ir::Model>(std::move(prepared.model)), options);
  // The count first: a model without inputs must get this message, not an out-of-range exception.
  const bool one_input = session->inputs().size() == 1;
  const ValueInfo* input = one_input ? &session->inputs().front() : nullptr;
  if (!one_input || input->dtype != DType::f32 || input->shape.size() != 4 || input->shape[0] != 1 ||
      input->shape[1] != 3 || session->outputs().size() != 1) {
    throw Error(ErrorKind::invalid_argument, "classify needs one float32 [1, 3, H, W] input and one output",
                arguments.model);
  }
  // A classifier's input is the whole picture stretched to the input size (no padding).
  vision::LetterboxOptions resize;
  resize.height = static_cast<int>(input->shape[2]);
  resize.width = static_cast<int>(input->shape[3]);
  resize.scale_fill = true;
  Table table({{"picture"}, {"rank", Align::right}, {"class"}, {"probability", Align::right}});
  nlohmann::json report = nlohmann::json::array();
  bool softmax_applied = false;
  for (const std::string& path : images) {
    session->set_input(input->name, vision::letterbox_to_tensor(vision::read_image(path), resize, normalization));
    session->run();
    const vision::TopK top = vision::top_k_classes(session->output(session->outputs()[0].name), arguments.top);
    softmax_applied = top.softmax_applied;
    nlohmann::json classes = nlohmann::json::array();
    for (size_t rank = 0; rank < top.best.size(); ++rank) {
      const int id = top.best[rank].class_id;
      const std::string name = id < static_cast<int>(names.size()) ? names[id] : "class " + std::to_string(id);
      table.add_row({rank == 0 ? std::filesystem::path(path).filename().string() : "", std::to_string(rank + 1), name,
                     format_number(top.best[rank].probability, 4)});
      classes.push_back({{"class_id", id}, {"class_name", name}, {"probability", top.best[rank].probability}});
    }
    report.push_back({{"file", path}, {"top", classes}, {"softmax_applied", top.softmax_applied}});
  }
  if (arguments.json) {
    std::cout << nlohmann::json({{"model", arguments.model}, {"normalize", arguments.normalize}, {"images", report}}).dump(2)
              << "\n";
    return;
  }
  table.print(std::cout, 2);
  if (softmax_applied) std::cout << "\n  (the output is logits: probabilities by softmax)\n";
}

}  // namespace

void register_classify_command(CLI::App& app) {
  auto arguments = std::make_shared<ClassifyArguments>();
  CLI::App* command = app.add_subcommand("classify", "Classify pictures: the top-k classes of each");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  command->add_option("images", arguments->images, "Pictures (JPEG, PNG, BMP) or directories")->required()
      ->type_name("IMAGE...");
  command->add_option("--top,-k", arguments->top, "How many classes per picture (default 5)")->type_name("K");
  command->add_option("--normalize", arguments->normalize,
                      "imagenet (mean/std, default) or unit (pixel / 255, Ultralytics)")->type_name("MODE");
  command->add_option("--backend", arguments->backend, "Backend: cpu (default) or ref")->type_name("NAME");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads (default 1; 0 = all cores)")->type_name("N");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { classify(*arguments); });
}

}  // namespace npukit::cli
