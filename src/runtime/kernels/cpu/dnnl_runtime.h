// What every oneDNN-backed cpu kernel shares: the engine, per-thread scratch memory, and the glue that
// runs a primitive on npukit tensors in plain (NCHW, row-major) layout while the primitive itself works in
// the blocked layout oneDNN chose (reordering in and out around it).
//
// Threads: Debian's oneDNN 2.6 is built with OpenMP (libdnnl.so links libgomp). OpenMP's thread-count
// setting is per calling thread, so Session::run sets it on the thread that runs the session
// (set_intra_op_threads) and two sessions on two threads with different counts do not disturb each other.
#pragma once

#include <dnnl.hpp>

#include <cstddef>
#include <mutex>
#include <vector>

#include "npukit/tensor.h"

namespace npukit::runtime::cpu {

dnnl::engine& engine();

// Makes glibc keep freed activation-sized blocks for reuse instead of unmapping them (see the .cpp).
void keep_freed_memory();

// Sets the intra-op thread count for kernels run from the calling thread (OpenMP: oneDNN and our own
// kernels). n <= 0 means all cores.
void set_intra_op_threads(int n);
int intra_op_threads();

// Per-thread scratch memory, one slot per purpose; grows to the largest request and is then reused, so
// after the first run of a session nothing is allocated here. Slots: see ScratchSlot.
enum class ScratchSlot { source = 0, destination = 1, primitive = 2, staging = 3, count = 4 };
void* scratch(ScratchSlot slot, size_t bytes);

// Plain memory descriptor (NCHW / row-major) for a float tensor of this shape.
dnnl::memory::desc plain_desc(const Shape& shape);
dnnl::memory::dims to_dims(const Shape& shape);

}  // namespace npukit::runtime::cpu
