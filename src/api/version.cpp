// npukit::version (include/npukit/version.h), from the build information tools/write_build_info.cmake writes.
#include "npukit/version.h"

#include "build_info.h"  // generated at build time

namespace npukit {

namespace {

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown compiler";
#endif
}

}  // namespace

std::string version() { return NPUKIT_BUILD_VERSION; }

std::string build_description() {
  return std::string("npukit ") + NPUKIT_BUILD_VERSION + "\ncommit     " + NPUKIT_BUILD_GIT_COMMIT +
         "\nbuilt with oneDNN " + NPUKIT_BUILD_ONEDNN_VERSION + ", ONNX " + NPUKIT_BUILD_ONNX_VERSION + ", protobuf " +
         NPUKIT_BUILD_PROTOBUF_VERSION + ", " + compiler();
}

}  // namespace npukit
