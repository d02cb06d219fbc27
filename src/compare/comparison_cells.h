// The columns of a compared value as people read them, shared by the terminal table (`npukit compare`) and
// the report (report_html/compare_sections), so both say the same thing the same way.
#pragma once

#include <string>
#include <vector>

#include "compare/model_comparison.h"

namespace npukit::compare {

// "#", "value", "op" (of the layer that computes it), "SQNR dB", "inputs dB", "drop dB", "cosine", "max abs",
// "mean abs", "LSB |a-b| (share)", "note".
std::vector<std::string> value_column_titles();
std::vector<bool> value_columns_right_aligned();
// One row; `position` is the value's place in execution order.
std::vector<std::string> value_cells(const ValueComparison& value, size_t position);

// "'d'", or "'x' (B: 'x_dequantized')" for a pair whose names differ.
std::string value_label(const ValueComparison& value);

// Not-comparable values grouped by reason: (reason, how many, the first few names).
struct ReasonGroup {
  std::string side;
  std::string reason;
  size_t count = 0;
  std::vector<std::string> examples;
};
std::vector<ReasonGroup> group_not_comparable(const ModelComparison& comparison, size_t examples = 3);

}  // namespace npukit::compare
