// The text of src/estimate/*.json (estimator_inputs.json, fitted_parameters.json), embedded at build time by
// tools/embed_text_files.cmake, so the installed binary estimates without data files.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace npukit::estimate {

// (file name, JSON text) for every embedded file.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_estimator_data();

}  // namespace npukit::estimate
