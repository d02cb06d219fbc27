#include "runtime/kernels/ref/broadcast.h"

#include <algorithm>

namespace npukit::runtime::ref {

namespace {

std::string shapes_to_string(const std::vector<Shape>& shapes) {
  std::string text;
  for (size_t i = 0; i < shapes.size(); ++i) text += (i ? " and " : "") + shape_to_string(shapes[i]);
  return text;
}

// Dimension `axis` (of the output rank) of `shape` right-aligned against that rank; 1 where it has none.
int64_t aligned_dim(const Shape& shape, size_t rank, size_t axis) {
  size_t missing = rank - shape.size();
  return axis < missing ? 1 : shape[axis - missing];
}

}  // namespace

Shape broadcast_shapes(const std::vector<Shape>& shapes, const std::string& operation) {
  size_t rank = 0;
  for (const Shape& shape : shapes) rank = std::max(rank, shape.size());
  Shape output(rank, 1);
  for (size_t axis = 0; axis < rank; ++axis) {
    int64_t size = 1;
    for (const Shape& shape : shapes) {
      int64_t dim = aligned_dim(shape, rank, axis);
      if (dim == 1) continue;
      if (size != 1 && dim != size) {
        throw Error(ErrorKind::invalid_argument,
                    operation + ": shapes " + shapes_to_string(shapes) + " cannot be broadcast together (dimension " +
                        std::to_string(axis) + " is " + std::to_string(size) + " and " + std::to_string(dim) + ")");
      }
      size = dim;
    }
    output[axis] = size;
  }
  return output;
}

bool broadcasts_to(const Shape& shape, const Shape& target) {
  if (shape.size() > target.size()) return false;
  for (size_t axis = 0; axis < target.size(); ++axis) {
    int64_t dim = aligned_dim(shape, target.size(), axis);
    if (dim != 1 && dim != target[axis]) return false;
  }
  return true;
}

BroadcastMapper::BroadcastMapper(const std::vector<Shape>& input_shapes, const Shape& output_shape)
    : input_count_(input_shapes.size()) {
  output_count_ = shape_element_count(output_shape);
  for (const Shape& shape : input_shapes) {
    if (!broadcasts_to(shape, output_shape)) {
      throw Error(ErrorKind::invalid_argument, "shape " + shape_to_string(shape) + " cannot be broadcast to " +
                                                   shape_to_string(output_shape));
    }
  }
  const size_t rank = output_shape.size();
  // Merge adjacent output dimensions in which every input is either full (same size) or broadcast (size 1)
  // in both; drop dimensions of size 1. `full` marks, per kept dimension and input, whether the input spans it.
  std::vector<int64_t> dims;
  std::vector<std::vector<bool>> full;
  for (size_t axis = 0; axis < rank; ++axis) {
    int64_t size = output_shape[axis];
    if (size == 1) continue;
    std::vector<bool> spans(input_count_);
    for (size_t k = 0; k < input_count_; ++k) spans[k] = aligned_dim(input_shapes[k], rank, axis) == size;
    if (!dims.empty() && full.back() == spans) {
      dims.back() *= size;
    } else {
      dims.push_back(size);
      full.push_back(std::move(spans));
    }
  }
  if (dims.empty() || output_count_ == 0) {
    // A scalar result, or an empty one: a single run covering everything.
    inner_size_ = std::max<int64_t>(output_count_, 1);
    inner_steps_.assign(input_count_, 0);
    strides_.assign(input_count_, {});
    if (output_count_ > 1) {
      for (size_t k = 0; k < input_count_; ++k) inner_steps_[k] = shape_element_count(input_shapes[k]) > 1 ? 1 : 0;
    }
    return;
  }
  inner_size_ = dims.back();
  inner_steps_.resize(input_count_);
  for (size_t k = 0; k < input_count_; ++k) inner_steps_[k] = full.back()[k] ? 1 : 0;
  outer_dims_.assign(dims.begin(), dims.end() - 1);
  strides_.assign(input_count_, std::vector<int64_t>(outer_dims_.size(), 0));
  for (size_t k = 0; k < input_count_; ++k) {
    int64_t stride = full.back()[k] ? inner_size_ : 1;
    for (size_t axis = outer_dims_.size(); axis-- > 0;) {
      if (full[axis][k]) {
        strides_[k][axis] = stride;
        stride *= outer_dims_[axis];
      }
    }
  }
}

int64_t BroadcastMapper::input_index(size_t input, int64_t output_index) const {
  int64_t inner = output_index % inner_size_;
  int64_t outer = output_index / inner_size_;
  int64_t index = inner * inner_steps_[input];
  for (size_t axis = outer_dims_.size(); axis-- > 0;) {
    index += (outer % outer_dims_[axis]) * strides_[input][axis];
    outer /= outer_dims_[axis];
  }
  return index;
}

}  // namespace npukit::runtime::ref
