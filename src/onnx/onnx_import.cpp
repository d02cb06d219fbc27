// ONNX → IR: the one entry point. An untrusted file is parsed and validated (onnx_import_validation.h), then
// the validated protobuf is converted (onnx_import_conversion.h); every Error leaves with the file's name.
#include "onnx/onnx_import.h"

#include <filesystem>
#include <fstream>

#include "npukit/error.h"
#include "onnx/onnx_import_conversion.h"
#include "onnx/onnx_import_validation.h"

namespace npukit::onnx_io {


ir::Model load_model_from_bytes(std::string_view bytes, const std::string& display_name,
                                const std::string& base_directory, const ImportOptions& options) {
  try {
    onnx::ModelProto proto = parse_untrusted_model(bytes);
    validate_untrusted_model(proto, base_directory, options);
    ir::Model model = convert_validated_model(proto, base_directory);
    model.source_path = display_name;
    return model;
  } catch (const Error& error) {
    throw error.with_file(display_name);
  } catch (const std::bad_alloc&) {
    throw Error(ErrorKind::resource_limit, "out of memory while loading the model", display_name);
  } catch (const std::exception& error) {
    throw Error(ErrorKind::invalid_model, std::string("cannot load the model: ") + error.what(), display_name);
  }
}

ir::Model load_model(const std::string& path, const ImportOptions& options) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::is_directory(path, error)) throw Error(ErrorKind::io, "is a folder, not a model file", path);
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw Error(ErrorKind::io, "cannot open the file", path);
  stream.seekg(0, std::ios::end);
  const std::streamoff size = stream.tellg();
  if (size < 0) throw Error(ErrorKind::io, "cannot read the file", path);
  if (static_cast<uint64_t>(size) >= kMaxModelBytes) {
    throw Error(ErrorKind::resource_limit,
                "the file is 2 GiB or larger; protobuf cannot parse it (large models must keep weights in external data)",
                path);
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  stream.seekg(0);
  stream.read(bytes.data(), size);
  if (!stream) throw Error(ErrorKind::io, "cannot read the file", path);
  std::string folder = fs::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  return load_model_from_bytes(bytes, path, folder, options);
}

}  // namespace npukit::onnx_io
