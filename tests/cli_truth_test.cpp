// What the npukit binary prints must be true (issue 8): shares that are not 100% never print as 100.0%,
// hints that fit the model at hand, no lines about devices or NMS that the target or the model lack, every
// error names its file, tables that fit the terminal without cutting words, the version, and bench's
// statistics. Plus the table and percent helpers these rest on.
#include <gtest/gtest.h>

#include "cli_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "cli/table.h"
#include "core/npy.h"
#include "onnx_test_models.h"

namespace npukit::cli {
namespace {

using testing::CommandResult;
using testing::read_text;

using npukit::testing::add_float_initializer;
using npukit::testing::add_input;
using npukit::testing::add_node;
using npukit::testing::add_output;
using npukit::testing::make_model;
using npukit::testing::write_model;

class CliTruth : public testing::CliRunner {};

onnx::TensorProto* add_filled_initializer(onnx::GraphProto* graph, const std::string& name,
                                          const std::vector<int64_t>& dims, float value) {
  int64_t count = 1;
  for (int64_t dim : dims) count *= dim;
  return add_float_initializer(graph, name, dims, std::vector<float>(static_cast<size_t>(count), value));
}

void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INTS);
  for (int64_t value : values) attribute->add_ints(value);
}

void set_int(onnx::NodeProto* node, const std::string& name, int64_t value) {
  onnx::AttributeProto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INT);
  attribute->set_i(value);
}

// A keyword-spotting-like model: Conv1D over 16 mel bins, then an LSTM whose initial state is an input
// with a dynamic batch ([1, N, 16]). No detection head, no NMS.
std::string write_speech_model(const std::string& path) {
  onnx::ModelProto model = make_model(13);
  auto* graph = model.mutable_graph();
  add_input(graph, "audio", {1, 16, 40});
  add_input(graph, "state", {1, -1, 16});
  add_filled_initializer(graph, "conv_weight", {32, 16, 3}, 0.01f);
  add_filled_initializer(graph, "lstm_w", {1, 64, 32}, 0.01f);
  add_filled_initializer(graph, "lstm_r", {1, 64, 16}, 0.01f);
  set_ints(add_node(graph, "Conv", {"audio", "conv_weight"}, {"features"}, "conv1d"), "pads", {1, 1});
  set_ints(add_node(graph, "Transpose", {"features"}, {"sequence"}, "time_major"), "perm", {2, 0, 1});
  set_int(add_node(graph, "LSTM", {"sequence", "lstm_w", "lstm_r", "", "", "state"}, {"all_states", "last_state"}, "lstm"),
          "hidden_size", 16);
  add_output(graph, "last_state", {1, 1, 16});
  return write_model(model, path);
}

// A 3x3 Conv of 2.36 M MACs beside a MatMul of 256: with MatMul off the NPU, 99.989% of the MACs stay on it.
std::string write_almost_all_on_npu_model(const std::string& path) {
  onnx::ModelProto model = make_model(13);
  auto* graph = model.mutable_graph();
  add_input(graph, "image", {1, 16, 32, 32});
  add_input(graph, "vector", {1, 16});
  add_filled_initializer(graph, "conv_weight", {16, 16, 3, 3}, 0.01f);
  add_filled_initializer(graph, "matrix", {16, 16}, 0.01f);
  set_ints(add_node(graph, "Conv", {"image", "conv_weight"}, {"features"}, "conv"), "pads", {1, 1, 1, 1});
  add_node(graph, "MatMul", {"vector", "matrix"}, {"projected"}, "projection");
  add_output(graph, "features", {1, 16, 32, 32});
  add_output(graph, "projected", {1, 16});
  return write_model(model, path);
}

// Whitespace-separated words of a table, without the rules ("-----"), whose width follows the layout.
std::multiset<std::string> words_of(const std::string& text) {
  std::multiset<std::string> words;
  std::istringstream stream(text);
  for (std::string word; stream >> word;) {
    if (word.find_first_not_of('-') != std::string::npos) words.insert(word);
  }
  return words;
}

// True when `text` holds `hint` as a whole argument (not the start of "state=1,D1,160").
bool has_hint(const std::string& text, const std::string& hint) {
  for (size_t at = text.find(hint); at != std::string::npos; at = text.find(hint, at + 1)) {
    const size_t end = at + hint.size();
    if (end == text.size() || (!std::isalnum(static_cast<unsigned char>(text[end])) && text[end] != ',')) return true;
  }
  return false;
}

// ---- helpers ------------------------------------------------------------------------------------------

