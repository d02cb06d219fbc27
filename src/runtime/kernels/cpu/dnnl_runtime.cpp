#include "runtime/kernels/cpu/dnnl_runtime.h"

#include <omp.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace npukit::runtime::cpu {

dnnl::engine& engine() {
  static dnnl::engine cpu_engine(dnnl::engine::kind::cpu, 0);
  return cpu_engine;
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
