// npukit pipeline MODEL SOURCE --workers N -o DIR: the detection pipeline (src/pipeline/) on pictures, a video or
// a synthetic stream: decode, letterbox, N inference workers sharing the model's weights, YOLO decode + NMS,
// annotated pictures or video and detections.json in DIR; a table per stage (time, wait in front, how busy),
// throughput and latency. A fault (a truncated picture or video, a worker error, a sink that cannot write) stops
// the run: every frame computed before it is kept in detections.json, the error is printed, the exit is 1.
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "cli/yolo_detector.h"
#include "ir/graph.h"
#include "pipeline/detection_file_sink.h"
#include "pipeline/detection_pipeline.h"
#include "pipeline/frame_sources.h"
#include "pipeline/statistics_json.h"
#include "vision/image_encoding.h"

namespace npukit::cli {

namespace {

struct PipelineArguments {
  std::string model;
  std::string source;
  std::string output_dir;
  std::string sidecar;
  int workers = 1;
  int threads_per_worker = 1;
  int pipeline_threads = 0;
  int queue = 0;
  int64_t frames = 0;
  float confidence = 0.25f;
  float iou = 0.7f;
  int max_detections = 300;
  bool agnostic = false;
  std::string backend = "cpu";
  bool json = false;
  std::vector<std::string> input_shapes, input_values;
};

// Shows progress from the sink (one thread at a time) and passes every frame on.
class ProgressSink final : public pipeline::FrameSink {
 public:
  ProgressSink(pipeline::FrameSink& inner, Progress& progress) : inner_(inner), progress_(progress) {}
  void write(int64_t index, pipeline::DetectionFrame& frame, const pipeline::StageFailure* failure) override {
    progress_.update(index + 1, frame.name);
    inner_.write(index, frame, failure);
  }

 private:
  pipeline::FrameSink& inner_;
  Progress& progress_;
};

void run_pipeline_command(const PipelineArguments& arguments) {
  const vision::DetectionOptions detection =
      make_detection_options(arguments.confidence, arguments.iou, arguments.max_detections, arguments.agnostic);
  // The source first: a missing file is reported before the model is loaded.
  std::unique_ptr<pipeline::FrameSource> source = pipeline::open_frame_source(arguments.source, arguments.frames, false);
  preparation::PreparedModel prepared = load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values);
  if (!arguments.json) print_preparation_notes(std::cerr, prepared.report);
  preparation::require_static_inputs(prepared.model, "pipeline");
  YoloDetectorOptions sidecar_lookup;
  sidecar_lookup.model = arguments.model;
  sidecar_lookup.sidecar = arguments.sidecar;
  pipeline::DetectionPipelineOptions options;
  options.model_name = arguments.model;
  options.sidecar_path = find_sidecar(sidecar_lookup);
  options.backend = arguments.backend;
  options.workers = arguments.workers;
  options.threads_per_worker = arguments.threads_per_worker;
  options.pipeline_threads = arguments.pipeline_threads;
  options.queue_capacity = arguments.queue;
  options.detection = detection;
  pipeline::DetectionPipeline detector(std::make_shared<const ir::Model>(std::move(prepared.model)), options);
  if (!arguments.json) {
    for (const std::string& note : detector.postprocessor().notes()) std::cerr << "npukit: note: " << note << "\n";
  }

  std::error_code error;
  std::filesystem::create_directories(arguments.output_dir, error);
  if (!std::filesystem::is_directory(arguments.output_dir, error)) {
    throw Error(ErrorKind::io, "cannot create the output directory (is the parent there and writable?)", arguments.output_dir);
  }
  const std::string video_stem =
      source->decodes_in_source() ? std::filesystem::path(arguments.source).stem().string() : std::string();
  pipeline::DetectionFileSink sink(arguments.output_dir, detector.postprocessor(), video_stem);
  pipeline::PipelineStatistics statistics;
  {
    const int64_t expected = source->expected_frames();
    Progress progress("pipeline", std::max<int64_t>(expected, 1), !arguments.json && expected > 0);
    ProgressSink progress_sink(sink, progress);
    statistics = detector.run(*source, progress_sink);
  }
  std::optional<std::string> finish_error;
  try {
    sink.finish();
  } catch (const std::exception& failure) {
    finish_error = failure.what();
  }

