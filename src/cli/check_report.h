// How `npukit check` speaks: a terminal report (color only on a terminal), JSON, and Markdown.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "check/target_check.h"

namespace npukit::cli {

// "NPU", "NPU+cond", "CPU", "CPU (after)", "rejected", "unverified", "folded", using the target's device names.
std::string placement_label(const check::CheckResult& result, check::Placement placement);

struct CheckReportOptions {
  bool every_node = false;  // list every node, not only the ones that leave the accelerator or carry a condition
  bool color = false;
};

void print_check_report(std::ostream& out, const check::CheckResult& result, const std::string& model,
                        const CheckReportOptions& options);

// One line per target: share of MACs on the accelerator, nodes per placement, segments, transfers.
void print_check_summary(std::ostream& out, const std::vector<check::CheckResult>& results, const std::string& model,
                         bool color);

nlohmann::json check_result_json(const check::CheckResult& result);

std::string check_markdown(const std::vector<check::CheckResult>& results, const std::string& model);

}  // namespace npukit::cli
