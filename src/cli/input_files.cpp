#include "cli/input_files.h"

#include <cctype>
#include <filesystem>
#include <set>

#include "cli/model_arguments.h"
#include "core/npy.h"
#include "vision/image_decoding.h"
#include "vision/preprocessing_spec.h"
#include "npukit/error.h"

namespace npukit::cli {

namespace {

// numpy's name for a dtype, so the user knows what to pass to astype().
std::string numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f16: return "float16";
    case DType::f64: return "float64";
    case DType::i8: return "int8";
    case DType::u8: return "uint8";
    case DType::i16: return "int16";
    case DType::u16: return "uint16";
    case DType::i32: return "int32";
    case DType::u32: return "uint32";
    case DType::i64: return "int64";
    case DType::u64: return "uint64";
    case DType::boolean: return "bool";
    default: return std::string(dtype_name(dtype));
  }
}

const ValueInfo& find_input(const std::vector<ValueInfo>& inputs, const std::string& name, const std::string& model) {
  for (const ValueInfo& input : inputs) {
    if (input.name == name) return input;
  }
  throw Error(ErrorKind::invalid_argument,
              "the model has no input named '" + name + "'; its inputs are: " + input_names(inputs), model);
}

// Checks a tensor read from a file against the model's declaration, with a message that says what to do.
void check_input(const ValueInfo& input, const Tensor& tensor, const std::string& path, const std::string& model) {
  if (tensor.dtype() != input.dtype) {
    throw Error(ErrorKind::invalid_argument,
                "input '" + input.name + "' must be " + std::string(dtype_name(input.dtype)) + " but " + path +
                    " holds " + std::string(dtype_name(tensor.dtype())) + "; convert it, e.g. np.save('" + path +
                    "', array.astype(np." + numpy_dtype(input.dtype) + "))",
                model);
  }
  if (!input.has_shape) return;
  bool matches = input.shape.size() == tensor.rank();
  for (size_t i = 0; matches && i < input.shape.size(); ++i) {
    matches = input.shape[i] < 0 || input.shape[i] == tensor.dim(i);
  }
  if (!matches) {
    throw Error(ErrorKind::invalid_argument,
                "input '" + input.name + "' must have shape " + describe_dims(input.shape, input.dim_names) +
                    " but " + path + " holds " + shape_to_string(tensor.shape()) +
                    "; save an array of that shape (or, if the model's dims are dynamic, fix them with "
                    "--input-shape " + input_shape_example(input) + ")",
                model);
  }
}

bool is_picture_path(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  for (char& character : extension) character = static_cast<char>(std::tolower(static_cast<unsigned char>(character)));
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png" || extension == ".bmp";
}

// A picture given for an image input goes through the one declared pre-processing (vision/preprocessing_spec.h)
// at its default: letterbox at the input's H x W, /255, RGB, the input's layout — what detect and quantize's
// calibration feed the same model, so a comparison or a run sees the pixels the model sees in use.
Tensor read_input_picture(const ValueInfo& input, const std::string& path, const std::string& model) {
  try {
    const vision::PreprocessingSpec spec = vision::default_preprocessing_spec(input);
    return vision::preprocess(vision::read_image(path), spec);
  } catch (const Error& failure) {
    throw Error(failure.kind(),
                "input '" + input.name + "' from the picture '" + path + "': " + failure.reason() +
                    " (pictures are letterboxed to a 4-D image input [N, 3, H, W] with static H and W; otherwise "
                    "pass a .npy file)",
                model);
  }
}

Tensor read_input_file(const std::string& name, const std::string& path, const std::string& model) {
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (std::filesystem::is_directory(status)) {
    throw Error(ErrorKind::io,
                "cannot read input '" + name + "': '" + path + "' is a directory; pass the .npy file (save arrays "
                "with numpy.save)",
                model);
  }
  if (!std::filesystem::exists(status)) {
    throw Error(ErrorKind::io,
                "cannot read input '" + name + "': no such file '" + path + "'; check the path (save arrays "
                "with numpy.save)",
                model);
  }
  try {
    return read_npy(path);
  } catch (const Error& failure) {
    throw Error(failure.kind(),
                "input '" + name + "' from '" + path + "' is not a readable .npy file (" + failure.reason() +
                    "); write it with numpy.save(path, array)",
                model);
  }
}

}  // namespace

std::map<std::string, std::vector<int64_t>> shapes_of_input_files(const std::vector<std::string>& arguments) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const std::string& argument : arguments) {
    const size_t equals = argument.find('=');
    const std::string name = equals == std::string::npos ? "" : argument.substr(0, equals);
    const std::string path = equals == std::string::npos ? argument : argument.substr(equals + 1);
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) continue;
    try {
      const Shape shape = read_npy_shape(path);
      shapes[name] = std::vector<int64_t>(shape.begin(), shape.end());
    } catch (const Error&) {
    }
  }
  return shapes;
}

std::string input_names(const std::vector<ValueInfo>& inputs) {
  std::string names;
  for (const ValueInfo& input : inputs) names += (names.empty() ? "" : ", ") + input.name;
  return names.empty() ? "none" : names;
}

std::vector<InputFile> read_input_files(const std::vector<std::string>& arguments, const std::vector<ValueInfo>& declared,
                                        const std::string& model) {
  std::vector<InputFile> files;
  std::set<std::string> given;
  for (const std::string& argument : arguments) {
    std::string name, path;
    const size_t equals = argument.find('=');
    if (equals == std::string::npos) {
      // A bare file is fine for a model with one input.
      if (declared.size() != 1) {
        throw Error(ErrorKind::invalid_argument,
                    "--input '" + argument + "' names no input; use --input NAME=FILE.npy (inputs: " +
                        input_names(declared) + ")",
                    model);
      }
      name = declared[0].name;
      path = argument;
    } else {
      name = argument.substr(0, equals);
      path = argument.substr(equals + 1);
    }
    const ValueInfo& input = find_input(declared, name, model);
    if (!given.insert(name).second) {
      throw Error(ErrorKind::invalid_argument, "input '" + name + "' is given twice", model);
    }
    std::error_code status_error;
    Tensor tensor = is_picture_path(path) && std::filesystem::is_regular_file(path, status_error)
                        ? read_input_picture(input, path, model)
                        : read_input_file(name, path, model);
    check_input(input, tensor, path, model);
    files.push_back({name, path, std::move(tensor)});
  }
  return files;
}

}  // namespace npukit::cli
