// The estimate's sections of a report: latency per target with its error band, where the time goes (compute,
// memory, overhead, link, CPU), segments, the slowest layers, the fit behind the band, and the assumptions.
#pragma once

#include <string>
#include <vector>

#include "estimate/latency_model.h"
#include "report_html/report.h"

namespace npukit::report_html {

// The colours of the time categories (compute, memory, overhead, link, CPU), also used by the tests to find the
// charts in a screenshot.
extern const std::vector<std::string> time_category_colors;
extern const char* const estimate_bar_color;

std::vector<Section> estimate_sections(const std::vector<estimate::Estimate>& estimates, const estimate::FittedParameters& fitted,
                                       size_t slowest_layers = 15);

// A report holding only the estimate, written by extension (.html or .md).
void write_estimate_report(const std::string& path, const std::string& model, const std::vector<estimate::Estimate>& estimates,
                           const estimate::FittedParameters& fitted);

}  // namespace npukit::report_html
