// The public way to run a model: load → query inputs/outputs → set inputs → run → read outputs.
//
//   auto session = npukit::Session::load("yolov5s.onnx");
//   session->set_input("images", image_tensor);
//   session->run();
//   const npukit::Tensor& boxes = session->output("output0");
//
// A Session is not meant to be shared between threads while running; create one Session per thread
// (distinct sessions share no mutable state and run safely in parallel).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "npukit/dtype.h"
#include "npukit/tensor.h"

namespace npukit {

namespace ir {
struct Model;
}

struct SessionOptions {
  std::string backend = "ref";  // "ref" today; "cpu" when the fast backend lands
  int threads = 1;
};

// A model input or output as declared in the model. Dynamic dimensions are -1 with their symbol (if any)
// in dim_names.
struct ValueInfo {
  std::string name;
  DType dtype = DType::undefined;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
  bool has_shape = true;  // false when the model declares no rank
};

class Session {
 public:
  // Throws npukit::Error naming the file and the reason when the model cannot be loaded or run.
  static std::unique_ptr<Session> load(const std::string& path, const SessionOptions& options = {});
  static std::unique_ptr<Session> from_model(std::shared_ptr<const ir::Model> model, const SessionOptions& options = {});
  ~Session();

  const std::vector<ValueInfo>& inputs() const;
  const std::vector<ValueInfo>& outputs() const;

  // Checks dtype and static dimensions against the declaration; throws Error(invalid_argument) otherwise.
  void set_input(const std::string& name, Tensor tensor);
  // Runs with the inputs set so far; every input must have been set.
  void run();
  // Output of the last run(), by name.
  const Tensor& output(const std::string& name) const;

  // One call: inputs by name in, outputs by name out.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs);

  const ir::Model& model() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npukit
