// The Python module npukit._npukit, bound with pybind11 to the public C++ API (include/npukit) only; the
// package python/npukit/__init__.py is its face (keyword arguments, dicts from JSON, numpy conversion).
//
// Numbers cross without copies where the memory allows: an output tensor is handed to numpy with a capsule
// that keeps the tensor's storage alive (the session copies its outputs out of the activation arena, so the
// storage is the output's own). Inputs are copied once into a tensor npukit owns, so no output can point
// into memory numpy may free. The GIL is released while a model loads, runs or is inspected, checked or
// patched, so Python threads run in parallel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "npukit/check.h"
#include "npukit/error.h"
#include "npukit/inspect.h"
#include "npukit/isolation.h"
#include "npukit/patch.h"
#include "npukit/session.h"
#include "npukit/tensor.h"
#include "npukit/version.h"

namespace py = pybind11;

namespace {

// numpy's name for an npukit dtype; "" when numpy has none (bf16 is handed over as float32).
std::string numpy_dtype_name(npukit::DType dtype) {
  using npukit::DType;
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f16: return "float16";
    case DType::f64: return "float64";
    case DType::i8: case DType::i4: return "int8";   // i4/u4: one value per byte
    case DType::u8: case DType::u4: return "uint8";
    case DType::i16: return "int16";
    case DType::u16: return "uint16";
    case DType::i32: return "int32";
    case DType::u32: return "uint32";
    case DType::i64: return "int64";
    case DType::u64: return "uint64";
    case DType::boolean: return "bool";
    default: return "";
  }
}

npukit::DType dtype_of_array(const py::array& array) {
  using npukit::DType;
  const py::dtype dtype = array.dtype();
  const char kind = dtype.kind();
  const size_t size = static_cast<size_t>(dtype.itemsize());
  if (kind == 'f' && size == 4) return DType::f32;
  if (kind == 'f' && size == 2) return DType::f16;
  if (kind == 'f' && size == 8) return DType::f64;
  if (kind == 'i' && size == 1) return DType::i8;
  if (kind == 'i' && size == 2) return DType::i16;
  if (kind == 'i' && size == 4) return DType::i32;
  if (kind == 'i' && size == 8) return DType::i64;
  if (kind == 'u' && size == 1) return DType::u8;
  if (kind == 'u' && size == 2) return DType::u16;
  if (kind == 'u' && size == 4) return DType::u32;
  if (kind == 'u' && size == 8) return DType::u64;
  if (kind == 'b' && size == 1) return DType::boolean;
  throw npukit::Error(npukit::ErrorKind::invalid_argument,
                      "numpy dtype " + std::string(py::repr(dtype)) + " has no npukit element type");
}

npukit::Tensor tensor_from_array(const std::string& name, const py::array& given) {
  // A C-contiguous copy in npukit's own storage (see the comment at the top).
  const py::array array = py::array::ensure(given, py::array::c_style);
  if (!array) throw npukit::Error(npukit::ErrorKind::invalid_argument, "input '" + name + "' is not an array");
  npukit::Shape shape(array.shape(), array.shape() + array.ndim());
  npukit::Tensor tensor(dtype_of_array(array), shape);
  if (tensor.byte_size() != static_cast<size_t>(array.nbytes())) {
    throw npukit::Error(npukit::ErrorKind::internal, "input '" + name + "': numpy and npukit disagree on its size");
  }
  if (tensor.byte_size() > 0) std::memcpy(tensor.raw_data(), array.data(), tensor.byte_size());
  return tensor;
}

py::array array_from_tensor(const npukit::Tensor& tensor) {
  const std::string dtype_name = numpy_dtype_name(tensor.dtype());
  std::vector<py::ssize_t> shape(tensor.shape().begin(), tensor.shape().end());
  if (dtype_name.empty()) {
    // bf16 and other types numpy lacks: converted, so a copy.
    const std::vector<float> values = tensor.to_float_vector();
    py::array_t<float> converted(shape);
    if (!values.empty()) std::memcpy(converted.mutable_data(), values.data(), values.size() * sizeof(float));
    return std::move(converted);
  }
  // The capsule owns a handle on the tensor's storage: numpy reads the output where the session wrote it.
  auto* owner = new npukit::Tensor(tensor);
  py::capsule keeper(owner, [](void* pointer) { delete static_cast<npukit::Tensor*>(pointer); });
  return py::array(py::dtype(dtype_name), shape, owner->raw_data(), keeper);
}

