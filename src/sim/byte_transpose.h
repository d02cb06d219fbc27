// A tiled transpose of a byte matrix, for the sim's IntegerConv: NCHW activations into the padded NHWC source
// oneDNN reads (each image row: C rows of W bytes → W pixels of C bytes), and the NHWC result back to NCHW.
// oneDNN's own s8 reorder between these layouts took longer than the convolutions themselves on YOLOv8n's
// wide, shallow layers; this moves 16 × 16 blocks through SSE2 registers (the edges byte by byte in tiles),
// every byte once (optionally XOR a constant: s8 → u8 is the byte XOR 0x80).
#pragma once

#include <cstdint>

#include "npukit/tensor.h"

namespace npukit::sim {

// destination[c · destination_stride + r] = source[r · source_stride + c] ^ flip, for r < rows, c < columns.
void transpose_bytes(const uint8_t* source, int64_t rows, int64_t columns, int64_t source_stride, uint8_t* destination,
                     int64_t destination_stride, uint8_t flip = 0);

// A 4-D tensor [N, C, H, W] whose elements are held channels-last (sim/channels_last_plan.h) as an NCHW
// tensor, and an NCHW tensor's elements rearranged channels-last (the shape stays [N, C, H, W]). Bytes through
// transpose_bytes; wider elements (f32 values kept by --keep) one by one.
Tensor channels_first_copy(const Tensor& channels_last);
Tensor channels_last_copy(const Tensor& channels_first);

}  // namespace npukit::sim
