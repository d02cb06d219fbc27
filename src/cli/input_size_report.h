// How `npukit check --input-sizes` speaks: per target a table of sizes (passes every size-dependent rule, MACs,
// share on the accelerator, transfers, int8 memory against the on-chip memory), and JSON.
#pragma once

#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "check/input_size_fit.h"

namespace npukit::cli {

void print_input_size_fit(std::ostream& out, const std::vector<check::InputSizeFit>& fits, const std::string& model,
                          const std::string& input_name);
nlohmann::json input_size_fit_json(const check::InputSizeFit& fit);

}  // namespace npukit::cli
