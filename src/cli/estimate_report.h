// The terminal form of latency estimates: a summary per target, and for one target its segments, slowest layers,
// transfers, assumptions and notes. Shared by `npukit estimate` and `npukit check --estimate`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "check/target_check.h"
#include "estimate/latency_model.h"
#include "ir/graph.h"

namespace npukit::cli {

void print_estimate_summary(std::ostream& out, const std::vector<estimate::Estimate>& estimates);
void print_estimate_details(std::ostream& out, const estimate::Estimate& estimate, size_t slowest_layers);
// The fit quality line every estimate output ends with ("leave-one-out median error 18%, worst 1.9x on 22 points").
std::string fit_quality_line(const estimate::FittedParameters& fitted);

// The estimates for check results already computed (check --estimate): fallback nodes are timed on this host once
// when some target has them, with a progress bar.
std::vector<estimate::Estimate> estimates_for_checks(const ir::Model& model, const std::vector<check::CheckResult>& checks,
                                                     const std::vector<targets::TargetProfile>& profiles);

}  // namespace npukit::cli