  const vision::YoloPostprocessor& postprocessor = detector.postprocessor();
  nlohmann::json categories = nlohmann::json::array();
  for (int c = 0; c < postprocessor.class_count(); ++c) categories.push_back({{"id", c}, {"name", postprocessor.class_name(c)}});
  const std::string json_path = (std::filesystem::path(arguments.output_dir) / "detections.json").string();
  nlohmann::json report = {
      {"model", arguments.model},
      {"source", source->description()},
      {"head", postprocessor.description()},
      {"sidecar", options.sidecar_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.sidecar_path)},
      {"backend", arguments.backend},
      {"input", {detector.input_height(), detector.input_width()}},
      {"workers", arguments.workers},
      {"threads_per_worker", arguments.threads_per_worker},
      {"confidence", arguments.confidence},
      {"iou", arguments.iou},
      {"max_detections", arguments.max_detections},
      {"agnostic", arguments.agnostic},
      {"categories", categories},
      {"frames_with_results", sink.frames_with_boxes_kept()},
      {"frames_annotated", sink.frames_written()},
      {"boxes", sink.boxes()},
      {"annotated_video", sink.annotated_video().empty() || finish_error ? nlohmann::json(nullptr) : nlohmann::json(sink.annotated_video())},
      {"statistics", pipeline::statistics_json(statistics)},
      {"frames", sink.frames_json()}};
  std::optional<std::string> json_error;
  try {
    vision::write_file_atomically(json_path, report.dump(1) + "\n");
  } catch (const std::exception& failure) {
    json_error = failure.what();
  }
  report["detections_json"] = json_error ? nlohmann::json(nullptr) : nlohmann::json(json_path);
  if (arguments.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    std::cout << "npukit pipeline: " << arguments.model << " (" << postprocessor.description() << "), input "
              << detector.input_height() << "x" << detector.input_width() << ", " << arguments.workers << " worker"
              << (arguments.workers == 1 ? "" : "s") << " x " << arguments.threads_per_worker << " thread"
              << (arguments.threads_per_worker == 1 ? "" : "s") << " (" << statistics.settings.threads
              << " pipeline threads, at most " << statistics.settings.queue_capacity << " frames in flight)\n  source: "
              << source->description() << "\n\n";
    pipeline::print_stage_table(std::cout, statistics);
    std::cout << "\n  " << sink.frames_with_boxes_kept() << " frames with " << sink.boxes() << " boxes kept; "
              << sink.frames_written() << " annotated " << (video_stem.empty() ? "pictures" : "video frames") << " in "
              << arguments.output_dir << "\n";
    if (!json_error) std::cout << "  boxes per frame: " << json_path << "\n";
  }
  // Errors last, after everything computed has been written and counted.
  if (json_error) throw Error(ErrorKind::io, "could not write detections.json: " + *json_error, json_path);
  if (finish_error) throw Error(ErrorKind::io, "could not finish the annotated video: " + *finish_error, sink.annotated_video());
  if (statistics.first_failure) {
    throw Error(ErrorKind::io, "the pipeline stopped at frame " + std::to_string(statistics.first_failed_frame) + " (" +
                                   pipeline::stage_name(statistics.first_failure->stage) + "): " +
                                   statistics.first_failure->message + "; the " + std::to_string(sink.frames_with_boxes_kept()) +
                                   " frames computed are kept in " + json_path);
  }
}

}  // namespace

void register_pipeline_command(CLI::App& app) {
  auto arguments = std::make_shared<PipelineArguments>();
  CLI::App* command = app.add_subcommand(
      "pipeline", "Detect objects in a stream with N inference workers: decode, pre-process, infer, NMS, write (per-stage times)");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  command->add_option("source", arguments->source,
                      "A directory of pictures, a picture, a video file, or synthetic[:WxH] (a generated picture, --frames times)")
      ->required()
      ->type_name("SOURCE");
  command->add_option("-o,--output-dir", arguments->output_dir, "Where annotated pictures / video and detections.json go")
      ->required()
      ->type_name("DIR");
  command->add_option("--workers,-w", arguments->workers, "Inference workers, each with its own engine (default 1)")->type_name("N");
  command->add_option("--threads-per-worker", arguments->threads_per_worker, "Intra-op threads of each worker (default 1)")
      ->type_name("T");
  command->add_option("--pipeline-threads", arguments->pipeline_threads,
                      "Threads that run the stages (default: one per worker; decode, pre- and post-processing share them)")
      ->type_name("N");
  command->add_option("--queue", arguments->queue, "Frames in flight at most (default 2 x workers + 2)")->type_name("N");
  command->add_option("--frames", arguments->frames,
                      "Frames to run: at most this many of a video; pictures go round (read into memory); synthetic: default 100")
      ->type_name("N");
  command->add_option("--sidecar", arguments->sidecar,
                      "The post-processing sidecar of a model cut by `npukit patch` (default: MODEL.postprocess.json when present)")
      ->type_name("PATH");
  command->add_option("--conf", arguments->confidence, "Confidence threshold (default 0.25)")->type_name("P");
  command->add_option("--iou", arguments->iou, "NMS IoU threshold (default 0.7)")->type_name("P");
  command->add_option("--max-det", arguments->max_detections, "Most boxes per frame (default 300)")->type_name("N");
  command->add_flag("--agnostic", arguments->agnostic, "NMS across classes (default: per class)");
  command->add_option("--backend", arguments->backend, "Backend: cpu (default) or ref")->type_name("NAME");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { run_pipeline_command(*arguments); });
}

}  // namespace npukit::cli
