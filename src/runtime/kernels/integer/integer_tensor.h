// Integer tensors as the integer kernels read and write them: every grid (int8, uint8, int16, uint16, int32)
// widened to int32 for arithmetic, and written back to its own element type.
#pragma once

#include <cstdint>
#include <vector>

#include "npukit/tensor.h"

namespace npukit::runtime::integer {

// True for the element types an integer grid is stored in (i8, u8, i16, u16, i32).
bool is_integer_grid(DType dtype);
// The smallest and largest value of an element type's full grid ([-128, 127] for i8).
int32_t grid_minimum(DType dtype);
int32_t grid_maximum(DType dtype);

// Every element as int32. Throws Error(invalid_argument) naming `what` for a type that is not an integer grid.
std::vector<int32_t> widen(const Tensor& tensor, const char* what);

// A tensor of `dtype` holding `values`, which the caller has clamped to the type's grid.
Tensor narrow(DType dtype, Shape shape, const std::vector<int32_t>& values);

}  // namespace npukit::runtime::integer
