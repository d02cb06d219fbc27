#include "runtime/kernels/cpu/strided_copy.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

namespace npukit::runtime::cpu {

namespace {

// Copies rows [first_row, last_row) of a simplified view (rank >= 1): decompose the first row's index
// once, then step an odometer, so short rows do not pay a division per axis each.
template <typename Word>
void copy_rows(const Word* source, Word* destination, const StridedView& view, int64_t first_row, int64_t last_row) {
  const size_t rank = view.shape.size();
  const int64_t inner = view.shape.back();
  const int64_t inner_stride = view.strides.back();
  std::vector<int64_t> index(rank, 0);
  int64_t offset = view.offset, rest = first_row;
  for (size_t axis = rank - 1; axis-- > 0;) {
    index[axis] = rest % view.shape[axis];
    rest /= view.shape[axis];
    offset += index[axis] * view.strides[axis];
  }
  destination += first_row * inner;
  for (int64_t row = first_row; row < last_row; ++row) {
    const Word* row_source = source + offset;
    if (inner_stride == 1) {
      std::memcpy(destination, row_source, static_cast<size_t>(inner) * sizeof(Word));
    } else {
      for (int64_t j = 0; j < inner; ++j) destination[j] = row_source[j * inner_stride];
    }
    destination += inner;
    for (size_t axis = rank - 1; axis-- > 0;) {
      offset += view.strides[axis];
      if (++index[axis] < view.shape[axis]) break;
      offset -= view.strides[axis] * view.shape[axis];
      index[axis] = 0;
    }
  }
}

template <typename Word>
void copy_view(const void* source, void* destination, const StridedView& view) {
  const auto* from = static_cast<const Word*>(source);
  auto* to = static_cast<Word*>(destination);
  if (view.shape.empty()) {
    to[0] = from[view.offset];
    return;
  }
  int64_t total = 1;
  for (int64_t extent : view.shape) total *= extent;
  if (total == 0) return;
  const int64_t inner = view.shape.back();
  const int64_t rows = total / inner;
  // Blocks of about 16 Ki elements, so a thread's share is worth the odometer setup.
  const int64_t rows_per_block = std::max<int64_t>(1, 16384 / inner);
  const int64_t blocks = (rows + rows_per_block - 1) / rows_per_block;
#pragma omp parallel for schedule(static) if (total * static_cast<int64_t>(sizeof(Word)) > 131072)
  for (int64_t block = 0; block < blocks; ++block) {
    copy_rows(from, to, view, block * rows_per_block, std::min(rows, (block + 1) * rows_per_block));
  }
}

}  // namespace


StridedView simplified(const StridedView& view) {
  StridedView result;
  result.offset = view.offset;
  for (size_t axis = 0; axis < view.shape.size(); ++axis) {
    if (view.shape[axis] == 0) {  // an empty view: one empty axis says it all
      return StridedView{{0}, {1}, view.offset};
    }
    if (view.shape[axis] == 1) continue;
    result.shape.push_back(view.shape[axis]);
    result.strides.push_back(view.strides[axis]);
  }
  // Merge from the inside out: axis a folds into the merged axis after it when stride[a] == its stride *
  // its extent.
  StridedView merged;
  merged.offset = result.offset;
  for (size_t axis = result.shape.size(); axis-- > 0;) {
    if (!merged.shape.empty() && result.strides[axis] == merged.strides.front() * merged.shape.front()) {
      merged.shape.front() *= result.shape[axis];
    } else {
      merged.shape.insert(merged.shape.begin(), result.shape[axis]);
      merged.strides.insert(merged.strides.begin(), result.strides[axis]);
    }
  }
  return merged;
}

void strided_copy(const void* source, void* destination, size_t element_size, const StridedView& view) {
  const StridedView simple = simplified(view);
  switch (element_size) {
    case 1: copy_view<uint8_t>(source, destination, simple); break;
    case 2: copy_view<uint16_t>(source, destination, simple); break;
    case 4: copy_view<uint32_t>(source, destination, simple); break;
    case 8: copy_view<uint64_t>(source, destination, simple); break;
    default: {
      // Any other size (none today) as bytes: the element becomes an innermost axis of stride 1.
      StridedView bytes = simple;
      for (int64_t& stride : bytes.strides) stride *= static_cast<int64_t>(element_size);
      bytes.offset *= static_cast<int64_t>(element_size);
      bytes.shape.push_back(static_cast<int64_t>(element_size));
      bytes.strides.push_back(1);
      copy_view<uint8_t>(source, destination, simplified(bytes));
    }
  }
}

}  // namespace npukit::runtime::cpu