TEST(PercentFormat, NeverRoundsToAllOrNothing) {
  EXPECT_EQ(format_percent(1.0), "100.0%");
  EXPECT_EQ(format_percent(0.0), "0.0%");
  EXPECT_EQ(format_percent(0.25), "25.0%");
  EXPECT_EQ(format_percent(0.99988), "99.99%");   // "100.0%" before: nodes on the CPU, all on the NPU said
  EXPECT_EQ(format_percent(0.9994), "99.9%");
  EXPECT_EQ(format_percent(0.9999999), "> 99.99%");
  EXPECT_EQ(format_percent(0.0004), "0.04%");
  EXPECT_EQ(format_percent(1e-9), "< 0.01%");
}

TEST(TableLayout, WrapsAtWordsAndKeepsShapesWhole) {
  EXPECT_EQ(wrap_words("a long sentence of words", 10), (std::vector<std::string>{"a long", "sentence", "of words"}));
  EXPECT_EQ(wrap_words("abcdefghijkl xy", 5), (std::vector<std::string>{"abcdefghijkl", "xy"}));
  EXPECT_EQ(wrap_words("shape [1, 64, 160, 160] ok", 10), (std::vector<std::string>{"shape", "[1, 64, 160, 160]", "ok"}));
  EXPECT_EQ(wrap_words("", 5), (std::vector<std::string>{""}));
}

TEST(TableLayout, NarrowsTheWidestTextColumnToFitTheLine) {
  Table table({{"node"}, {"MACs", Align::right}, {"why"}});
  table.add_row({"conv_1", "8.21 G", "the kernel is larger than the NPU supports"});
  table.add_row({"resize", "-", "mode nearest"});
  std::ostringstream out;
  table.print(out, 2, 48, 40);
  EXPECT_EQ(out.str(),
            "  node      MACs  why\n"
            "  ------  ------  ----------------------\n"
            "  conv_1  8.21 G  the kernel is larger\n"
            "                  than the NPU supports\n"
            "  resize       -  mode nearest\n");
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) EXPECT_LE(display_width(line), 40u) << line;

  // No limit: one line per row, as before.
  std::ostringstream wide;
  table.print(wide, 2, 48, 0);
  EXPECT_NE(wide.str().find("8.21 G  the kernel is larger than the NPU supports\n"), std::string::npos) << wide.str();
}

TEST(TableLayout, ATableThatCannotFitKeepsItsWordsWhole) {
  Table table({{"a"}, {"b"}});
  table.add_row({"first_very_long_identifier", "second_very_long_identifier"});
  std::ostringstream out;
  table.print(out, 0, 48, 20);
  EXPECT_NE(out.str().find("first_very_long_identifier  second_very_long_identifier"), std::string::npos) << out.str();
}

TEST(TableLayout, ProseLongerThanTheCellLimitWrapsInsteadOfLosingItsMiddle) {
  Table table({{"why"}});
  const std::string reason = "coordinate_transformation_mode 'asymmetric' is not supported by the toolkit on this target";
  table.add_row({reason});
  std::ostringstream out;
  table.print(out, 0, 30, 0);
  EXPECT_EQ(words_of(out.str()), words_of("why " + reason));
  EXPECT_EQ(out.str().find("…"), std::string::npos);
  // One word longer than the limit (a tensor name) is still shortened in the middle.
  Table names({{"name"}});
  names.add_row({"model.24.m.2.some_really_long_tensor_name_of_a_head"});
  std::ostringstream shortened;
  names.print(shortened, 0, 20, 0);
  EXPECT_NE(shortened.str().find("model.24.m…of_a_head"), std::string::npos) << shortened.str();
}

TEST(ProgressLine, ALongDetailIsShortenedToFitTheTerminal) {
  const std::string line = Progress::render("run", 1, 4, "loading /a/very/long/folder/of/models/model.onnx", 10, 40);
  EXPECT_EQ(line, "run [##        ] 1/4 loading /…odel.onnx");
  EXPECT_EQ(display_width(line), 40u);
  EXPECT_EQ(Progress::render("run", 1, 4, "running", 10, 40), "run [##        ] 1/4 running");
}

// ---- the binary -----------------------------------------------------------------------------------------

