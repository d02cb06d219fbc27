#include "onnx/tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/float16.h"
#include "onnx/dtype_mapping.h"

namespace npukit::onnx_io {

namespace {

std::string tensor_label(const onnx::TensorProto& proto) {
  return proto.name().empty() ? std::string("(unnamed tensor)") : "tensor '" + proto.name() + "'";
}

[[noreturn]] void fail(ErrorKind kind, const onnx::TensorProto& proto, const std::string& reason) {
  throw Error(kind, tensor_label(proto) + ": " + reason);
}

// Checks dims before anything is allocated: negative sizes are malformed, products that overflow or
// exceed the memory limit are refused as resource limits (a hostile file must not make us allocate).
Shape checked_shape(const onnx::TensorProto& proto, DType dtype) {
  Shape shape(proto.dims().begin(), proto.dims().end());
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) fail(ErrorKind::invalid_model, proto, "negative dimension " + std::to_string(dim));
  }
  for (int64_t dim : shape) {
    if (dim == 0) return shape;  // an empty tensor, whatever the other dims say
  }
  const int64_t element_size = static_cast<int64_t>(dtype_size(dtype));
  const uint64_t limit = tensor_memory_limit();
  for (int64_t dim : shape) {
    if (count > std::numeric_limits<int64_t>::max() / dim) {
      fail(ErrorKind::resource_limit, proto, "dimensions " + shape_to_string(shape) + " overflow 64-bit element count");
    }
    count *= dim;
  }
  if (static_cast<uint64_t>(count) > limit / static_cast<uint64_t>(element_size)) {
    fail(ErrorKind::resource_limit, proto,
         "dimensions " + shape_to_string(shape) + " need more than the tensor memory limit of " +
             std::to_string(limit) + " bytes");
  }
  return shape;
}

std::string read_external_bytes(const onnx::TensorProto& proto, const std::string& base_directory,
                                uint64_t expected_bytes) {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (const auto& entry : proto.external_data()) {
    try {
      if (entry.key() == "location") location = entry.value();
      if (entry.key() == "offset") offset = std::stoull(entry.value());
      if (entry.key() == "length") length = std::stoull(entry.value());
    } catch (const std::exception&) {
      fail(ErrorKind::invalid_model, proto, "external data '" + entry.key() + "' is not a number: '" + entry.value() + "'");
    }
  }
  if (location.empty()) fail(ErrorKind::invalid_model, proto, "external data without a location");
  if (base_directory.empty()) {
    fail(ErrorKind::invalid_model, proto,
         "external data '" + location + "' cannot be read: the model was not loaded from a file");
  }
  const std::string path = resolve_external_data_path(base_directory, location, proto.name());
  if (length && *length != expected_bytes) {
    fail(ErrorKind::invalid_model, proto,
         "external data length " + std::to_string(*length) + " does not match the " + std::to_string(expected_bytes) +
             " bytes its dims and type need");
  }
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw Error(ErrorKind::io, tensor_label(proto) + ": cannot open external data file '" + path + "'");
  stream.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(stream.tellg());
  if (offset > file_size || file_size - offset < expected_bytes) {
    fail(ErrorKind::invalid_model, proto,
         "external data file '" + location + "' has " + std::to_string(file_size) + " bytes, too few for " +
             std::to_string(expected_bytes) + " bytes at offset " + std::to_string(offset));
  }
  std::string bytes(expected_bytes, '\0');
  stream.seekg(static_cast<std::streamoff>(offset));
  stream.read(bytes.data(), static_cast<std::streamsize>(expected_bytes));
  if (!stream) throw Error(ErrorKind::io, tensor_label(proto) + ": failed reading external data file '" + path + "'");
  return bytes;
}

template <typename Target, typename Field>
void copy_typed(const Field& field, Tensor& tensor) {
  Target* out = tensor.data<Target>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Target>(field.Get(i));
}

int typed_field_size(const onnx::TensorProto& proto, DType dtype) {
  switch (dtype) {
    case DType::f32: return proto.float_data_size();
    case DType::f64: return proto.double_data_size();
    case DType::i64: return proto.int64_data_size();
    case DType::u32:
    case DType::u64: return proto.uint64_data_size();
    default: return proto.int32_data_size();
  }
}

const char* typed_field_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float_data";
    case DType::f64: return "double_data";
    case DType::i64: return "int64_data";
    case DType::u32:
    case DType::u64: return "uint64_data";
    default: return "int32_data";
  }
}

void fill_from_typed_fields(const onnx::TensorProto& proto, Tensor& tensor) {
  switch (tensor.dtype()) {
    case DType::f32: copy_typed<float>(proto.float_data(), tensor); break;
    case DType::f64: copy_typed<double>(proto.double_data(), tensor); break;
    case DType::i64: copy_typed<int64_t>(proto.int64_data(), tensor); break;
    case DType::u32: copy_typed<uint32_t>(proto.uint64_data(), tensor); break;
    case DType::u64: copy_typed<uint64_t>(proto.uint64_data(), tensor); break;
    case DType::i32: copy_typed<int32_t>(proto.int32_data(), tensor); break;
    case DType::i16: copy_typed<int16_t>(proto.int32_data(), tensor); break;
    case DType::i8: copy_typed<int8_t>(proto.int32_data(), tensor); break;
    case DType::u16: copy_typed<uint16_t>(proto.int32_data(), tensor); break;
    case DType::u8: copy_typed<uint8_t>(proto.int32_data(), tensor); break;
    // 16-bit floats travel as their bit patterns in int32_data.
    case DType::f16:
    case DType::bf16: copy_typed<uint16_t>(proto.int32_data(), tensor); break;
    case DType::boolean: {
      bool* out = tensor.data<bool>();
      for (int i = 0; i < proto.int32_data_size(); ++i) out[i] = proto.int32_data(i) != 0;
      break;
    }
    default: fail(ErrorKind::unsupported, proto, "element type not supported");
  }
}

}  // namespace

