// The sections `npukit compare --report` writes: what was compared and the verdict, a per-layer SQNR chart
// (the value where the error enters in red), the LSB histograms of quantized values, and the values that could
// not be compared with the reason.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compare/error_entry.h"
#include "compare/model_comparison.h"
#include "report_html/report.h"

namespace npukit::report_html {

// Colours of the SQNR bars, also used by the tests to find the chart in a screenshot.
extern const char* const compare_bar_color;        // a compared value
extern const char* const compare_entry_bar_color;  // the value where the error enters

// `rows`: the values to chart and tabulate (compare::values_to_show); `inputs`: one line per input fed to both
// sides ("images f32 [1, 3, 224, 224] from random (seed 0)").
std::vector<Section> compare_sections(const compare::ModelComparison& comparison, const std::optional<compare::ErrorEntry>& entry,
                                      const std::vector<size_t>& rows, const std::vector<std::string>& inputs);

// A report holding only the comparison, written by extension (.html or .md).
void write_compare_report(const std::string& path, const compare::ModelComparison& comparison,
                          const std::optional<compare::ErrorEntry>& entry, const std::vector<size_t>& rows,
                          const std::vector<std::string>& inputs);

}  // namespace npukit::report_html
