// Placeholder: this family's kernels are not written yet.
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

void register_indexing_kernels(KernelRegistry& /*registry*/) {}

}  // namespace npukit::runtime::ref
