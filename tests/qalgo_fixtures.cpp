#include "qalgo_fixtures.h"

#include <algorithm>
#include <cmath>

#include "engine/engine.h"
#include "ir/value_info.h"
#include "onnx_test_models.h"
#include "preparation/model_preparation.h"
#include "quantization/quantization_algorithm.h"
#include "quantization_fixtures.h"

namespace npukit::testing {

namespace {

void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  auto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t value : values) attribute->add_ints(value);
}

void set_int(onnx::NodeProto* node, const std::string& name, int64_t value) {
  auto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto_AttributeType_INT);
  attribute->set_i(value);
}

}  // namespace

std::string write_depthwise_separable_net(const std::string& path, const std::string& activation, int64_t size,
                                          bool dead_channels) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, 3, size, size});
  add_output(graph, "y", {1, 4, size, size});
  constexpr int channels = 8;
  std::vector<float> first_spread(channels), second_spread(channels);
  for (int channel = 0; channel < channels; ++channel) {
    first_spread[channel] = static_cast<float>(std::pow(10.0, -1.0 + 2.0 * ((channel * 5) % channels) / (channels - 1)));
    second_spread[channel] = static_cast<float>(std::pow(10.0, 1.0 - 2.0 * ((channel * 3) % channels) / (channels - 1)));
  }
  std::vector<float> w1 = seeded_values(channels * 3, 21, -0.5f, 0.5f);
  std::vector<float> b1(channels);
  for (int channel = 0; channel < channels; ++channel) {
    for (int input = 0; input < 3; ++input) w1[channel * 3 + input] *= first_spread[channel];
    // Even channels: a bias above the largest |W x| (inputs in [-1, 1]), so they never go below zero.
    b1[channel] = (channel % 2 == 0 ? 2.0f : 0.1f) * first_spread[channel];
  }
  std::vector<float> w2 = seeded_values(channels * 9, 22, -0.5f, 0.5f);
  std::vector<float> b2(channels);
  for (int channel = 0; channel < channels; ++channel) {
    for (int tap = 0; tap < 9; ++tap) w2[channel * 9 + tap] *= second_spread[channel] / first_spread[channel];
    b2[channel] = (channel % 2 == 0 ? 20.0f : -0.05f) * second_spread[channel];
  }
  std::vector<float> w3 = seeded_values(4 * channels, 23, -0.5f, 0.5f);
  for (int output = 0; output < 4; ++output) {
    for (int channel = 0; channel < channels; ++channel) w3[output * channels + channel] /= second_spread[channel];
  }
  if (dead_channels) {
    for (int channel : {1, 5}) {
      std::fill(w1.begin() + channel * 3, w1.begin() + (channel + 1) * 3, 0.0f);
      std::fill(w2.begin() + channel * 9, w2.begin() + (channel + 1) * 9, 0.0f);
      b1[channel] = 0.0f;
      b2[channel] = 0.0f;
    }
  }
  add_float_initializer(graph, "w1", {channels, 3, 1, 1}, w1);
  add_float_initializer(graph, "b1", {channels}, b1);
  add_float_initializer(graph, "w2", {channels, 1, 3, 3}, w2);
  add_float_initializer(graph, "b2", {channels}, b2);
  add_float_initializer(graph, "w3", {4, channels, 1, 1}, w3);
  add_float_initializer(graph, "b3", {4}, {0.1f, -0.1f, 0.2f, 0.0f});
  add_float_initializer(graph, "clip_low", {}, {0.0f});
  add_float_initializer(graph, "clip_high", {}, {6.0f});
  add_node(graph, "Conv", {"x", "w1", "b1"}, {"c1"}, "c1");
  if (activation == "Clip") {
    add_node(graph, "Clip", {"c1", "clip_low", "clip_high"}, {"a1"}, "a1");
  } else {
    add_node(graph, "Relu", {"c1"}, {"a1"}, "a1");
  }
  onnx::NodeProto* depthwise = add_node(graph, "Conv", {"a1", "w2", "b2"}, {"dw"}, "dw");
  set_int(depthwise, "group", channels);
  set_ints(depthwise, "pads", {1, 1, 1, 1});
  if (activation == "Clip") {
    add_node(graph, "Clip", {"dw", "clip_low", "clip_high"}, {"a2"}, "a2");
  } else {
    add_node(graph, "Relu", {"dw"}, {"a2"}, "a2");
  }
  add_node(graph, "Conv", {"a2", "w3", "b3"}, {"y"}, "c3");
  return write_model(model, path);
}

double simulated_output_sqnr(const quantization::QuantizeResult& result, const std::string& float_model_path,
                             const std::string& folder, const std::string& target) {
  const ir::Model original = preparation::load_prepared_model(float_model_path).model;
  std::unique_ptr<quantization::CalibrationSource> source =
      quantization::open_calibration_source(folder, ir::declared_inputs(original), {});
  std::vector<std::string> outputs;
  for (const ir::Value* output : original.graph->outputs) outputs.push_back(output->name);
  const auto reference = quantization::capture_float_values(original, outputs, *source, 0);
  std::unique_ptr<engine::Engine> simulated = quantization::simulate_quantized_model(result.model, target);
  double signal = 0, noise = 0;
  for (size_t index = 0; index < reference.size(); ++index) {
    const quantization::CalibrationSample sample = source->sample(index);
    const auto produced = simulated->run(sample.inputs);
    for (const std::string& name : outputs) {
      const std::vector<float> expected = reference[index].at(name).to_float_vector();
      const std::vector<float> actual = produced.at(name).to_float_vector();
      for (size_t element = 0; element < expected.size(); ++element) {
        const double difference = static_cast<double>(expected[element]) - actual[element];
        signal += static_cast<double>(expected[element]) * expected[element];
        noise += difference * difference;
      }
    }
  }
  return noise == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(signal / noise);
}

}  // namespace npukit::testing
