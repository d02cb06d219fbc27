// NumPy .npy files (format versions 1.0–3.0, little-endian, C order) ⇄ Tensor.
#pragma once

#include <string>

#include "npukit/tensor.h"

namespace npukit {

// Throws Error(io) when the file cannot be read, Error(invalid_argument) naming the file and the problem
// when it is not a valid .npy of a supported dtype.
Tensor read_npy(const std::string& path);
// The shape of a .npy file from its header, with the same checks as read_npy, without reading the data.
Shape read_npy_shape(const std::string& path);
// The element type of a .npy file from its header, with the same checks as read_npy.
DType read_npy_dtype(const std::string& path);
// Rows [first, first + count) along axis 0 of a .npy file of rank >= 1, reading only those bytes (a batch too
// large for memory is read one sample at a time). Throws Error(invalid_argument) when the rows are out of range.
Tensor read_npy_rows(const std::string& path, int64_t first, int64_t count);
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace npukit
