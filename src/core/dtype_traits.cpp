#include "core/dtype_traits.h"

namespace npukit {

void throw_unsupported_dtype(DType type, const std::string& operation) {
  throw Error(ErrorKind::unsupported,
              operation + " does not support element type " + std::string(dtype_name(type)));
}

}  // namespace npukit
