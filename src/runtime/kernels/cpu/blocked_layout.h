// Which tensors the cpu backend keeps in oneDNN's blocked layout (nChw16c with AVX-512, nChw8c with AVX2)
// instead of plain NCHW, so that consecutive convolutions pass their activations without a reorder out
// and a reorder back in.
//
// A value is held blocked when both sides can agree on it without talking: it is a convolution output of
// batch 1 with a static shape whose channels fill whole blocks (then the blocked tensor has exactly the
// plain tensor's size, so it fits the same Tensor), it is not a graph output nor read by a subgraph, and
// every reader is a convolution the cpu backend runs, reading it as its input or its residual. Producer
// and readers evaluate the same rule on the same graph, so no reader ever sees a layout it does not
// expect; any other reader (ref, Concat, pooling …) makes the value plain.
#pragma once

#include <dnnl.hpp>

#include "ir/graph.h"
#include "npukit/tensor.h"

namespace npukit::runtime::cpu {

// Channels per block of the blocked layout on this machine (16 with AVX-512, else 8).
int64_t channel_block();

bool is_held_blocked(const ir::Value* value);

// How a value of this shape is held: blocked or plain.
dnnl::memory::desc held_desc(const Shape& shape, bool blocked);

}  // namespace npukit::runtime::cpu
