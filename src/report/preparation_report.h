// What preparation assumed (preparation/model_preparation.h), as the public PreparationSummary and as the
// "preparation" object of every model-taking command's --json.
#pragma once

#include <nlohmann/json.hpp>

#include "npukit/preparation.h"
#include "preparation/model_preparation.h"

namespace npukit::report {

PreparationSummary summarize_preparation(const preparation::PreparedModel& prepared);

nlohmann::json preparation_json(const PreparationSummary& summary);

// The public options as preparation takes them.
preparation::PreparationOptions preparation_options(const ModelOptions& options);

}  // namespace npukit::report
