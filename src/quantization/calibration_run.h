// The calibration run: the model runs once per calibration sample, and every activation that will be a
// quantization point feeds its ValueHistogram (observers on the engine's kept values).
//
// It runs on the cpu backend, which keeps every value the plan needs out of its fusions (a Conv excluded
// from its fusion group computes its output unfused; passes/pass_lists.h). Its ranges can differ from the
// ref backend's in the last float bits (oneDNN's convolutions sum in another order, its SiLU post-op
// rounds differently): far below a quantization step, and a histogram bin is wider still.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantization/calibration_data.h"
#include "quantization/calibration_diagnostics.h"
#include "quantization/value_histogram.h"

namespace npukit::quantization {

struct CalibrationRunOptions {
  int threads = 1;  // intra-op threads of the cpu backend
  // Called after each sample: (done, total).
  std::function<void(size_t, size_t)> progress;
  // The pre-processing the user declared (--preprocess): the normalization check of .npy data compares with it
  // (a picture source states its own).
  std::optional<vision::PreprocessingSpec> declared_preprocessing;
};

struct CalibrationRunResult {
  std::map<std::string, ValueHistogram> histograms;  // by value name: every value asked for
  std::string backend;                               // the engine's backend: "cpu"
  std::vector<std::string> notes;                    // for the quantize report
  std::vector<CalibrationDiagnostic> diagnostics;    // on inputs (InputStatistics) and activations
  size_t samples = 0;
};

// Runs `model` over every sample of `source`, collecting the histograms of `values` (graph inputs, computed
// values, graph outputs). Throws Error(invalid_argument) naming the sample's file for a sample that does not fit
// the model, and naming the value and the first sample for NaN / Inf in an activation.
CalibrationRunResult run_calibration(const ir::Model& model, const std::vector<std::string>& values,
                                     CalibrationSource& source, const CalibrationRunOptions& options = {});

}  // namespace npukit::quantization
