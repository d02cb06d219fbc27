#include "runtime/kernels/cpu/dnnl_runtime.h"

#include <malloc.h>
#include <omp.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace npukit::runtime::cpu {

dnnl::engine& engine() {
  static dnnl::engine cpu_engine(dnnl::engine::kind::cpu, 0);
  return cpu_engine;
}

void keep_freed_memory() {
  static const bool done = [] {
    // glibc serves blocks above 128 KiB with fresh mmap()s and returns them on free(), so every run of a
    // model would fault in (and the kernel zero) each activation buffer again; on these VMs that cost more
    // than the convolutions (PP-OCRv4 det: 1.88 s -> 1.23 s). Keep up to 32 MiB blocks (glibc's ceiling)
    // on the heap and never trim it, so a run reuses the pages the previous run touched. Process-wide, and
    // only for processes that create a cpu session. A lifetime-planned arena would make this unnecessary.
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)done;
}

void set_intra_op_threads(int n) { omp_set_num_threads(n > 0 ? n : omp_get_num_procs()); }

int intra_op_threads() { return omp_get_max_threads(); }

namespace {
struct ScratchBuffer {
  void* data = nullptr;
  size_t bytes = 0;
  ~ScratchBuffer() { std::free(data); }
};
}  // namespace

void* scratch(ScratchSlot slot, size_t bytes) {
  thread_local std::array<ScratchBuffer, static_cast<size_t>(ScratchSlot::count)> buffers;
  ScratchBuffer& buffer = buffers[static_cast<size_t>(slot)];
  if (bytes > buffer.bytes) {
    std::free(buffer.data);
    // 64-byte alignment: oneDNN's AVX2 kernels and our own vector loops prefer whole cache lines.
    const size_t rounded = (bytes + 63) / 64 * 64;
    buffer.data = std::aligned_alloc(64, rounded);
    if (!buffer.data) {
      buffer.bytes = 0;
      throw std::bad_alloc();
    }
    buffer.bytes = rounded;
  }
  return buffer.data;
}

dnnl::memory::dims to_dims(const Shape& shape) { return dnnl::memory::dims(shape.begin(), shape.end()); }

dnnl::memory::desc plain_desc(const Shape& shape) {
  using tag = dnnl::memory::format_tag;
  static const tag tags[] = {tag::a, tag::a, tag::ab, tag::abc, tag::abcd, tag::abcde, tag::abcdef};
  const size_t rank = shape.size();
  if (rank == 0) return dnnl::memory::desc({1}, dnnl::memory::data_type::f32, tag::a);
  return dnnl::memory::desc(to_dims(shape), dnnl::memory::data_type::f32, tags[rank]);
}

}  // namespace npukit::runtime::cpu
