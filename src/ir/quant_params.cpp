#include "ir/quant_params.h"

#include <algorithm>
#include <cmath>

#include "npukit/error.h"

namespace npukit::ir {

namespace {
int64_t shape_elements(const std::vector<int64_t>& dims) {
  int64_t count = 1;
  for (int64_t dim : dims) count *= dim;
  return count;
}
}  // namespace

std::string_view rounding_mode_name(RoundingMode mode) {
  switch (mode) {
    case RoundingMode::half_to_even: return "half_to_even";
    case RoundingMode::half_away_from_zero: return "half_away_from_zero";
    case RoundingMode::half_up: return "half_up";
  }
  return "?";
}

std::optional<RoundingMode> rounding_mode_from_name(std::string_view name) {
  for (RoundingMode mode : {RoundingMode::half_to_even, RoundingMode::half_away_from_zero, RoundingMode::half_up}) {
    if (rounding_mode_name(mode) == name) return mode;
  }
  return std::nullopt;
}

std::string_view clamp_order_name(ClampOrder order) {
  return order == ClampOrder::round_then_clamp ? "round_then_clamp" : "clamp_then_round";
}

std::string_view granularity_name(QuantGranularity granularity) {
  switch (granularity) {
    case QuantGranularity::per_tensor: return "per_tensor";
    case QuantGranularity::per_channel: return "per_channel";
    case QuantGranularity::per_group: return "per_group";
  }
  return "?";
}

QuantGranularity QuantParams::granularity() const {
  if (group_size > 0) return QuantGranularity::per_group;
  if (axis >= 0) return QuantGranularity::per_channel;
  return QuantGranularity::per_tensor;
}

int QuantParams::bits() const {
  switch (storage) {
    case DType::i4: case DType::u4: return 4;
    case DType::i8: case DType::u8: return 8;
    case DType::i16: case DType::u16: return 16;
    case DType::i32: case DType::u32: return 32;
    default: return 0;
  }
}

int64_t QuantParams::storage_min() const {
  if (!dtype_is_signed(storage)) return 0;
  const int64_t lowest = -(int64_t{1} << (bits() - 1));
  return narrow_range ? lowest + 1 : lowest;
}

int64_t QuantParams::storage_max() const {
  return dtype_is_signed(storage) ? (int64_t{1} << (bits() - 1)) - 1 : (int64_t{1} << bits()) - 1;
}

bool QuantParams::symmetric() const {
  for (int64_t zero : zero_points) {
    if (zero != 0) return false;
  }
  return true;
}

void QuantParams::validate(const std::optional<std::vector<int64_t>>& dims, const std::string& what) const {
  auto fail = [&](const std::string& reason) {
    throw Error(ErrorKind::invalid_argument, "quantization parameters of " + what + ": " + reason);
  };
  const bool grid_type = storage == DType::i4 || storage == DType::u4 || storage == DType::i8 || storage == DType::u8 ||
                         storage == DType::i16 || storage == DType::u16 || storage == DType::i32;
  if (!grid_type) {
    fail("storage type " + std::string(dtype_name(storage)) + " is not an integer grid (i4, u4, i8, u8, i16, u16, i32)");
  }
  if (narrow_range && !dtype_is_signed(storage)) fail("a narrow range needs a signed storage type");
  if (scales.empty()) fail("no scale");
  for (size_t i = 0; i < scales.size(); ++i) {
    if (!std::isfinite(scales[i]) || scales[i] <= 0) {
      fail("scale " + std::to_string(i) + " is " + std::to_string(scales[i]) + "; a scale must be finite and > 0");
    }
  }
  if (!zero_points.empty() && zero_points.size() != scales.size()) {
    fail(std::to_string(zero_points.size()) + " zero points for " + std::to_string(scales.size()) + " scales");
  }
  for (size_t i = 0; i < zero_points.size(); ++i) {
    if (zero_points[i] < storage_min() || zero_points[i] > storage_max()) {
      fail("zero point " + std::to_string(zero_points[i]) + " lies outside the " + std::string(dtype_name(storage)) +
           " grid [" + std::to_string(storage_min()) + ", " + std::to_string(storage_max()) + "]");
    }
  }
  if (group_size < 0) fail("negative group size");
  if (group_size > 0 && axis < 0) fail("a group size needs an axis");
  if (axis < 0) {
    if (scales.size() != 1) fail(std::to_string(scales.size()) + " scales without an axis (per tensor takes one)");
    return;
  }
  if (!dims) return;
  const int64_t rank = static_cast<int64_t>(dims->size());
  if (axis >= rank) fail("axis " + std::to_string(axis) + " is outside rank " + std::to_string(rank));
  const int64_t extent = (*dims)[static_cast<size_t>(axis)];
  if (extent < 0) return;  // a dynamic dim: nothing to compare against
  if (group_size > 0 && std::any_of(dims->begin(), dims->end(), [](int64_t dim) { return dim < 0; })) return;
  const int64_t groups = groups_per_channel(*dims);
  const int64_t expected = extent * groups;
  if (static_cast<int64_t>(scales.size()) != expected) {
    if (group_size == 0) {
      fail(std::to_string(scales.size()) + " scales, but axis " + std::to_string(axis) + " has " + std::to_string(extent) +
           " elements");
    }
    fail(std::to_string(scales.size()) + " scales, but axis " + std::to_string(axis) + " has " + std::to_string(extent) +
         " channels of " + std::to_string(extent > 0 ? shape_elements(*dims) / extent : 0) + " elements in groups of " +
         std::to_string(group_size) + " (" + std::to_string(groups) + " per channel, " + std::to_string(expected) +
         " scales)");
  }
}

int64_t QuantParams::groups_per_channel(const std::vector<int64_t>& dims) const {
  if (group_size <= 0 || axis < 0 || axis >= static_cast<int64_t>(dims.size())) return 1;
  const int64_t extent = dims[static_cast<size_t>(axis)];
  if (extent <= 0) return 1;
  const int64_t per_channel = shape_elements(dims) / extent;
  return std::max<int64_t>(1, (per_channel + group_size - 1) / group_size);
}

std::string describe(const QuantParams& params) {
  std::string text = std::string(dtype_name(params.storage));
  if (params.narrow_range) text += " narrow";
  text += " " + std::string(granularity_name(params.granularity()));
  if (params.axis >= 0) {
    text += "(axis " + std::to_string(params.axis);
    if (params.group_size > 0) text += ", groups of " + std::to_string(params.group_size);
    text += ", " + std::to_string(params.scales.size()) + " scales)";
  }
  text += params.symmetric() ? " symmetric" : " asymmetric";
  return text;
}

}  // namespace npukit::ir
