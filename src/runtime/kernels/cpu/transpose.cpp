// Transpose of any rank and dtype (any perm). The permuted input is first simplified (strided_copy.h):
// extent-1 axes dropped, axes that stay neighbours in the same order merged, so YOLOv5's [0,1,3,4,2] on
// 1x3x85x80x80 becomes a batch of 3 transposes of 85x6400, and ViT's [0,2,1,3] a copy of 64-float rows.
//  - the innermost axis stays innermost: rows are memcpy'd (strided_copy);
//  - otherwise the two axes that are innermost in the input and in the output form a 2-D transpose,
//    done in square tiles that fit in L1 (reads of one tile's columns hit the same few cache lines), for
//    every index of the remaining axes.
#include <algorithm>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/strided_copy.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace npukit::runtime::cpu {

namespace {

constexpr int64_t tile = 32;

// One tile: destination[i * destination_stride + j] = source[i + j * source_stride].
template <typename Word>
void transpose_tile(const Word* source, int64_t source_stride, Word* destination, int64_t destination_stride,
                    int64_t rows, int64_t columns) {
  for (int64_t i = 0; i < rows; ++i) {
    Word* target = destination + i * destination_stride;
    const Word* column = source + i;
    for (int64_t j = 0; j < columns; ++j) target[j] = column[j * source_stride];
  }
}

#if defined(__x86_64__) || defined(__i386__)
// 4-byte words, a whole tile: 4 x 4 blocks transposed in SSE registers (x86-64 baseline), four 16-byte
// loads and stores per 16 elements instead of sixteen scalar ones.
template <>
void transpose_tile<uint32_t>(const uint32_t* source, int64_t source_stride, uint32_t* destination,
                              int64_t destination_stride, int64_t rows, int64_t columns) {
  if (rows != tile || columns != tile) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < columns; ++j) destination[i * destination_stride + j] = source[i + j * source_stride];
    }
    return;
  }
  const float* from = reinterpret_cast<const float*>(source);
  float* to = reinterpret_cast<float*>(destination);
  for (int64_t j = 0; j < tile; j += 4) {
    for (int64_t i = 0; i < tile; i += 4) {
      const float* block = from + i + j * source_stride;
      __m128 row0 = _mm_loadu_ps(block), row1 = _mm_loadu_ps(block + source_stride);
      __m128 row2 = _mm_loadu_ps(block + 2 * source_stride), row3 = _mm_loadu_ps(block + 3 * source_stride);
      _MM_TRANSPOSE4_PS(row0, row1, row2, row3);
      float* target = to + i * destination_stride + j;
      _mm_storeu_ps(target, row0);
      _mm_storeu_ps(target + destination_stride, row1);
      _mm_storeu_ps(target + 2 * destination_stride, row2);
      _mm_storeu_ps(target + 3 * destination_stride, row3);
    }
  }
}
#endif

// view: the simplified permuted input (rank >= 2, last stride != 1); unit: the axis of stride 1.
template <typename Word>
void tiled_transpose(const void* source_data, void* destination_data, const StridedView& view, size_t unit) {
  const auto* source = static_cast<const Word*>(source_data);
  auto* destination = static_cast<Word*>(destination_data);
  const size_t rank = view.shape.size(), last = rank - 1;
  const std::vector<int64_t> destination_strides = contiguous_strides(view.shape);
  const int64_t rows = view.shape[unit], columns = view.shape[last];
  const int64_t source_stride = view.strides[last], destination_stride = destination_strides[unit];
  // The other axes, walked as one flat index.
  std::vector<size_t> others;
  int64_t outer = 1;
  for (size_t axis = 0; axis < last; ++axis) {
    if (axis == unit) continue;
    others.push_back(axis);
    outer *= view.shape[axis];
  }
  const int64_t row_tiles = (rows + tile - 1) / tile;
  const int64_t tasks = outer * row_tiles;
#pragma omp parallel for schedule(static) if (rows * columns * outer > 32768)
  for (int64_t task = 0; task < tasks; ++task) {
    int64_t rest = task / row_tiles;
    const int64_t first_row = (task % row_tiles) * tile;
    int64_t source_offset = view.offset, destination_offset = 0;
    for (size_t k = others.size(); k-- > 0;) {
      const size_t axis = others[k];
      const int64_t index = rest % view.shape[axis];
      rest /= view.shape[axis];
      source_offset += index * view.strides[axis];
      destination_offset += index * destination_strides[axis];
    }
    const int64_t tile_rows = std::min(tile, rows - first_row);
    for (int64_t first_column = 0; first_column < columns; first_column += tile) {
      transpose_tile(source + source_offset + first_row + first_column * source_stride, source_stride,
                     destination + destination_offset + first_row * destination_stride + first_column,
                     destination_stride, tile_rows, std::min(tile, columns - first_column));
    }
  }
}

class TransposeExecutable final : public CpuExecutable {
 public:
  void run(KernelContext& context) const override {
    const Tensor& data = context.input(0);
    const StridedView view = ref::transposed_view(context, data);
    Tensor& output = context.allocate_output(0, data.dtype(), view.shape);
    const size_t element_size = dtype_size(data.dtype());
    const StridedView simple = simplified(view);
    const size_t simple_rank = simple.shape.size();
    size_t unit = simple_rank;
    for (size_t axis = 0; axis < simple_rank; ++axis) {
      if (simple.strides[axis] == 1) unit = axis;
    }
    const bool tiled = simple_rank >= 2 && unit < simple_rank - 1 && output.element_count() > 0;
    if (tiled && element_size == 4) return tiled_transpose<uint32_t>(data.raw_data(), output.raw_data(), simple, unit);
    if (tiled && element_size == 8) return tiled_transpose<uint64_t>(data.raw_data(), output.raw_data(), simple, unit);
    if (tiled && element_size == 2) return tiled_transpose<uint16_t>(data.raw_data(), output.raw_data(), simple, unit);
    if (tiled && element_size == 1) return tiled_transpose<uint8_t>(data.raw_data(), output.raw_data(), simple, unit);
    strided_copy(data.raw_data(), output.raw_data(), element_size, simple);
  }
};

}  // namespace

std::optional<std::string> transpose_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!node.input(0)) return "Transpose needs data";
  if (opset > 21) return "cpu Transpose covers opsets up to 21, as ref";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_transpose(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<TransposeExecutable>();
}

}  // namespace npukit::runtime::cpu
