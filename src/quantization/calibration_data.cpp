#include "quantization/calibration_data.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/npy.h"
#include "npukit/error.h"
#include "vision/image_decoding.h"

namespace npukit::quantization {

namespace fs = std::filesystem;

namespace {

bool has_extension(const fs::path& path, std::initializer_list<const char*> extensions) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* wanted : extensions) {
    if (extension == wanted) return true;
  }
  return false;
}

bool is_picture_file(const fs::path& path) { return has_extension(path, {".jpg", ".jpeg", ".png", ".bmp"}); }
bool is_npy_file(const fs::path& path) { return has_extension(path, {".npy"}); }

// The regular files of a directory that `keep` accepts, sorted by name; hidden files are left out.
std::vector<fs::path> list_files(const fs::path& directory, bool (*keep)(const fs::path&), size_t* others = nullptr) {
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const fs::path& path = it->path();
    if (path.filename().string().starts_with(".")) continue;
    std::error_code status_error;
    if (!it->is_regular_file(status_error)) continue;
    if (keep(path)) files.push_back(path);
    else if (others != nullptr) ++*others;
  }
  if (error) throw Error(ErrorKind::io, "cannot list the directory: " + error.message(), directory.string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string input_names(const std::vector<ValueInfo>& inputs) {
  std::string names;
  for (const ValueInfo& input : inputs) names += (names.empty() ? "'" : ", '") + input.name + "'";
  return names;
}

std::string plural(size_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

// The shape a stored sample must have: the model's, dynamic dims (<= 0) free.
void check_shape_fits_input(DType dtype, const Shape& shape, const ValueInfo& input, const std::string& origin) {
  if (input.dtype != DType::undefined && dtype != input.dtype) {
    std::string hint;
    if (input.dtype == DType::f32) hint = " (numpy: array.astype(np.float32))";
    throw Error(ErrorKind::invalid_argument,
                "holds " + std::string(dtype_name(dtype)) + " but input '" + input.name + "' is " +
                    std::string(dtype_name(input.dtype)) + hint,
                origin);
  }
  if (!input.has_shape) return;
  bool fits = shape.size() == input.shape.size();
  for (size_t axis = 0; fits && axis < shape.size(); ++axis) {
    fits = input.shape[axis] <= 0 || input.shape[axis] == shape[axis];
  }
  if (!fits) {
    throw Error(ErrorKind::invalid_argument,
                "has shape " + shape_to_string(shape) + " but input '" + input.name + "' is " +
                    shape_to_string(input.shape) + " (dims <= 0 are free)",
                origin);
  }
}

// The batch a sample of `input` holds: its static batch dim, or 1 when dynamic.
int64_t batch_of(const ValueInfo& input) {
  return input.has_shape && !input.shape.empty() && input.shape[0] > 0 ? input.shape[0] : 1;
}

// A .npy batch split along axis 0, read one sample at a time.
class NpyBatchSource : public CalibrationSource {
 public:
  NpyBatchSource(std::string path, const ValueInfo& input) : path_(std::move(path)), input_(input) {
    const DType dtype = read_npy_dtype(path_);
    const Shape shape = read_npy_shape(path_);
    batch_ = batch_of(input_);
    if (shape.empty()) {
      throw Error(ErrorKind::invalid_argument, "is a scalar; a calibration batch has the samples along axis 0", path_);
    }
    if (shape[0] % batch_ != 0) {
      throw Error(ErrorKind::invalid_argument,
                  "has " + std::to_string(shape[0]) + " rows along axis 0, not a multiple of input '" + input_.name +
                      "''s batch size " + std::to_string(batch_),
                  path_);
    }
    Shape sample_shape = shape;
    sample_shape[0] = batch_;
    check_shape_fits_input(dtype, sample_shape, input_, path_ + " (one sample of the batch)");
    size_ = static_cast<size_t>(shape[0] / batch_);
  }
  size_t size() const override { return size_; }
  CalibrationSample sample(size_t index) override {
    CalibrationSample sample;
    sample.origin = path_ + "#" + std::to_string(index);
    sample.inputs[input_.name] = read_npy_rows(path_, static_cast<int64_t>(index) * batch_, batch_);
    return sample;
  }
  std::string describe() const override {
    return plural(size_, "sample") + " from " + path_ + " (batch " + std::to_string(batch_) + " each)";
  }

 private:
  std::string path_;
  ValueInfo input_;
  int64_t batch_ = 1;
  size_t size_ = 0;
};

// A directory of .npy files, one sample each; with several inputs, one sub-directory per input.
class NpyDirectorySource : public CalibrationSource {
 public:
  NpyDirectorySource(std::string directory, std::vector<ValueInfo> inputs, std::vector<std::string> names,
                     bool per_input_directories)
      : directory_(std::move(directory)), inputs_(std::move(inputs)), names_(std::move(names)),
        per_input_directories_(per_input_directories) {
    // Every header is checked now (cheap: no data is read), so a truncated or mis-shaped file stops the run
    // before it starts, naming the file.
    for (const std::string& name : names_) {
      for (const ValueInfo& input : inputs_) {
        const std::string path = file_of(input, name);
        check_shape_fits_input(read_npy_dtype(path), read_npy_shape(path), input, path);
      }
    }
  }
  size_t size() const override { return names_.size(); }
  CalibrationSample sample(size_t index) override {
    CalibrationSample sample;
    sample.origin = per_input_directories_ ? (fs::path(directory_) / "*" / names_[index]).string()
                                           : file_of(inputs_[0], names_[index]);
    for (const ValueInfo& input : inputs_) {
      const std::string path = file_of(input, names_[index]);
      Tensor tensor = read_npy(path);
      check_shape_fits_input(tensor.dtype(), tensor.shape(), input, path);
      sample.inputs[input.name] = std::move(tensor);
    }
    return sample;
  }
  std::string describe() const override {
    return plural(names_.size(), "sample") + " (.npy) from " + directory_ +
           (per_input_directories_ ? " (one sub-directory per input)" : "");
  }

 private:
  std::string file_of(const ValueInfo& input, const std::string& name) const {
    return (per_input_directories_ ? fs::path(directory_) / input.name / name : fs::path(directory_) / name).string();
  }
  std::string directory_;
  std::vector<ValueInfo> inputs_;
  std::vector<std::string> names_;
  bool per_input_directories_;
};

// A directory of pictures, each decoded and pre-processed when it is read.
class PictureDirectorySource : public CalibrationSource {
 public:
  PictureDirectorySource(std::string directory, std::vector<fs::path> files, size_t other_files,
                         const ValueInfo& input, const vision::PreprocessingSpec& spec)
      : directory_(std::move(directory)), files_(std::move(files)), other_files_(other_files), input_(input) {
    try {
      spec_ = vision::resolve_preprocessing_spec(spec, input);
    } catch (const Error& error) {
      throw error.with_file(directory_);
    }
  }
  size_t size() const override { return files_.size(); }
  CalibrationSample sample(size_t index) override {
    CalibrationSample sample;
    sample.origin = files_[index].string();
    const vision::Image image = vision::read_image(sample.origin);
    Tensor tensor;
    try {
      tensor = vision::preprocess(image, spec_);
    } catch (const Error& error) {
      throw error.with_file(sample.origin);
    }
    // A model with a fixed batch above 1 takes the picture repeated: one picture per sample keeps the origin
    // of every value one file.
    const int64_t batch = batch_of(input_);
    if (batch > 1) tensor = repeat_along_batch(tensor, batch);
    sample.inputs[input_.name] = std::move(tensor);
    return sample;
  }
  std::string describe() const override {
    std::string text = plural(files_.size(), "picture") + " from " + directory_ + ", " +
                       vision::preprocessing_spec_text(spec_);
    if (other_files_ > 0) text += " (" + plural(other_files_, "other file") + " ignored)";
    return text;
  }
  std::optional<vision::PreprocessingSpec> preprocessing() const override { return spec_; }

 private:
  static Tensor repeat_along_batch(const Tensor& single, int64_t batch) {
    Shape shape = single.shape();
    shape[0] = batch;
    Tensor repeated(single.dtype(), shape);
    const size_t bytes = single.byte_size();
    for (int64_t b = 0; b < batch; ++b) {
      std::copy_n(static_cast<const std::byte*>(single.raw_data()), bytes,
                  static_cast<std::byte*>(repeated.raw_data()) + b * bytes);
    }
    return repeated;
  }
  std::string directory_;
  std::vector<fs::path> files_;
  size_t other_files_;
  ValueInfo input_;
  vision::PreprocessingSpec spec_;
};

std::unique_ptr<CalibrationSource> open_directory(const std::string& path, const std::vector<ValueInfo>& inputs,
                                                  const vision::PreprocessingSpec& preprocessing) {
  const fs::path directory(path);
  size_t other_files = 0;
  const std::vector<fs::path> npy_files = list_files(directory, is_npy_file);
  const std::vector<fs::path> pictures = list_files(directory, is_picture_file, &other_files);
  other_files -= npy_files.size();
  if (!npy_files.empty() && !pictures.empty()) {
    throw Error(ErrorKind::invalid_argument,
                "mixes .npy files (" + npy_files.front().filename().string() + ", ...) and pictures (" +
                    pictures.front().filename().string() + ", ...); keep one kind of calibration data per directory",
                path);
  }
  if (!npy_files.empty()) {
    if (inputs.size() != 1) {
      throw Error(ErrorKind::invalid_argument,
                  "holds .npy files directly, but the model has " + std::to_string(inputs.size()) + " inputs (" +
                      input_names(inputs) + "): put each input's files in a sub-directory named like the input",
                  path);
    }
    std::vector<std::string> names;
    for (const fs::path& file : npy_files) names.push_back(file.filename().string());
    return std::make_unique<NpyDirectorySource>(path, inputs, names, false);
  }
  if (!pictures.empty()) {
    if (inputs.size() != 1) {
      throw Error(ErrorKind::invalid_argument,
                  "holds pictures, but the model has " + std::to_string(inputs.size()) + " inputs (" +
                      input_names(inputs) + "): give .npy files, one sub-directory per input",
                  path);
    }
    return std::make_unique<PictureDirectorySource>(path, pictures, other_files, inputs[0], preprocessing);
  }
  // One sub-directory per input, files paired by name.
  bool any_input_directory = false;
  for (const ValueInfo& input : inputs) any_input_directory |= fs::is_directory(directory / input.name);
  if (!any_input_directory || inputs.empty()) {
    throw Error(ErrorKind::invalid_argument,
                "holds no calibration data: no .npy files, no pictures (.jpg .jpeg .png .bmp)" +
                    std::string(inputs.size() > 1 ? ", and no sub-directory named like an input (" + input_names(inputs) + ")"
                                                  : ""),
                path);
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const fs::path input_directory = directory / inputs[i].name;
    if (!fs::is_directory(input_directory)) {
      throw Error(ErrorKind::invalid_argument,
                  "has no sub-directory for input '" + inputs[i].name + "' (the model's inputs are " +
                      input_names(inputs) + ")",
                  path);
    }
    std::vector<std::string> these;
    for (const fs::path& file : list_files(input_directory, is_npy_file)) these.push_back(file.filename().string());
    if (i == 0) {
      names = these;
      continue;
    }
    std::vector<std::string> missing;
    std::set_symmetric_difference(names.begin(), names.end(), these.begin(), these.end(), std::back_inserter(missing));
    if (!missing.empty()) {
      throw Error(ErrorKind::invalid_argument,
                  "the sub-directories '" + inputs[0].name + "' and '" + inputs[i].name +
                      "' do not hold the same file names: " + missing.front() + " is in only one of them",
                  path);
    }
  }
  if (names.empty()) {
    throw Error(ErrorKind::invalid_argument, "the per-input sub-directories hold no .npy files", path);
  }
  return std::make_unique<NpyDirectorySource>(path, inputs, names, true);
}

}  // namespace

void check_sample_fits_input(const Tensor& tensor, const ValueInfo& input, const std::string& origin) {
  check_shape_fits_input(tensor.dtype(), tensor.shape(), input, origin);
}

std::unique_ptr<CalibrationSource> open_calibration_source(const std::string& path,
                                                           const std::vector<ValueInfo>& model_inputs,
                                                           const vision::PreprocessingSpec& preprocessing) {
  if (model_inputs.empty()) throw Error(ErrorKind::invalid_argument, "the model has no inputs to calibrate", path);
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status)) throw Error(ErrorKind::io, "no such file or directory", path);
  if (fs::is_directory(status)) return open_directory(path, model_inputs, preprocessing);
  if (!is_npy_file(path)) {
    throw Error(ErrorKind::invalid_argument,
                "is neither a .npy file nor a directory (of .npy files or pictures); a single picture is not a "
                "calibration set: put pictures in a directory",
                path);
  }
  if (model_inputs.size() != 1) {
    throw Error(ErrorKind::invalid_argument,
                "is one .npy batch, but the model has " + std::to_string(model_inputs.size()) + " inputs (" +
                    input_names(model_inputs) + "): give a directory with one sub-directory of .npy files per input",
                path);
  }
  auto source = std::make_unique<NpyBatchSource>(path, model_inputs[0]);
  if (source->size() == 0) throw Error(ErrorKind::invalid_argument, "holds no sample (0 rows along axis 0)", path);
  return source;
}

}  // namespace npukit::quantization
