// A program outside npukit's tree: loads a model, fills each input, runs it, prints the outputs.
//
//   run_model MODEL.onnx [backend]
//
// Built against the installed package: find_package(npukit) (CMakeLists.txt here) or pkg-config:
//   g++ -std=c++20 run_model.cpp $(pkg-config --cflags --libs npukit) -o run_model
#include <npukit/check.h>
#include <npukit/error.h>
#include <npukit/session.h>
#include <npukit/version.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: run_model MODEL.onnx [cpu|ref]\n";
    return 2;
  }
  try {
    npukit::SessionOptions options;
    if (argc > 2) options.backend = argv[2];
    auto session = npukit::Session::load(argv[1], options);
    std::cout << "npukit " << npukit::version() << ", backend " << options.backend << "\n";

    // Every input filled with a ramp 0, 0.01, 0.02, ... (a dynamic dim taken as 1).
    std::map<std::string, npukit::Tensor> inputs;
    for (const npukit::ValueInfo& input : session->inputs()) {
      npukit::Shape shape;
      for (int64_t dim : input.shape) shape.push_back(dim >= 0 ? dim : 1);
      npukit::Tensor tensor(npukit::DType::f32, shape);
      if (input.dtype != npukit::DType::f32) {
        std::cerr << "input '" << input.name << "' is not f32; this example fills f32 inputs only\n";
        return 1;
      }
      float* values = tensor.data<float>();
      for (int64_t i = 0; i < tensor.element_count(); ++i) values[i] = static_cast<float>(i % 100) * 0.01f;
      inputs.emplace(input.name, std::move(tensor));
      std::cout << "input  " << input.name << " " << npukit::shape_to_string(shape) << "\n";
    }

    const std::map<std::string, npukit::Tensor> outputs = session->run(inputs);
    for (const auto& [name, tensor] : outputs) {
      double sum = 0;
      for (int64_t i = 0; i < tensor.element_count(); ++i) sum += tensor.value_as_double(i);
      std::printf("output %s %s sum %.6g\n", name.c_str(), npukit::shape_to_string(tensor.shape()).c_str(), sum);
    }
    return 0;
  } catch (const npukit::Error& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