TEST_F(CliTruth, AShareThatIsNotAllPrintsBelow100) {
  const std::string model = write_almost_all_on_npu_model(path("almost.onnx"));
  nlohmann::json profile = nlohmann::json::parse(read_text(std::string(NPUKIT_TARGETS_DIR) + "/rk3566.json"));
  profile["id"] = "no-matmul";
  profile["ops"].erase("MatMul");
  std::ofstream(path("no-matmul.json")) << profile.dump();
  CommandResult result = run("check '" + model + "' --target-file '" + path("no-matmul.json") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("99.99% of 2.36 M"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("100.0%"), std::string::npos) << result.out;
  CommandResult json = run("check '" + model + "' --target-file '" + path("no-matmul.json") + "' --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(json.out)["targets"][0]["accelerator_mac_share"].get<double>(),
                   2359296.0 / (2359296.0 + 256.0));
}

TEST_F(CliTruth, SpeechModelGetsItsOwnShapeHintNoNmsLineAndNoNoneDevice) {
  const std::string model = write_speech_model(path("speech.onnx"));
  CommandResult rk3588 = run("check '" + model + "' --target rk3588");
  ASSERT_EQ(rk3588.exit_code, 0) << rk3588.err;
  EXPECT_TRUE(has_hint(rk3588.err, "--input-shape state=1,D1,16")) << rk3588.err;
  EXPECT_EQ(rk3588.err.find("1,3,H,W"), std::string::npos) << rk3588.err;
  EXPECT_EQ(rk3588.out.find("NMS"), std::string::npos) << rk3588.out;

  CommandResult esp32 = run("check '" + model + "' --target esp32s3 --report '" + path("report.md") + "'");
  ASSERT_EQ(esp32.exit_code, 0) << esp32.err;
  EXPECT_EQ(esp32.out.find("the none"), std::string::npos) << esp32.out;
  EXPECT_EQ(esp32.out.find("NMS"), std::string::npos) << esp32.out;
  EXPECT_NE(esp32.out.find("nodes rejected"), std::string::npos) << esp32.out;  // the LSTM
  const std::string report = read_text(path("report.md"));
  EXPECT_EQ(report.find("the none"), std::string::npos) << report;
  EXPECT_EQ(report.find("NMS"), std::string::npos) << report;
  EXPECT_NE(report.find("no fallback device"), std::string::npos) << report;

  // A detection model keeps its NMS line; a target without a fallback device shows rejected segments.
  CommandResult yolo = run("check builtin:yolov5n-64 --target esp32s3");
  ASSERT_EQ(yolo.exit_code, 0) << yolo.err;
  EXPECT_NE(yolo.out.find("NMS on this target: "), std::string::npos) << yolo.out;
  EXPECT_EQ(yolo.out.find("the none"), std::string::npos) << yolo.out;
  EXPECT_EQ(yolo.out.find("  none  "), std::string::npos) << yolo.out;
  EXPECT_NE(yolo.out.find("  rejected  "), std::string::npos) << yolo.out;
}

TEST_F(CliTruth, TargetsWithoutAFallbackDeviceSaySo) {
  CommandResult table = run("targets");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.find("none → none"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("none (refused)"), std::string::npos) << table.out;
  CommandResult one = run("targets --target esp32s3");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("unsupported ops: no fallback device; the toolkit refuses the model"), std::string::npos)
      << one.out;
}

TEST_F(CliTruth, RunHintForADynamicInputFollowsItsRank) {
  const std::string model = write_speech_model(path("speech.onnx"));
  CommandResult result = run("run '" + model + "' --random-input");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(has_hint(result.err, "--input-shape state=1,D1,16")) << result.err;
  // A 4-D input gets the axis names people know, its known dims kept.
  onnx::ModelProto image = make_model(13);
  add_input(image.mutable_graph(), "pixels", {1, 3, -1, -1});
  add_node(image.mutable_graph(), "Relu", {"pixels"}, {"y"}, "relu");
  add_output(image.mutable_graph(), "y", {1, 3, -1, -1});
  CommandResult image_result = run("run '" + write_model(image, path("image.onnx")) + "' --random-input");
  EXPECT_EQ(image_result.exit_code, 1);
  EXPECT_TRUE(has_hint(image_result.err, "--input-shape pixels=1,3,H,W")) << image_result.err;
}