py::object dims_to_python(const npukit::ValueInfo& value) {
  if (!value.has_shape) return py::none();
  py::list dims;
  for (int64_t dim : value.shape) {
    if (dim >= 0) dims.append(dim);
    else dims.append(py::none());
  }
  return py::tuple(dims);
}

py::dict value_info_to_python(const npukit::ValueInfo& value) {
  py::dict info;
  info["name"] = value.name;
  const std::string numpy_name = numpy_dtype_name(value.dtype);
  info["dtype"] = numpy_name.empty() ? std::string(npukit::dtype_name(value.dtype)) : numpy_name;
  info["shape"] = dims_to_python(value);
  info["dim_names"] = value.dim_names;
  return info;
}

// Holds a loaded model for Python.
class PythonSession {
 public:
  PythonSession(const std::string& path, const npukit::SessionOptions& options) {
    py::gil_scoped_release unlocked;
    session_ = npukit::Session::load(path, options);
  }
  PythonSession(const std::string& bytes, const npukit::SessionOptions& options, const std::string& name) {
    py::gil_scoped_release unlocked;
    session_ = npukit::Session::load_from_bytes(bytes, options, name);
  }

  py::list inputs() const {
    py::list list;
    for (const npukit::ValueInfo& value : session_->inputs()) list.append(value_info_to_python(value));
    return list;
  }
  py::list outputs() const {
    py::list list;
    for (const npukit::ValueInfo& value : session_->outputs()) list.append(value_info_to_python(value));
    return list;
  }

  py::dict run(const std::map<std::string, py::array>& inputs) {
    std::map<std::string, npukit::Tensor> tensors;
    for (const auto& [name, array] : inputs) tensors.emplace(name, tensor_from_array(name, array));
    std::map<std::string, npukit::Tensor> outputs;
    {
      py::gil_scoped_release unlocked;
      outputs = session_->run(tensors);
    }
    py::dict result;
    for (const auto& [name, tensor] : outputs) result[py::str(name)] = array_from_tensor(tensor);
    return result;
  }

 private:
  std::unique_ptr<npukit::Session> session_;
};

// The enumerator's name ("invalid_argument", "io"), as C++ spells npukit::ErrorKind.
std::string kind_identifier(npukit::ErrorKind kind) {
  switch (kind) {
    case npukit::ErrorKind::invalid_model: return "invalid_model";
    case npukit::ErrorKind::unsupported: return "unsupported";
    case npukit::ErrorKind::invalid_argument: return "invalid_argument";
    case npukit::ErrorKind::io: return "io";
    case npukit::ErrorKind::resource_limit: return "resource_limit";
    case npukit::ErrorKind::internal: return "internal";
  }
  return "internal";
}

npukit::SessionOptions session_options(const std::string& backend, int threads,
                                      const std::map<std::string, std::vector<int64_t>>& input_shapes,
                                      const std::map<std::string, py::array>& input_values) {
  npukit::SessionOptions options;
  options.backend = backend;
  options.threads = threads;
  options.input_shapes = input_shapes;
  for (const auto& [name, array] : input_values) options.input_values.emplace(name, tensor_from_array(name, array));
  return options;
}

template <typename Options>
void apply_model_options(Options& options, const std::map<std::string, std::vector<int64_t>>& input_shapes,
                         const std::map<std::string, std::string>& input_values) {
  options.input_shapes = input_shapes;
  options.input_values = input_values;
}

}  // namespace

