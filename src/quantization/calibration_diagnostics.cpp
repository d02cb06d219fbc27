#include "quantization/calibration_diagnostics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "npukit/error.h"

namespace npukit::quantization {

namespace {

std::string format(double value) {
  std::ostringstream stream;
  stream.precision(4);
  stream << value;
  return stream.str();
}

// FNV-1a, 64 bits: enough to tell samples apart (a collision only costs a false "duplicate" warning).
uint64_t hash_bytes(const void* data, size_t size, uint64_t hash = 1469598103934665603ull) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

bool looks_like_picture_input(const ValueInfo& input) {
  return input.has_shape && input.shape.size() == 4 && (input.shape[1] == 3 || input.shape[3] == 3);
}

// The values a pre-processing spec can produce: pixel 0 and 255 through every channel's mean and scale.
Range spec_output_range(const vision::PreprocessingSpec& spec) {
  Range range{INFINITY, -INFINITY};
  for (int c = 0; c < 3; ++c) {
    for (double pixel : {0.0, 255.0}) {
      const double value = (pixel - spec.normalization.mean[c]) * spec.normalization.scale[c];
      range.minimum = std::min(range.minimum, value);
      range.maximum = std::max(range.maximum, value);
    }
  }
  return range;
}

}  // namespace

bool has_error(const std::vector<CalibrationDiagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const auto& d) { return d.is_error; });
}

std::optional<CalibrationDiagnostic> diagnose_sample_count(size_t count, size_t minimum_recommended) {
  if (count == 0) {
    return CalibrationDiagnostic{true, "samples",
                                 "no calibration sample: give a directory of pictures or .npy files, or a .npy batch"};
  }
  if (count < minimum_recommended) {
    return CalibrationDiagnostic{
        false, "samples",
        "only " + std::to_string(count) + " calibration sample" + (count == 1 ? "" : "s") +
            ": the ranges of activations that rarer inputs trigger are guesses; give at least " +
            std::to_string(minimum_recommended) + " (100-1000 representative samples is usual)"};
  }
  return std::nullopt;
}

std::optional<CalibrationDiagnostic> diagnose_non_finite(const std::string& value_name,
                                                         const ValueHistogram& histogram,
                                                         const std::string& first_origin) {
  if (histogram.non_finite_count() == 0) return std::nullopt;
  return CalibrationDiagnostic{
      true, value_name,
      std::to_string(histogram.nan_count()) + " NaN and " + std::to_string(histogram.infinity_count()) + " Inf of " +
          std::to_string(histogram.count()) + " values, the first in sample " +
          (first_origin.empty() ? std::string("unknown") : first_origin) +
          ": a range with NaN / Inf cannot be quantized; fix that sample (or the layer that overflows)"};
}

std::optional<CalibrationDiagnostic> diagnose_outliers(const std::string& value_name, const ValueHistogram& histogram,
                                                       double percentile, double ratio, int64_t quantized_levels) {
  const double maximum_absolute = histogram.maximum_absolute();
  if (histogram.finite_count() == 0 || maximum_absolute == 0) return std::nullopt;
  const double bulk = histogram.quantile(percentile / 100, true);
  if (bulk >= ratio * maximum_absolute) return std::nullopt;
  const double used = bulk / maximum_absolute;
  const auto levels_used = static_cast<int64_t>(std::floor(used * static_cast<double>(quantized_levels)));
  return CalibrationDiagnostic{
      false, value_name,
      format(percentile) + "% of |x| lie below " + format(bulk) + " but max |x| is " + format(maximum_absolute) +
          " (" + format(maximum_absolute / std::max(bulk, 1e-300)) + "x): a minmax range spends " +
          std::to_string(std::lround(100 * (1 - used))) + "% of the grid on a few outliers (those values get about " +
          std::to_string(levels_used) + " of " + std::to_string(quantized_levels) +
          " levels); a percentile, entropy or mse range clips them"};
}

InputStatistics::InputStatistics(std::vector<ValueInfo> inputs) : inputs_(std::move(inputs)) {
  for (const ValueInfo& input : inputs_) per_input_[input.name];
}

const ValueHistogram& InputStatistics::histogram(const std::string& input) const {
  const auto it = per_input_.find(input);
  if (it == per_input_.end()) throw Error(ErrorKind::invalid_argument, "no statistics for input '" + input + "'");
  return it->second.histogram;
}

