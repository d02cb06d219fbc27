// Calibration data: the samples a calibration run feeds the model, read one at a time (streaming: a directory
// of 1000 pictures or a 4 GB .npy batch is never held in memory at once).
//
// PATH may be
//   * a .npy file: a batch, split along axis 0 into samples of the model input's batch size (1 when the batch
//     dim is dynamic); a model with one input only;
//   * a directory of .npy files: one sample each, sorted by name; a model with several inputs: one
//     sub-directory per input named like the input, the files paired by name;
//   * a directory of pictures (JPEG / PNG / BMP, see vision/image_decoding.h), each pre-processed by the declared
//     spec (vision/preprocessing_spec.h); a model with one 4-D image input only.
// Every sample is checked against the model's inputs (dtype, rank, static dims) and an error names the file.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "npukit/session.h"
#include "npukit/tensor.h"
#include "vision/preprocessing_spec.h"

namespace npukit::quantization {

struct CalibrationSample {
  std::map<std::string, Tensor> inputs;  // by model input name
  std::string origin;                    // the file, and "#index" within a batch file: "batch.npy#3"
};

class CalibrationSource {
 public:
  virtual ~CalibrationSource() = default;
  virtual size_t size() const = 0;
  // Reads sample `index` < size(). Throws Error naming the file when it is unreadable or does not fit the model.
  virtual CalibrationSample sample(size_t index) = 0;
  // "200 pictures from DIR, letterbox=640,mean=0,std=255,rgb,nchw" — for the progress line and reports.
  virtual std::string describe() const = 0;
  // The pre-processing the samples went through (pictures only): the diagnostics compare the data with it.
  virtual std::optional<vision::PreprocessingSpec> preprocessing() const { return std::nullopt; }
};

// Opens PATH (see above). `preprocessing` is used for pictures; a size or layout it leaves out is taken from the
// model's input. Throws Error(invalid_argument) naming the path when it is none of the three kinds, holds no
// sample, or its first sample does not fit the model; Error(io) when it cannot be read.
std::unique_ptr<CalibrationSource> open_calibration_source(const std::string& path,
                                                           const std::vector<ValueInfo>& model_inputs,
                                                           const vision::PreprocessingSpec& preprocessing);

// Checks one tensor against a model input: dtype, rank and static dims. Throws Error(invalid_argument) naming
// `origin` and the input.
void check_sample_fits_input(const Tensor& tensor, const ValueInfo& input, const std::string& origin);

}  // namespace npukit::quantization