void check_tensor_proto_dims(const onnx::TensorProto& proto) {
  // Types npukit cannot hold are refused later, with their own message; count them as one byte here.
  const DType dtype = dtype_from_onnx(proto.data_type()).value_or(DType::u8);
  checked_shape(proto, dtype);
}

std::string resolve_external_data_path(const std::string& base_directory, const std::string& location,
                                       const std::string& tensor_name) {
  namespace fs = std::filesystem;
  const std::string label = "tensor '" + tensor_name + "'";
  fs::path relative(location);
  if (location.empty() || relative.is_absolute() || relative.has_root_name() || relative.has_root_directory()) {
    throw Error(ErrorKind::invalid_model,
                label + ": external data location '" + location + "' must be a path relative to the model's folder");
  }
  fs::path normalized = relative.lexically_normal();
  if (!normalized.empty() && *normalized.begin() == "..") {
    throw Error(ErrorKind::invalid_model,
                label + ": external data location '" + location + "' leaves the model's folder");
  }
  std::error_code error;
  fs::path base = fs::weakly_canonical(fs::path(base_directory), error);
  if (error) base = fs::absolute(fs::path(base_directory)).lexically_normal();
  fs::path resolved = fs::weakly_canonical(base / normalized, error);
  if (error) resolved = (base / normalized).lexically_normal();
  // Symbolic links may still point elsewhere: compare the resolved path with the folder.
  fs::path inside = resolved.lexically_relative(base);
  if (inside.empty() || *inside.begin() == "..") {
    throw Error(ErrorKind::invalid_model,
                label + ": external data location '" + location + "' resolves outside the model's folder");
  }
  return resolved.string();
}

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_directory) {
  if (!proto.has_data_type() || proto.data_type() == onnx::TensorProto_DataType_UNDEFINED) {
    fail(ErrorKind::invalid_model, proto, "no element type");
  }
  if (proto.has_segment()) fail(ErrorKind::unsupported, proto, "segmented tensors are not supported");
  const DType dtype = dtype_from_onnx_or_throw(proto.data_type(), proto.name());
  Shape shape = checked_shape(proto, dtype);
  const int64_t count = shape_element_count(shape);
  const uint64_t expected_bytes = static_cast<uint64_t>(count) * dtype_size(dtype);

  const bool external = proto.has_data_location() && proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL;
  std::string external_bytes;
  const std::string* raw = nullptr;
  if (external) {
    external_bytes = read_external_bytes(proto, base_directory, expected_bytes);
    raw = &external_bytes;
  } else if (proto.has_raw_data()) {
    raw = &proto.raw_data();
  }
  if (raw) {
    if (raw->size() != expected_bytes) {
      fail(ErrorKind::invalid_model, proto,
           "holds " + std::to_string(raw->size()) + " bytes of data but its dims " + shape_to_string(shape) + " and type " +
               std::string(dtype_name(dtype)) + " need " + std::to_string(expected_bytes));
    }
    Tensor tensor(dtype, std::move(shape));
    if (dtype == DType::boolean) {
      bool* out = tensor.data<bool>();
      for (int64_t i = 0; i < count; ++i) out[i] = (*raw)[static_cast<size_t>(i)] != 0;
    } else if (expected_bytes > 0) {
      std::memcpy(tensor.raw_data(), raw->data(), expected_bytes);  // ONNX raw data is little-endian, as is x86
    }
    return tensor;
  }
  const int stored = typed_field_size(proto, dtype);
  if (stored != count) {
    fail(ErrorKind::invalid_model, proto,
         "holds " + std::to_string(stored) + " values in " + typed_field_name(dtype) + " but its dims " +
             shape_to_string(shape) + " need " + std::to_string(count));
  }
  Tensor tensor(dtype, std::move(shape));
  fill_from_typed_fields(proto, tensor);
  return tensor;
}

void tensor_to_proto(const Tensor& tensor, const std::string& name, onnx::TensorProto& proto) {
  proto.Clear();
  proto.set_name(name);
  proto.set_data_type(dtype_to_onnx(tensor.dtype()));
  for (int64_t dim : tensor.shape()) proto.add_dims(dim);
  proto.set_raw_data(tensor.raw_data(), tensor.byte_size());
}

Tensor read_tensor_file(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw Error(ErrorKind::io, "cannot open the file", path);
  std::string bytes((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) {
    throw Error(ErrorKind::invalid_argument, "not a serialized ONNX TensorProto (protobuf parse failed)", path);
  }
  try {
    namespace fs = std::filesystem;
    return tensor_from_proto(proto, fs::path(path).parent_path().string());
  } catch (const Error& error) {
    throw error.with_file(path);
  }
}

void write_tensor_file(const Tensor& tensor, const std::string& name, const std::string& path) {
  onnx::TensorProto proto;
  tensor_to_proto(tensor, name, proto);
  std::ofstream stream(path, std::ios::binary);
  if (!stream || !proto.SerializeToOstream(&stream)) throw Error(ErrorKind::io, "cannot write the file", path);
}

}  // namespace npukit::onnx_io
