// Placeholder: this family's kernels are not written yet.
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

void register_reduction_kernels(KernelRegistry& /*registry*/) {}

}  // namespace npukit::runtime::ref