void InputStatistics::add(const CalibrationSample& sample) {
  ++sample_count_;
  uint64_t sample_hash = 1469598103934665603ull;
  for (const auto& [name, tensor] : sample.inputs) {
    auto it = per_input_.find(name);
    if (it == per_input_.end()) continue;
    PerInput& statistics = it->second;
    sample_hash = hash_bytes(name.data(), name.size(), sample_hash);
    sample_hash = hash_bytes(tensor.raw_data(), tensor.byte_size(), sample_hash);
    statistics.distinct_contents.insert(hash_bytes(tensor.raw_data(), tensor.byte_size()));
    std::vector<float> converted;
    const float* values = nullptr;
    if (tensor.dtype() == DType::f32) {
      values = tensor.data<float>();
    } else {
      converted = tensor.to_float_vector();
      values = converted.data();
    }
    const size_t count = static_cast<size_t>(tensor.element_count());
    const uint64_t non_finite_before = statistics.histogram.non_finite_count();
    statistics.histogram.add(values, count);
    if (statistics.histogram.non_finite_count() > non_finite_before && statistics.first_non_finite_origin.empty()) {
      statistics.first_non_finite_origin = sample.origin;
    }
    for (size_t i = 0; i < count && !statistics.varies; ++i) {
      if (!statistics.first_value) statistics.first_value = values[i];
      // NaN compares unequal to itself: a NaN is reported as such, not as variation.
      else if (values[i] != *statistics.first_value && !std::isnan(values[i])) statistics.varies = true;
    }
  }
  const auto [position, inserted] = sample_hashes_.emplace(sample_hash, sample.origin);
  if (!inserted) duplicates_.emplace_back(sample.origin, position->second);
}

std::vector<CalibrationDiagnostic> InputStatistics::diagnostics(
    const std::optional<vision::PreprocessingSpec>& preprocessing) const {
  std::vector<CalibrationDiagnostic> found;
  if (auto count = diagnose_sample_count(sample_count_)) found.push_back(*count);
  if (sample_count_ == 0) return found;
  for (const ValueInfo& input : inputs_) {
    const PerInput& statistics = per_input_.at(input.name);
    const ValueHistogram& histogram = statistics.histogram;
    if (auto non_finite = diagnose_non_finite(input.name, histogram, statistics.first_non_finite_origin)) {
      found.push_back(*non_finite);
    }
    if (histogram.finite_count() > 0 && !statistics.varies) {
      found.push_back({true, input.name,
                       "is " + format(*statistics.first_value) + " everywhere in every sample: nothing to calibrate "
                       "(blank pictures, or a .npy of zeros?)"});
      continue;
    }
    if (sample_count_ > 1 && statistics.distinct_contents.size() == 1) {
      found.push_back({false, input.name,
                       "is the same in all " + std::to_string(sample_count_) +
                           " samples: fine for a constant (an image size), but its range is one sample's"});
    }
    if (auto outliers = diagnose_outliers(input.name, histogram)) found.push_back(*outliers);
    // Normalization: the range the declared (or default) pre-processing gives against the data's.
    std::optional<vision::PreprocessingSpec> expected = preprocessing;
    if (!expected && looks_like_picture_input(input) && input.dtype == DType::f32) {
      expected = vision::PreprocessingSpec{};  // the default: /255, values 0..1
    }
    if (expected && expected->output_dtype == DType::f32 && histogram.finite_count() > 0) {
      const Range range = spec_output_range(*expected);
      const double span = range.maximum - range.minimum;
      const std::string declared = vision::preprocessing_spec_text(*expected);
      if (histogram.minimum() < range.minimum - 0.5 * span) {
        found.push_back({false, input.name,
                         "values go down to " + format(histogram.minimum()) + " but the pre-processing (" + declared +
                             ") gives " + format(range.minimum) + ".." + format(range.maximum) +
                             ": data normalized with a mean / std? declare mean=...,std=..."});
      } else if (histogram.maximum() > range.maximum + 0.5 * span) {
        found.push_back({false, input.name,
                         "values reach " + format(histogram.maximum()) + " but the pre-processing (" + declared +
                             ") gives " + format(range.minimum) + ".." + format(range.maximum) +
                             (histogram.maximum() > 20 && range.maximum <= 2 ? ": raw 0..255 pixels? divide by 255" : "") +
                             ", or declare the model's real pre-processing"});
      } else if (range.maximum - range.minimum > 20 && histogram.maximum() - histogram.minimum() < 0.02 * span) {
        found.push_back({false, input.name,
                         "values span only " + format(histogram.minimum()) + ".." + format(histogram.maximum()) +
                             " but the pre-processing (" + declared + ") gives " + format(range.minimum) + ".." +
                             format(range.maximum) + ": data already divided by 255?"});
      }
    }
  }
  if (!duplicates_.empty()) {
    std::string examples;
    for (size_t i = 0; i < duplicates_.size() && i < 3; ++i) {
      examples += (i ? "; " : "") + duplicates_[i].first + " = " + duplicates_[i].second;
    }
    found.push_back({false, "samples",
                     std::to_string(duplicates_.size()) + " duplicate sample" + (duplicates_.size() == 1 ? "" : "s") +
                         " (" + examples + (duplicates_.size() > 3 ? "; ..." : "") +
                         "): they weigh twice in the ranges; remove them"});
  }
  return found;
}

}  // namespace npukit::quantization
