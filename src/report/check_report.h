// How `npukit check` speaks: a terminal report (color only on a terminal), JSON, and Markdown.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "check/target_check.h"
#include "npukit/check.h"
#include "preparation/model_preparation.h"

namespace npukit::report {

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

// The public form of one target's result, and of the whole command (the CLI's --json and npukit::check_model).
TargetCheck target_check(const check::CheckResult& result);
CheckReport check_report(const std::string& model, const preparation::PreparedModel& prepared,
                         const std::vector<check::CheckResult>& results);

nlohmann::json target_check_json(const TargetCheck& result);
nlohmann::json check_report_json(const CheckReport& report);

std::string check_markdown(const std::vector<check::CheckResult>& results, const std::string& model);

}  // namespace npukit::report
