// The fast cpu backend (oneDNN + own vectorized kernels); see cpu_backend.cpp.
#pragma once

#include "runtime/backend.h"

namespace npukit::runtime {

const Backend& cpu_backend();

namespace cpu {
// Intra-op threads for kernels run from the calling thread (dnnl_runtime.h).
void set_intra_op_threads(int n);
}  // namespace cpu

}  // namespace npukit::runtime
