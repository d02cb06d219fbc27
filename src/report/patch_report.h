// How `npukit patch` speaks: a table of the passes and the before/after figures, and JSON. Both read the
// public PatchReport (include/npukit/patch.h) that npukit::patch_model returns, so the CLI and library callers see
// the same figures.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "npukit/patch.h"

namespace npukit::report {

void print_patch_report(std::ostream& out, const PatchReport& report);

nlohmann::json patch_report_json(const PatchReport& report);

}  // namespace npukit::report
