// npukit::inspect_model (include/npukit/inspect.h): the preparation and the report `npukit inspect` uses.
#include "api/model_errors.h"
#include "npukit/inspect.h"
#include "report/inspect_report.h"
#include "report/preparation_report.h"

namespace npukit {

InspectReport inspect_model(const std::string& model, const ModelOptions& options) {
  try {
    const preparation::PreparedModel prepared =
        preparation::load_prepared_model(model, report::preparation_options(options));
    return report::inspect_report(report::inspect_statistics(prepared, model), prepared);
  } catch (const Error& error) {
    throw api::with_model_file(error, model);
  }
}

}  // namespace npukit
