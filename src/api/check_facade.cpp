// npukit::check_model (include/npukit/check.h): the preparation, the targets and the report `npukit check` uses.
#include "api/model_errors.h"
#include "api/target_selection.h"
#include "check/target_check.h"
#include "npukit/check.h"
#include "report/check_report.h"
#include "report/preparation_report.h"

namespace npukit {

CheckReport check_model(const std::string& model, const CheckOptions& options) {
  try {
    const std::vector<targets::TargetProfile> profiles = api::select_targets(options.target, options.target_file, true);
    const preparation::PreparedModel prepared =
        preparation::load_prepared_model(model, report::preparation_options(options));
    std::vector<check::CheckResult> results;
    for (const targets::TargetProfile& profile : profiles) results.push_back(check::check_model(prepared.model, profile));
    return report::check_report(model, prepared, results);
  } catch (const Error& error) {
    throw api::with_model_file(error, model);
  }
}

}  // namespace npukit
