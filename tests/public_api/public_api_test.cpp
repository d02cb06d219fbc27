// The public C++ API as a program outside npukit sees it: this file is compiled with include/ on its include
// path and nothing else (no src/, no nlohmann), and links libnpukit.so. Session and the facades are checked
// against the npukit binary of the same build: the facades' to_json() is the text `npukit ... --json` prints.
#include <gtest/gtest.h>

#include <npukit/check.h>
#include <npukit/error.h>
#include <npukit/inspect.h>
#include <npukit/isolation.h>
#include <npukit/patch.h>
#include <npukit/session.h>
#include <npukit/version.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

const std::string kModel = std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v5_raw.onnx";

// Standard output of `npukit ARGUMENTS`, without the final newline.
std::string cli_output(const std::string& arguments) {
  const std::string command = std::string(NPUKIT_CLI_PATH) + " " + arguments + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string text;
  std::array<char, 65536> buffer;
  size_t count = 0;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) text.append(buffer.data(), count);
  ::pclose(pipe);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

npukit::Tensor ramp(const npukit::ValueInfo& input) {
  npukit::Shape shape;
  for (int64_t dim : input.shape) shape.push_back(dim >= 0 ? dim : 1);
  npukit::Tensor tensor(npukit::DType::f32, shape);
  for (int64_t i = 0; i < tensor.element_count(); ++i) tensor.data<float>()[i] = static_cast<float>(i % 97) / 97.0f;
  return tensor;
}

TEST(PublicApi, SessionRunsOnCpuAndRefToCloseOutputs) {
  npukit::SessionOptions cpu;
  cpu.backend = "cpu";
  npukit::SessionOptions reference;
  reference.backend = "ref";
  auto fast = npukit::Session::load(kModel, cpu);
  auto plain = npukit::Session::load(kModel, reference);
  ASSERT_EQ(fast->inputs().size(), 1u);
  EXPECT_EQ(fast->inputs()[0].dtype, npukit::DType::f32);
  const npukit::Tensor input = ramp(fast->inputs()[0]);
  const auto fast_outputs = fast->run({{fast->inputs()[0].name, input}});
  const auto plain_outputs = plain->run({{plain->inputs()[0].name, input}});
  ASSERT_EQ(fast_outputs.size(), fast->outputs().size());
  for (const auto& [name, tensor] : fast_outputs) {
    const npukit::Tensor& expected = plain_outputs.at(name);
    ASSERT_EQ(tensor.shape(), expected.shape()) << name;
    double largest_difference = 0;
    for (int64_t i = 0; i < tensor.element_count(); ++i) {
      largest_difference = std::max(largest_difference, std::abs(tensor.value_as_double(i) - expected.value_as_double(i)));
    }
    EXPECT_LT(largest_difference, 1e-3) << name;
  }
}

TEST(PublicApi, SessionErrorsNameTheFileAndInput) {
  try {
    npukit::Session::load("/nonexistent/model.onnx");
    FAIL() << "a missing file loaded";
  } catch (const npukit::Error& error) {
    EXPECT_EQ(error.kind(), npukit::ErrorKind::io);
    EXPECT_EQ(error.file(), "/nonexistent/model.onnx");
  }
  auto session = npukit::Session::load(kModel);
  EXPECT_THROW(session->set_input("no_such_input", ramp(session->inputs()[0])), npukit::Error);
}

TEST(PublicApi, InspectJsonIsTheCliJson) {
  const npukit::InspectReport report = npukit::inspect_model(kModel);
  EXPECT_GT(report.node_count, 0u);
  EXPECT_EQ(report.nodes.size(), report.node_count);
  ASSERT_TRUE(report.macs.has_value());
  EXPECT_GT(*report.macs, 0);
  EXPECT_EQ(report.to_json(), cli_output("inspect " + kModel + " --json"));
}

TEST(PublicApi, CheckJsonIsTheCliJsonForEveryTarget) {
  npukit::CheckOptions options;
  options.target = "all";
  const npukit::CheckReport report = npukit::check_model(kModel, options);
  EXPECT_GT(report.targets.size(), 1u);
  for (const npukit::TargetCheck& target : report.targets) {
    EXPECT_EQ(target.nodes.size(), report.preparation.nodes_after_preparation) << target.target;
    EXPECT_GE(target.accelerator_mac_share, 0.0);
    EXPECT_LE(target.accelerator_mac_share, 1.0);
  }
  EXPECT_EQ(report.to_json(), cli_output("check " + kModel + " --target all --json"));
}

TEST(PublicApi, PatchToAFileAndToBytesMatchTheCli) {
  const std::filesystem::path folder = std::filesystem::temp_directory_path() / ("npukit-public-api-" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  const std::string output = (folder / "patched.onnx").string();
  const std::string cli_json = cli_output("patch " + kModel + " --target rk3588 -o " + output + " --json");
  const std::string cli_model = read_file(output);
  ASSERT_FALSE(cli_model.empty());

  npukit::PatchOptions options;
  options.target = "rk3588";
  options.output = output;
  const npukit::PatchReport report = npukit::patch_model(kModel, options);
  EXPECT_EQ(report.to_json(), cli_json);
  EXPECT_EQ(read_file(output), cli_model);

  options.output.clear();
  const npukit::PatchedModel patched = npukit::patch_model_to_bytes(kModel, options);
  EXPECT_EQ(patched.model_bytes, cli_model);
  EXPECT_TRUE(patched.report.output.empty());
  EXPECT_FALSE(patched.report.sidecar.has_value());
  EXPECT_EQ(patched.report.passes.size(), report.passes.size());
  EXPECT_EQ(patched.report.sidecar_json, report.sidecar_json);
  std::filesystem::remove_all(folder);
}

TEST(PublicApi, FacadeErrorsAreTheCliErrors) {
  npukit::CheckOptions options;
  options.target = "no-such-board";
  try {
    npukit::check_model(kModel, options);
    FAIL() << "an unknown target was accepted";
  } catch (const npukit::Error& error) {
    EXPECT_EQ(error.kind(), npukit::ErrorKind::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("no-such-board"), std::string::npos) << error.what();
  }
  EXPECT_THROW(npukit::inspect_model("/nonexistent/model.onnx"), npukit::Error);
  npukit::PatchOptions patch;
  patch.target = "rk3588";  // and no output
  EXPECT_THROW(npukit::patch_model(kModel, patch), npukit::Error);
}

TEST(PublicApi, VersionIsTheCliVersion) {
  EXPECT_FALSE(npukit::version().empty());
  EXPECT_EQ(npukit::build_description(), cli_output("version"));
  EXPECT_EQ(cli_output("version").rfind("npukit " + npukit::version() + "\n", 0), 0u);
}

TEST(PublicApi, ValidationIsolationCanBeChosen) {
  EXPECT_EQ(npukit::validation_isolation(), npukit::ValidationIsolation::automatic);
  EXPECT_FALSE(npukit::validation_helper_path().empty());
  npukit::set_validation_isolation(npukit::ValidationIsolation::helper_program);
  EXPECT_EQ(npukit::Session::load(kModel)->inputs().size(), 1u);
  npukit::set_validation_isolation(npukit::ValidationIsolation::automatic);
}

}  // namespace