PYBIND11_MODULE(_npukit, module) {
  module.doc() = "npukit: take an ONNX model to an edge NPU, and tell the truth about it (C++ core)";

  // npukit.Error: a RuntimeError with the CLI's message, and the parts of it as attributes.
  static py::exception<npukit::Error> error_type(module, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr pointer) {
    try {
      if (pointer) std::rethrow_exception(pointer);
    } catch (const npukit::Error& error) {
      py::object instance = py::reinterpret_borrow<py::object>(error_type)(error.what());
      instance.attr("kind") = kind_identifier(error.kind());
      instance.attr("reason") = error.reason();
      instance.attr("file") = error.file();
      instance.attr("node") = error.node();
      PyErr_SetObject(error_type.ptr(), instance.ptr());
    }
  });

  // The libonnx checker runs in the helper program, never in a fork of the interpreter: Python programs run
  // threads (include/npukit/isolation.h).
  npukit::set_validation_isolation(npukit::ValidationIsolation::helper_program);
  module.def("validation_helper_path", &npukit::validation_helper_path,
             "The npukit-validate program that runs the ONNX checker outside this process");

  module.def("version", &npukit::version, "The npukit library version, e.g. '0.1.0'");
  module.def("available_backends", &npukit::Session::available_backends,
             "The backends Session takes, the default first");
  module.def("build_description", &npukit::build_description,
             "What `npukit --version` prints: version, git commit, library versions");

  py::class_<PythonSession>(module, "_Session")
      .def(py::init([](const std::string& path, const std::string& backend, int threads,
                       const std::map<std::string, std::vector<int64_t>>& input_shapes,
                       const std::map<std::string, py::array>& input_values) {
             return std::make_unique<PythonSession>(path, session_options(backend, threads, input_shapes, input_values));
           }),
           py::arg("path"), py::arg("backend"), py::arg("threads"), py::arg("input_shapes"), py::arg("input_values"))
      .def_static(
          "from_bytes",
          [](const py::bytes& bytes, const std::string& backend, int threads,
             const std::map<std::string, std::vector<int64_t>>& input_shapes,
             const std::map<std::string, py::array>& input_values, const std::string& name) {
            return std::make_unique<PythonSession>(std::string(bytes),
                                                   session_options(backend, threads, input_shapes, input_values), name);
          },
          py::arg("model_bytes"), py::arg("backend"), py::arg("threads"), py::arg("input_shapes"),
          py::arg("input_values"), py::arg("name"))
      .def_property_readonly("inputs", &PythonSession::inputs)
      .def_property_readonly("outputs", &PythonSession::outputs)
      .def("run", &PythonSession::run, py::arg("inputs"));

  module.def(
      "_inspect_json",
      [](const std::string& path, const std::map<std::string, std::vector<int64_t>>& input_shapes,
         const std::map<std::string, std::string>& input_values) {
        npukit::ModelOptions options;
        apply_model_options(options, input_shapes, input_values);
        py::gil_scoped_release unlocked;
        return npukit::inspect_model(path, options).to_json();
      },
      py::arg("path"), py::arg("input_shapes"), py::arg("input_values"));

  module.def(
      "_check_json",
      [](const std::string& path, const std::string& target, const std::string& target_file,
         const std::map<std::string, std::vector<int64_t>>& input_shapes,
         const std::map<std::string, std::string>& input_values) {
        npukit::CheckOptions options;
        apply_model_options(options, input_shapes, input_values);
        options.target = target;
        options.target_file = target_file;
        py::gil_scoped_release unlocked;
        return npukit::check_model(path, options).to_json();
      },
      py::arg("path"), py::arg("target"), py::arg("target_file"), py::arg("input_shapes"), py::arg("input_values"));

  module.def(
      "_patch",
      [](const std::string& path, const std::string& target, const std::string& target_file, const std::string& output,
         const std::string& sidecar, bool keep_postprocess, bool allow_retraining, bool silu_to_relu,
         const std::map<std::string, std::vector<int64_t>>& input_shapes,
         const std::map<std::string, std::string>& input_values) {
        npukit::PatchOptions options;
        apply_model_options(options, input_shapes, input_values);
        options.target = target;
        options.target_file = target_file;
        options.output = output;
        options.sidecar = sidecar;
        options.keep_postprocess = keep_postprocess;
        options.allow_retraining = allow_retraining;
        options.silu_to_relu = silu_to_relu;
        std::string json, model_bytes, sidecar_json;
        {
          py::gil_scoped_release unlocked;
          if (output.empty()) {
            npukit::PatchedModel patched = npukit::patch_model_to_bytes(path, options);
            json = patched.report.to_json();
            model_bytes = std::move(patched.model_bytes);
            sidecar_json = patched.report.sidecar_json;
          } else {
            const npukit::PatchReport report = npukit::patch_model(path, options);
            json = report.to_json();
            sidecar_json = report.sidecar_json;
          }
        }
        return py::make_tuple(json, py::bytes(model_bytes), sidecar_json);
      },
      py::arg("path"), py::arg("target"), py::arg("target_file"), py::arg("output"), py::arg("sidecar"),
      py::arg("keep_postprocess"), py::arg("allow_retraining"), py::arg("silu_to_relu"), py::arg("input_shapes"),
      py::arg("input_values"));
}
