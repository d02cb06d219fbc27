// The sealed public API (include/npukit/session.h) as a program outside the tree sees it: this file includes
// npukit's public headers and nothing from src/, so what it compiles against is exactly what is installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "npukit/error.h"
#include "npukit/session.h"
#include "npukit/tensor.h"

namespace {

using npukit::DType;
using npukit::Error;
using npukit::ErrorKind;
using npukit::Session;
using npukit::SessionOptions;
using npukit::Tensor;

std::string model_path(const std::string& name) { return std::string(NPUKIT_MODELS_DIR) + "/generated/" + name; }

std::string file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

// Deterministic, varied values (no two neighbours alike), in [-1, 1).
Tensor pattern(DType dtype, const std::vector<int64_t>& shape, int seed) {
  Tensor tensor(dtype, npukit::Shape(shape.begin(), shape.end()));
  float* data = tensor.data<float>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) {
    data[i] = static_cast<float>(((i + seed) * 7919) % 2003) / 1001.5f - 1.0f;
  }
  return tensor;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.byte_size()) == 0;
}

// Largest difference relative to the largest magnitude of `expected`.
double relative_difference(const Tensor& actual, const Tensor& expected) {
  const std::vector<float> x = actual.to_float_vector(), y = expected.to_float_vector();
  double worst = 0, magnitude = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    worst = std::max(worst, std::fabs(double(x[i]) - y[i]));
    magnitude = std::max(magnitude, std::fabs(double(y[i])));
  }
  return magnitude > 0 ? worst / magnitude : worst;
}

void expect_error(const std::function<void()>& action, ErrorKind kind, const std::vector<std::string>& fragments) {
  try {
    action();
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), kind) << error.what();
    for (const std::string& fragment : fragments) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << "'" << fragment << "' not in: " << error.what();
    }
  }
}

// speech_if: input [1, 512] f32, sr (i64 scalar: 8000 or 16000 picks an If branch), state [1, 1, 32] f32.
const std::string speech = "speech_if.onnx";
Tensor speech_rate(int64_t rate) { return Tensor::from_vector<int64_t>(DType::i64, {}, {rate}); }

TEST(PublicSession, CpuIsTheDefaultBackendAndListedFirst) {
  EXPECT_EQ(SessionOptions{}.backend, "cpu");
  const std::vector<std::string> backends = Session::available_backends();
  ASSERT_EQ(backends.size(), 3u);
  EXPECT_EQ(backends[0], "cpu");
  EXPECT_EQ(backends[1], "ref");
  EXPECT_EQ(backends[2], "sim");  // needs SessionOptions::target
}

TEST(PublicSession, DefaultBackendRunsOnCpuAndAgreesWithRef) {
  auto cpu = Session::load(model_path("yolo_v8_dynamic_batch.onnx"));
  SessionOptions reference_options;
  reference_options.backend = "ref";
  auto reference = Session::load(model_path("yolo_v8_dynamic_batch.onnx"), reference_options);
  ASSERT_EQ(cpu->inputs().size(), 1u);
  const Tensor image = pattern(DType::f32, {1, 3, 256, 256}, 1);
  cpu->set_profiling(true);
  const Tensor ours = cpu->run({{"images", image}}).at("output0");
  const Tensor expected = reference->run({{"images", image}}).at("output0");
  ASSERT_EQ(ours.shape(), expected.shape());
  EXPECT_LE(relative_difference(ours, expected), 1e-4);
  size_t on_cpu = 0;
  for (const Session::NodeTiming& timing : cpu->last_profile()) {
    EXPECT_FALSE(timing.op_type.empty());
    EXPECT_GE(timing.seconds, 0.0);
    on_cpu += timing.backend == "cpu";
  }
  EXPECT_GT(on_cpu, 0u) << "the default session ran nothing on the cpu backend";
}

TEST(PublicSession, LoadFromBytesRunsLikeLoadFromPath) {
  const std::string path = model_path(speech);
  auto from_file = Session::load(path);
  auto from_bytes = Session::load_from_bytes(file_bytes(path));
  ASSERT_EQ(from_bytes->inputs().size(), from_file->inputs().size());
  const std::map<std::string, Tensor> feeds{
      {"input", pattern(DType::f32, {1, 512}, 3)}, {"sr", speech_rate(16000)}, {"state", pattern(DType::f32, {1, 1, 32}, 5)}};
  const Tensor expected = from_file->run(feeds).at("probability");
  EXPECT_TRUE(same_bytes(from_bytes->run(feeds).at("probability"), expected));
}

TEST(PublicSession, LoadFromBytesRefusesGarbageNamingTheGivenName) {
  expect_error([] { Session::load_from_bytes("this is not a model"); }, ErrorKind::invalid_model, {"<memory>"});
  expect_error([] { Session::load_from_bytes(std::string(64, '\xff'), {}, "upload.onnx"); }, ErrorKind::invalid_model,
               {"upload.onnx"});
  const std::string bytes = file_bytes(model_path(speech));
  expect_error([&] { Session::load_from_bytes(bytes.substr(0, bytes.size() / 2), {}, "cut.onnx"); },
               ErrorKind::invalid_model, {"cut.onnx"});
}

