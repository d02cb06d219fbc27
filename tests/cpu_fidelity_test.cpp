// Accuracy of the cpu backend's transcendental paths at the magnitudes trained detectors produce
// (activations in the tens, head logits up to ~100), against double precision: the SiLU and Sigmoid that
// oneDNN computes as convolution post-ops (eltwise_swish, eltwise_logistic) and the DFL Softmax over 16 bins
// (kernels/cpu/softmax.cpp, the column path). These were the suspects of the large-activation drift of
// issue 8; each must stay within a few float ulp, so a whole-model drift cannot come from them. The
// whole-model side is CpuWholeModel.MatchesOnnxRuntime/yolov8n_large.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <string>

#include "npukit/session.h"
#include "onnx_test_models.h"

namespace npukit::testing {
namespace {

constexpr int64_t channels = 16, side = 32;

// Every input value in [-limit, limit], evenly spaced.
std::vector<float> sweep(int64_t count, float limit) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = -limit + 2 * limit * float(i) / float(count - 1);
  return values;
}

// x -> Conv 1x1 with identity weights -> `activation` (Sigmoid, or Sigmoid and Mul for SiLU), so the
// convolution passes x through exactly and the fused post-op alone decides the error.
std::unique_ptr<Session> identity_conv_with(const TemporaryFolder& folder, const std::string& activation) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, channels, side, side});
  std::vector<float> identity(channels * channels, 0.0f);
  for (int64_t c = 0; c < channels; ++c) identity[static_cast<size_t>(c * channels + c)] = 1.0f;
  add_float_initializer(graph, "w", {channels, channels, 1, 1}, identity);
  add_node(graph, "Conv", {"x", "w"}, {"c"}, "conv");
  add_node(graph, "Sigmoid", {"c"}, {activation == "silu" ? "s" : "y"}, "sigmoid");
  if (activation == "silu") add_node(graph, "Mul", {"c", "s"}, {"y"}, "mul");
  add_output(graph, "y", {1, channels, side, side});
  SessionOptions options;
  options.backend = "cpu";
  auto session = Session::load(write_model(model, folder.file(activation + ".onnx")), options);
  session->set_profiling(true);
  return session;
}

// Worst relative error for x >= -80; the session must have run one FusedConv on cpu. Below x = -87 oneDNN's
// post-ops flush sigmoid and SiLU to 0 (results under 1.5e-36, measured): there only the absolute error is
// bounded, by 1e-34, which no output can notice.
double worst_relative_error(Session& session, const std::vector<float>& inputs, double (*exact)(double)) {
  session.set_input("x", Tensor::from_vector<float>(DType::f32, {1, channels, side, side}, inputs));
  session.run();
  EXPECT_EQ(session.last_profile().size(), 1u);
  for (const Session::NodeTiming& timing : session.last_profile()) {
    EXPECT_EQ(timing.op_type, "FusedConv");
    EXPECT_EQ(timing.backend, "cpu");
  }
  const std::vector<float> outputs = session.output("y").to_float_vector();
  double worst = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const double expected = exact(inputs[i]);
    if (inputs[i] < -80.0f) {
      EXPECT_LE(std::fabs(outputs[i] - expected), 1e-34) << "x = " << inputs[i];
      continue;
    }
    worst = std::max(worst, std::fabs(outputs[i] - expected) / std::fabs(expected));
  }
  return worst;
}

TEST(CpuFidelity, FusedSiluIsAccurateAtLargeMagnitudes) {
  TemporaryFolder folder;
  auto session = identity_conv_with(folder, "silu");
  const double worst = worst_relative_error(*session, sweep(channels * side * side, 120.0f),
                                            [](double x) { return x / (1.0 + std::exp(-x)); });
  EXPECT_LE(worst, 1e-6);
}

TEST(CpuFidelity, FusedSigmoidIsAccurateAtLargeMagnitudes) {
  TemporaryFolder folder;
  auto session = identity_conv_with(folder, "sigmoid");
  const double worst = worst_relative_error(*session, sweep(channels * side * side, 120.0f),
                                            [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
  EXPECT_LE(worst, 1e-6);
}

// The DFL: Softmax over 16 bins, logits spread over +-100 as in a sharp trained box distribution, then the
// expected bin; both against double. Two layouts: bins at axis 1 of [1, 16, 4, anchors] as ultralytics
// exports it (the cpu column path), and bins last, [1, 4, anchors, 16] with axis -1 (the row path).
void expect_accurate_dfl(bool bins_last) {
  constexpr int64_t bins = 16, sides = 4, anchors = 333;
  const std::vector<int64_t> dims = bins_last ? std::vector<int64_t>{1, sides, anchors, bins}
                                              : std::vector<int64_t>{1, bins, sides, anchors};
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", dims);
  onnx::AttributeProto* axis = add_node(graph, "Softmax", {"x"}, {"y"}, "softmax")->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(bins_last ? -1 : 1);
  add_output(graph, "y", dims);
  TemporaryFolder folder;
  SessionOptions options;
  options.backend = "cpu";
  auto session = Session::load(write_model(model, folder.file("dfl.onnx")), options);
  std::vector<float> logits(static_cast<size_t>(bins * sides * anchors));
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = 100.0f * std::sin(0.731f * float(i)) * std::cos(0.113f * float(i));
  session->set_profiling(true);
  session->set_input("x", Tensor::from_vector<float>(DType::f32, Shape(dims.begin(), dims.end()), logits));
  session->run();
  ASSERT_EQ(session->last_profile().at(0).backend, "cpu");
  const std::vector<float> probabilities = session->output("y").to_float_vector();
  // Element (bin b, distribution d) lives at b * bin_stride + d * distribution_stride.
  const int64_t distributions = sides * anchors;
  const int64_t bin_stride = bins_last ? 1 : distributions, distribution_stride = bins_last ? bins : 1;
  double worst_probability = 0, worst_expectation = 0;
  for (int64_t d = 0; d < distributions; ++d) {
    auto at = [&](int64_t b) { return static_cast<size_t>(b * bin_stride + d * distribution_stride); };
    double maximum = -INFINITY, sum = 0, expectation = 0, ours = 0;
    for (int64_t b = 0; b < bins; ++b) maximum = std::max(maximum, double(logits[at(b)]));
    for (int64_t b = 0; b < bins; ++b) sum += std::exp(double(logits[at(b)]) - maximum);
    for (int64_t b = 0; b < bins; ++b) {
      const double expected = std::exp(double(logits[at(b)]) - maximum) / sum;
      worst_probability = std::max(worst_probability, std::fabs(probabilities[at(b)] - expected));
      expectation += b * expected;
      ours += b * double(probabilities[at(b)]);
    }
    worst_expectation = std::max(worst_expectation, std::fabs(ours - expectation));
  }
  EXPECT_LE(worst_probability, 1e-6);
  EXPECT_LE(worst_expectation, 1e-5);  // in bins; x stride 32 = 3e-4 px
}

TEST(CpuFidelity, DflSoftmaxIsAccurateWithLargeLogitsBinsAtAxisOne) { expect_accurate_dfl(false); }
TEST(CpuFidelity, DflSoftmaxIsAccurateWithLargeLogitsBinsLast) { expect_accurate_dfl(true); }

}  // namespace
}  // namespace npukit::testing
