// What can be wrong with a calibration set, said before (or instead of) a quantized model that silently lost
// its accuracy (quant_anchors.md §5.3, §6.7: no toolkit says it). Each finding is a warning or an error with the
// subject it concerns (an input, a value, "samples") and a message that says what to do.
//
//   too few samples       0: error; fewer than 20: warning (ranges of rare activations are guesses)
//   constant inputs       an input with one value in every sample: error (nothing to calibrate)
//   duplicate samples     the same bytes twice: warning naming both files
//   NaN / Inf             in an input or an activation: error naming the value and the first sample's file
//   outliers              the 99.99th percentile of |x| below 1/10 of max |x|: warning saying how much of the
//                         grid minmax would waste on a few values
//   normalization         pictures or .npy data whose range does not match the model's pre-processing
//                         (0..255 data where 0..1 is expected, or the reverse)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "npukit/session.h"
#include "quantization/calibration_data.h"
#include "quantization/range_selection.h"
#include "quantization/value_histogram.h"

namespace npukit::quantization {

struct CalibrationDiagnostic {
  bool is_error = false;
  std::string subject;  // the input or value name, or "samples"
  std::string message;
};

bool has_error(const std::vector<CalibrationDiagnostic>& diagnostics);

// 0 samples: error; fewer than `minimum_recommended` (20): warning.
std::optional<CalibrationDiagnostic> diagnose_sample_count(size_t count, size_t minimum_recommended = 20);

// NaN / Inf in a value: an error naming it and `first_origin` (the first sample that had one).
std::optional<CalibrationDiagnostic> diagnose_non_finite(const std::string& value_name,
                                                         const ValueHistogram& histogram,
                                                         const std::string& first_origin);

// A range dominated by few outliers: quantile(percentile) of |x| below max |x| · `ratio`.
std::optional<CalibrationDiagnostic> diagnose_outliers(const std::string& value_name, const ValueHistogram& histogram,
                                                       double percentile = 99.99, double ratio = 0.1,
                                                       int64_t quantized_levels = 256);

// Statistics of the model inputs over every sample, fed by the calibration run as it reads them.
class InputStatistics {
 public:
  explicit InputStatistics(std::vector<ValueInfo> inputs);

  void add(const CalibrationSample& sample);

  size_t sample_count() const { return sample_count_; }
  const ValueHistogram& histogram(const std::string& input) const;

  // Every finding on the inputs: sample count, constant inputs, duplicates, NaN / Inf, outliers and — when
  // `preprocessing` is given or the input looks like a picture — a normalization mismatch.
  std::vector<CalibrationDiagnostic> diagnostics(const std::optional<vision::PreprocessingSpec>& preprocessing) const;

 private:
  struct PerInput {
    ValueHistogram histogram{2048};
    std::optional<double> first_value;  // for the constant check
    bool varies = false;
    std::set<uint64_t> distinct_contents;  // hashes of this input's tensors: all alike = one sample's range
    std::string first_non_finite_origin;
  };
  std::vector<ValueInfo> inputs_;
  std::map<std::string, PerInput> per_input_;
  std::map<uint64_t, std::string> sample_hashes_;  // content hash -> first origin
  std::vector<std::pair<std::string, std::string>> duplicates_;  // (later, earlier)
  size_t sample_count_ = 0;
};

}  // namespace npukit::quantization
