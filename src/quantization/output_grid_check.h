// A detection-aware check: a graph output whose grid (scale group) joins values of very different ranges — box
// coordinates in pixels (0..640) concatenated with class scores (0..1), as a YOLO export's last Concat does — gives
// the small ones a few levels of the grid: at 640 / 255 per step every score rounds to 0 or 2.5. quantize_model
// notes each such group, naming its members and the ratio, and says what to do (cut the head with `npukit patch`,
// which leaves boxes and scores as separate outputs on separate grids).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "quantization/quantization_points.h"
#include "quantization/range_selection.h"

namespace npukit::quantization {

// Members' spans (maximum − minimum of their own chosen ranges) above this ratio within one group are noted.
inline constexpr double kMixedGridRatio = 16.0;

// One note per scale group that holds a value of `output_values` (values_kept_at_full_range) and members whose
// own ranges (`ranges`, by value) differ in span by more than kMixedGridRatio.
std::vector<std::string> mixed_output_grid_notes(const QuantizationPlan& plan, const std::set<std::string>& output_values,
                                                 const std::map<std::string, Range>& ranges);

}  // namespace npukit::quantization