TEST(PublicSession, InputShapesFixADynamicBatch) {
  // Without input_shapes a symbolic batch becomes 1, as `npukit run` does.
  auto single = Session::load(model_path("yolo_v8_dynamic_batch.onnx"));
  EXPECT_EQ(single->inputs().at(0).shape, (std::vector<int64_t>{1, 3, 256, 256}));
  SessionOptions options;
  options.input_shapes["images"] = {2, 3, 256, 256};
  auto pair = Session::load(model_path("yolo_v8_dynamic_batch.onnx"), options);
  ASSERT_EQ(pair->inputs().at(0).shape, (std::vector<int64_t>{2, 3, 256, 256}));
  const Tensor first = pattern(DType::f32, {1, 3, 256, 256}, 11), second = pattern(DType::f32, {1, 3, 256, 256}, 12);
  Tensor both(DType::f32, {2, 3, 256, 256});
  std::memcpy(both.data<float>(), first.data<float>(), first.byte_size());
  std::memcpy(both.data<float>() + first.element_count(), second.data<float>(), second.byte_size());
  const Tensor together = pair->run({{"images", both}}).at("output0");
  ASSERT_EQ(together.dim(0), 2);
  // Each image of the batch gives what it gives alone.
  for (int index = 0; index < 2; ++index) {
    const Tensor alone = single->run({{"images", index == 0 ? first : second}}).at("output0");
    const int64_t count = alone.element_count();
    Tensor slice(DType::f32, alone.shape());
    std::memcpy(slice.data<float>(), together.data<float>() + index * count, alone.byte_size());
    EXPECT_LE(relative_difference(slice, alone), 1e-5) << "image " << index;
  }
  // A batch of 1 no longer fits the fixed shape.
  expect_error([&] { pair->set_input("images", first); }, ErrorKind::invalid_argument, {"'images'", "[2, 3, 256, 256]"});
  SessionOptions unknown;
  unknown.input_shapes["pictures"] = {1, 3, 256, 256};
  expect_error([&] { Session::load(model_path("yolo_v8_dynamic_batch.onnx"), unknown); }, ErrorKind::invalid_argument,
               {"pictures"});
}

TEST(PublicSession, InputValuesHoldAnInputAsAConstant) {
  const Tensor audio = pattern(DType::f32, {1, 512}, 7), state = pattern(DType::f32, {1, 1, 32}, 9);
  SessionOptions reference;
  reference.backend = "ref";
  auto fed = Session::load(model_path(speech), reference);
  SessionOptions held_options = reference;
  held_options.input_values["sr"] = speech_rate(8000);
  auto held = Session::load(model_path(speech), held_options);
  ASSERT_EQ(held->inputs().size(), 2u);
  for (const npukit::ValueInfo& input : held->inputs()) EXPECT_NE(input.name, "sr");
  const Tensor expected = fed->run({{"input", audio}, {"sr", speech_rate(8000)}, {"state", state}}).at("probability");
  const Tensor actual = held->run({{"input", audio}, {"state", state}}).at("probability");
  EXPECT_TRUE(same_bytes(actual, expected));
  // The other rate takes the other branch: holding is not ignoring.
  const Tensor other = fed->run({{"input", audio}, {"sr", speech_rate(16000)}, {"state", state}}).at("probability");
  EXPECT_FALSE(same_bytes(other, expected));
  expect_error([&] { held->set_input("sr", speech_rate(8000)); }, ErrorKind::invalid_argument, {"'sr'"});

  SessionOptions wrong_dtype;
  wrong_dtype.input_values["sr"] = Tensor::from_vector<float>(DType::f32, {}, {8000.0f});
  expect_error([&] { Session::load(model_path(speech), wrong_dtype); }, ErrorKind::invalid_argument,
               {speech, "'sr'", "f32", "i64"});
  SessionOptions wrong_shape;
  wrong_shape.input_values["state"] = pattern(DType::f32, {1, 2, 32}, 1);
  expect_error([&] { Session::load(model_path(speech), wrong_shape); }, ErrorKind::invalid_argument,
               {speech, "'state'", "[1, 2, 32]"});
  SessionOptions unknown;
  unknown.input_values["rate"] = speech_rate(8000);
  expect_error([&] { Session::load(model_path(speech), unknown); }, ErrorKind::invalid_argument, {speech, "'rate'", "sr"});
}

TEST(PublicSession, ErrorsSayWhatAndWhere) {
  SessionOptions gpu;
  gpu.backend = "gpu";
  expect_error([&] { Session::load(model_path(speech), gpu); }, ErrorKind::invalid_argument, {"'gpu'", "cpu, ref"});
  SessionOptions negative;
  negative.threads = -1;
  expect_error([&] { Session::load(model_path(speech), negative); }, ErrorKind::invalid_argument, {"threads"});
  const std::string missing = model_path("no_such_model.onnx");
  try {
    Session::load(missing);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::io);
    EXPECT_EQ(error.file(), missing);
    EXPECT_FALSE(error.reason().empty());
    EXPECT_TRUE(error.node().empty());
  }
  auto session = Session::load(model_path(speech));
  expect_error([&] { session->run(); }, ErrorKind::invalid_argument, {"not set"});
  expect_error([&] { session->set_input("input", Tensor(DType::f32, {1, 256})); }, ErrorKind::invalid_argument,
               {"'input'", "[1, 512]"});
  expect_error([&] { session->output("probability"); }, ErrorKind::invalid_argument, {"'probability'"});
}

}  // namespace
