#include "npukit/session.h"

#include "ir/graph.h"
#include "onnx/onnx_import.h"
#include "runtime/executor.h"

namespace npukit {

namespace {
ValueInfo describe_value(const ir::Value& value) {
  ValueInfo info;
  info.name = value.name;
  info.dtype = value.type.dtype;
  info.has_shape = value.type.shape.has_value();
  if (value.type.shape) {
    for (const ir::Dim& dim : *value.type.shape) {
      info.shape.push_back(dim.is_static() ? dim.value : -1);
      info.dim_names.push_back(dim.symbol);
    }
  }
  return info;
}

std::vector<const runtime::Backend*> backends_for(const SessionOptions& options) {
  if (options.backend == "ref") return {&runtime::reference_backend()};
  throw Error(ErrorKind::invalid_argument,
              "unknown backend '" + options.backend + "' (available: ref)");
}
}  // namespace

struct Session::Impl {
  std::shared_ptr<const ir::Model> model;
  std::unique_ptr<runtime::Executor> executor;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::map<std::string, Tensor> input_tensors;
  std::map<std::string, Tensor> output_tensors;
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

std::unique_ptr<Session> Session::load(const std::string& path, const SessionOptions& options) {
  auto model = std::make_shared<ir::Model>(onnx_io::load_model(path));
  return from_model(std::move(model), options);
}

std::unique_ptr<Session> Session::from_model(std::shared_ptr<const ir::Model> model, const SessionOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->model = model;
  impl->executor = std::make_unique<runtime::Executor>(model, backends_for(options));
  for (const ir::Value* input : model->graph->inputs) {
    if (!input->initializer) impl->inputs.push_back(describe_value(*input));
  }
  for (const ir::Value* output : model->graph->outputs) impl->outputs.push_back(describe_value(*output));
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

const std::vector<ValueInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<ValueInfo>& Session::outputs() const { return impl_->outputs; }
const ir::Model& Session::model() const { return *impl_->model; }

void Session::set_input(const std::string& name, Tensor tensor) {
  const std::string& file = impl_->model->source_path;
  for (const ValueInfo& info : impl_->inputs) {
    if (info.name != name) continue;
    if (tensor.dtype() != info.dtype) {
      throw Error(ErrorKind::invalid_argument,
                  "input '" + name + "' must be " + std::string(dtype_name(info.dtype)) + ", got " +
                      std::string(dtype_name(tensor.dtype())),
                  file);
    }
    if (info.has_shape) {
      bool matches = info.shape.size() == tensor.rank();
      for (size_t i = 0; matches && i < info.shape.size(); ++i) {
        matches = info.shape[i] < 0 || info.shape[i] == tensor.dim(i);
      }
      if (!matches) {
        std::string expected = "[";
        for (size_t i = 0; i < info.shape.size(); ++i) {
          if (i) expected += ", ";
          expected += info.shape[i] >= 0 ? std::to_string(info.shape[i])
                                         : (info.dim_names[i].empty() ? "?" : info.dim_names[i]);
        }
        expected += "]";
        throw Error(ErrorKind::invalid_argument,
                    "input '" + name + "' must have shape " + expected + ", got " + shape_to_string(tensor.shape()),
                    file);
      }
    }
    impl_->input_tensors[name] = std::move(tensor);
    return;
  }
  std::string known;
  for (const ValueInfo& info : impl_->inputs) known += (known.empty() ? "" : ", ") + info.name;
  throw Error(ErrorKind::invalid_argument, "the model has no input named '" + name + "' (inputs: " + known + ")", file);
}

void Session::run() {
  for (const ValueInfo& info : impl_->inputs) {
    if (!impl_->input_tensors.count(info.name)) {
      throw Error(ErrorKind::invalid_argument, "input '" + info.name + "' was not set", impl_->model->source_path);
    }
  }
  std::vector<Tensor> results = impl_->executor->run(impl_->input_tensors);
  impl_->output_tensors.clear();
  for (size_t i = 0; i < results.size(); ++i) impl_->output_tensors[impl_->outputs[i].name] = std::move(results[i]);
}

const Tensor& Session::output(const std::string& name) const {
  auto found = impl_->output_tensors.find(name);
  if (found == impl_->output_tensors.end()) {
    throw Error(ErrorKind::invalid_argument, "no output named '" + name + "' (did run() succeed?)",
                impl_->model->source_path);
  }
  return found->second;
}

std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& inputs) {
  impl_->input_tensors.clear();
  for (const auto& [name, tensor] : inputs) set_input(name, tensor);
  run();
  return impl_->output_tensors;
}

}  // namespace npukit
