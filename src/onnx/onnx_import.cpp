// Placeholder until the importer lands.
#include "onnx/onnx_import.h"

namespace npukit::onnx_io {

ir::Model load_model(const std::string& path, const ImportOptions&) {
  throw Error(ErrorKind::internal, "ONNX import is not written yet", path);
}

ir::Model load_model_from_bytes(std::string_view, const std::string& display_name, const std::string&,
                                const ImportOptions&) {
  throw Error(ErrorKind::internal, "ONNX import is not written yet", display_name);
}

}  // namespace npukit::onnx_io