TEST_F(CliTruth, ErrorsNameTheModelFile) {
  // The tensor memory limit is hit while making the random input, far from the loader.
  onnx::ModelProto relu = make_model(13);
  add_input(relu.mutable_graph(), "x", {64, 64});
  add_node(relu.mutable_graph(), "Relu", {"x"}, {"y"}, "relu");
  add_output(relu.mutable_graph(), "y", {64, 64});
  const std::string model = write_model(relu, path("relu.onnx"));
  CommandResult limit = run("--memory-limit 1K run '" + model + "' --random-input");
  EXPECT_EQ(limit.exit_code, 1);
  EXPECT_NE(limit.err.find("npukit: error: " + model + ": "), std::string::npos) << limit.err;
  EXPECT_NE(limit.err.find("memory limit of 1024 bytes"), std::string::npos) << limit.err;  // was "0 MiB"

  // A Conv whose group does not divide its channels fails when the kernel is prepared.
  onnx::ModelProto conv = make_model(13);
  auto* graph = conv.mutable_graph();
  add_input(graph, "x", {1, 4, 8, 8});
  add_filled_initializer(graph, "w", {4, 2, 3, 3}, 1.0f);
  set_int(add_node(graph, "Conv", {"x", "w"}, {"y"}, "conv_bad"), "group", 3);
  add_output(graph, "y", {1, 4, 6, 6});
  const std::string bad = write_model(conv, path("conv_bad.onnx"));
  for (const std::string command : {"run '" + bad + "' --random-input", "bench '" + bad + "' -n 1 --warmup 0"}) {
    CommandResult result = run(command);
    EXPECT_EQ(result.exit_code, 1) << command;
    EXPECT_NE(result.err.find("npukit: error: " + bad + ": node 'conv_bad' (Conv): "), std::string::npos)
        << command << "\n" << result.err;
  }
}

TEST_F(CliTruth, InputThatIsADirectorySaysSo) {
  std::filesystem::create_directories(path("folder"));
  for (const char* command : {"run", "bench"}) {
    CommandResult result = run(std::string(command) + " builtin:yolov5n-64 --input images=" + path("folder"));
    EXPECT_EQ(result.exit_code, 1) << command;
    EXPECT_NE(result.err.find("'" + path("folder") + "' is a directory"), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("no such file"), std::string::npos) << result.err;
  }
}

TEST_F(CliTruth, DeclaredShapeThatOverflowsIsAnError) {
  onnx::ModelProto model = make_model(13);
  add_input(model.mutable_graph(), "x", {int64_t{1} << 40, int64_t{1} << 40});
  add_node(model.mutable_graph(), "Relu", {"x"}, {"y"}, "relu");
  add_output(model.mutable_graph(), "y", {int64_t{1} << 40, int64_t{1} << 40});
  const std::string file = write_model(model, path("overflow.onnx"));
  for (const std::string command : {"inspect '" + file + "'", "check '" + file + "' --target rk3588"}) {
    CommandResult result = run(command);
    EXPECT_EQ(result.exit_code, 1) << command << "\n" << result.out;
    EXPECT_NE(result.err.find(file + ": value 'x' declares shape [1099511627776, 1099511627776], whose element "
                                     "count overflows 64 bits"),
              std::string::npos)
        << result.err;
  }
}

