// An estimate as JSON for programs (npukit estimate --json, check --estimate --json): every figure in
// milliseconds, the band, the breakdown per segment, transfer and layer, the facts with their origin.
#pragma once

#include <nlohmann/json.hpp>

#include "estimate/latency_model.h"

namespace npukit::estimate {

nlohmann::json estimate_json(const Estimate& estimate, bool every_layer = true);
// The fit's quality (fit and leave-one-out errors, per point) for the report.
nlohmann::json fit_quality_json(const FittedParameters& fitted);

}  // namespace npukit::estimate
