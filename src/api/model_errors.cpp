#include "api/model_errors.h"

namespace npukit::api {

Error with_model_file(const Error& error, const std::string& model) {
  if (!error.file().empty() || model.empty()) return error;
  const bool about_the_model =
      !error.node().empty() || (error.kind() != ErrorKind::invalid_argument && error.kind() != ErrorKind::io);
  return about_the_model ? error.with_file(model) : error;
}

}  // namespace npukit::api