TEST_F(CliTruth, VersionNamesTheCommitAndTheLibraries) {
  for (const char* command : {"--version", "version"}) {
    CommandResult result = run(command);
    ASSERT_EQ(result.exit_code, 0) << command << result.err;
    EXPECT_TRUE(std::regex_search(result.out, std::regex("^npukit [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << result.out;
    EXPECT_TRUE(std::regex_search(result.out, std::regex("commit +([0-9a-f]{12}( with local changes)?|unknown \\(.*\\))\n")))
        << result.out;
    EXPECT_TRUE(std::regex_search(result.out, std::regex("oneDNN [0-9]+\\.[0-9]+, |oneDNN [0-9]+\\.[0-9]+\\.[0-9]+, ")))
        << result.out;
    EXPECT_TRUE(std::regex_search(result.out, std::regex("ONNX [0-9]+\\.[0-9]+\\.[0-9]+, protobuf [0-9]+\\.[0-9]+")))
        << result.out;
  }
}

TEST_F(CliTruth, TablesFitColumnsWithoutCuttingWords) {
  const std::string model = write_speech_model(path("speech.onnx"));
  const std::string command = "check '" + model + "' --target esp32s3 --every-node";
  CommandResult wide = run(command);
  CommandResult narrow = run(command, "COLUMNS=80");
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  ASSERT_EQ(narrow.exit_code, 0) << narrow.err;
  EXPECT_NE(wide.out, narrow.out);
  // The same words, only laid out again: nothing was cut or shortened to fit.
  EXPECT_EQ(words_of(narrow.out), words_of(wide.out));
  // Table lines only: the "model" line is the path of the model, one word.
  auto widest_table_line = [](const std::string& text) {
    size_t widest = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("model ", 0) != 0) widest = std::max(widest, display_width(line));
    }
    return widest;
  };
  EXPECT_GT(widest_table_line(wide.out), 80u) << wide.out;
  EXPECT_LE(widest_table_line(narrow.out), 80u) << narrow.out;
}

TEST_F(CliTruth, BenchReportsMeanDeviationThroughputAndOpTypes) {
  CommandResult result = run("bench builtin:yolov5n-64 -n 6 --warmup 1 --profile --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(result.out);
  const nlohmann::json& latency = json["latency_ms"];
  const double mean = latency["mean"].get<double>();
  EXPECT_GE(mean, latency["min"].get<double>());
  EXPECT_LE(mean, latency["max"].get<double>());
  ASSERT_TRUE(latency["stddev"].is_number());
  EXPECT_GE(latency["stddev"].get<double>(), 0.0);
  EXPECT_LE(latency["stddev"].get<double>(), latency["max"].get<double>() - latency["min"].get<double>());
  // Runs back to back: the throughput is at most one over the mean latency, and not far below it.
  const double throughput = json["throughput_per_second"].get<double>();
  EXPECT_LE(throughput, 1000.0 / mean * 1.0001);
  EXPECT_GE(throughput, 0.5 * 1000.0 / mean);

  // The per-op-type summary adds up the per-node rows.
  std::map<std::string, std::pair<size_t, double>> expected;
  double total = 0;
  for (const nlohmann::json& row : json["profile"]) {
    auto& entry = expected[row["op_type"].get<std::string>()];
    ++entry.first;
    entry.second += row["ms"].get<double>();
    total += row["ms"].get<double>();
  }
  ASSERT_EQ(json["profile_by_op_type"].size(), expected.size());
  double shares = 0;
  for (const nlohmann::json& row : json["profile_by_op_type"]) {
    const auto& entry = expected.at(row["op_type"].get<std::string>());
    EXPECT_EQ(row["count"].get<size_t>(), entry.first) << row;
    EXPECT_NEAR(row["ms"].get<double>(), entry.second, 1e-9) << row;
    EXPECT_NEAR(row["share"].get<double>(), entry.second / total, 1e-9) << row;
    shares += row["share"].get<double>();
  }
  EXPECT_NEAR(shares, 1.0, 1e-9);

  CommandResult table = run("bench builtin:yolov5n-64 -n 1 --warmup 0 --profile");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("unknown (1 run)"), std::string::npos) << table.out;  // no deviation of one run
  EXPECT_NE(table.out.find("profile by op type"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("throughput"), std::string::npos) << table.out;
}

// An index input that random data would put out of range: with --input the bench runs on real indices.
TEST_F(CliTruth, BenchReadsInputsFromFiles) {
  onnx::ModelProto model = make_model(13);
  auto* graph = model.mutable_graph();
  add_input(graph, "indices", {3}, onnx::TensorProto_DataType_INT64);
  add_filled_initializer(graph, "table", {4, 8}, 0.5f);
  add_node(graph, "Gather", {"table", "indices"}, {"rows"}, "lookup");
  add_output(graph, "rows", {3, 8});
  const std::string file = write_model(model, path("lookup.onnx"));
  Tensor indices = Tensor::from_vector<int64_t>(DType::i64, {3}, {0, 3, 1});
  write_npy(path("indices.npy"), indices);

  CommandResult random = run("bench '" + file + "' -n 2 --warmup 0 --seed 1");
  EXPECT_EQ(random.exit_code, 1);
  EXPECT_NE(random.err.find("out of range"), std::string::npos) << random.err;
  CommandResult given = run("bench '" + file + "' -n 2 --warmup 0 --seed 1 --json --input indices=" + path("indices.npy"));
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(nlohmann::json::parse(given.out)["inputs_from_files"], nlohmann::json({{"indices", path("indices.npy")}}));
  CommandResult table = run("bench '" + file + "' -n 2 --warmup 0 -i indices=" + path("indices.npy"));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  // The line that names the input says where its data came from.
  std::istringstream lines(table.out);
  bool named = false;
  for (std::string line; std::getline(lines, line);) {
    named = named || (line.find("indices") != std::string::npos && line.find("from " + path("indices.npy")) != std::string::npos);
  }
  EXPECT_TRUE(named) << table.out;
  CommandResult wrong = run("bench '" + file + "' -n 2 --input rows=" + path("indices.npy"));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("has no input named 'rows'; its inputs are: indices"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace npukit::cli
