// The versions of npukit and of the libraries it was built with, by name, for what declares them beside its
// figures (bench's conditions). The build information is generated into the library's build only.
#pragma once

#include <map>
#include <string>

namespace npukit::api {

// {"npukit": "0.1.0 (COMMIT)", "oneDNN": ..., "ONNX": ..., "protobuf": ...}
std::map<std::string, std::string> build_versions();

}  // namespace npukit::api
