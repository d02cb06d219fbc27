// Every error about a model names its file (DESIGN.md decision 6). Errors raised where only a node or a
// tensor is known (shape inference after passes, kernel preparation, the tensor memory limit) carry no file;
// the model the caller named is that file. The CLI and the facades (include/npukit/*.h) add it the same way,
// so a Python caller reads the message the CLI prints.
#pragma once

#include <string>

#include "npukit/error.h"

namespace npukit::api {

// Errors about an option or another file (invalid_argument without a node, io) already say what they concern
// and come back as they are, as do errors that name a file.
Error with_model_file(const Error& error, const std::string& model);

}  // namespace npukit::api
