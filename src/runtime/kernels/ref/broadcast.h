// Numpy multidirectional broadcasting for reference kernels (Add, Where, Expand, Max, Sum …).
//
//   Shape output = broadcast_shapes({a.shape(), b.shape()}, "Add");
//   BroadcastMapper mapper({a.shape(), b.shape()}, output);
//   mapper.for_each_run([&](int64_t out, const int64_t* in, int64_t length) {
//     // output elements [out, out + length) read input k from in[k] advancing by mapper.step(k) (0 or 1)
//   });
//
// Why runs: after dimensions that broadcast the same way are merged, the innermost merged dimension is a
// run in which each input either advances by one element or repeats one element. A kernel writes its
// inner loop over a run with those two cases and the compiler vectorizes it; the per-run bookkeeping is
// paid once per run, not once per element.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "npukit/error.h"
#include "npukit/tensor.h"

namespace npukit::runtime::ref {

// Output shape of numpy broadcasting of all shapes (right-aligned; each dimension equal or 1).
// Throws Error(invalid_argument) naming the operation and the shapes when they are incompatible.
Shape broadcast_shapes(const std::vector<Shape>& shapes, const std::string& operation);

// True when `shape` broadcasts to `target` (unidirectional: target is not changed), as Expand's result
// and PRelu's slope need.
bool broadcasts_to(const Shape& shape, const Shape& target);

class BroadcastMapper {
 public:
  // Every input shape must broadcast to output_shape (see broadcast_shapes); throws Error(invalid_argument)
  // otherwise.
  BroadcastMapper(const std::vector<Shape>& input_shapes, const Shape& output_shape);

  size_t input_count() const { return input_count_; }
  int64_t output_element_count() const { return output_count_; }
  // How far input k's flat index advances per output element inside a run: 1 (contiguous) or 0 (repeated).
  int64_t step(size_t input) const { return inner_steps_[input]; }
  // Length of every run (the innermost merged dimension).
  int64_t run_length() const { return inner_size_; }

  // Flat index into input k of the element that output flat index `output_index` reads. O(rank).
  int64_t input_index(size_t input, int64_t output_index) const;

  // Calls function(output_offset, input_offsets, length) for each run in output order; input_offsets
  // points at input_count() flat indices (the first element of the run in each input).
  template <typename Function>
  void for_each_run(Function&& function) const;

 private:
  size_t input_count_ = 0;
  int64_t output_count_ = 0;
  int64_t inner_size_ = 1;
  std::vector<int64_t> outer_dims_;             // merged dimensions except the innermost, outermost first
  std::vector<std::vector<int64_t>> strides_;  // per input: element stride per outer dim (0 when broadcast)
  std::vector<int64_t> inner_steps_;           // per input: 0 or 1
};

template <typename Function>
void BroadcastMapper::for_each_run(Function&& function) const {
  if (output_count_ == 0) return;
  const size_t rank = outer_dims_.size();
  std::vector<int64_t> counters(rank, 0);
  std::vector<int64_t> offsets(input_count_, 0);
  const int64_t runs = output_count_ / inner_size_;
  for (int64_t run = 0; run < runs; ++run) {
    function(run * inner_size_, static_cast<const int64_t*>(offsets.data()), inner_size_);
    // Odometer over the outer dimensions, updating each input's offset incrementally.
    for (size_t axis = rank; axis-- > 0;) {
      if (++counters[axis] < outer_dims_[axis]) {
        for (size_t k = 0; k < input_count_; ++k) offsets[k] += strides_[k][axis];
        break;
      }
      for (size_t k = 0; k < input_count_; ++k) offsets[k] -= strides_[k][axis] * (outer_dims_[axis] - 1);
      counters[axis] = 0;
    }
  }
}

// Applies out[i] = operation(a[i], b[i]) with broadcasting over raw typed pointers; the common two-input
// case of every binary elementwise kernel. Output has mapper.output_element_count() elements.
template <typename In0, typename In1, typename Out, typename Operation>
void broadcast_binary(const BroadcastMapper& mapper, const In0* a, const In1* b, Out* out, Operation operation) {
  const int64_t step_a = mapper.step(0);
  const int64_t step_b = mapper.step(1);
  mapper.for_each_run([&](int64_t output_offset, const int64_t* input_offsets, int64_t length) {
    const In0* run_a = a + input_offsets[0];
    const In1* run_b = b + input_offsets[1];
    Out* run_out = out + output_offset;
    if (step_a && step_b) {
      for (int64_t i = 0; i < length; ++i) run_out[i] = operation(run_a[i], run_b[i]);
    } else if (step_a) {
      const In1 scalar_b = run_b[0];
      for (int64_t i = 0; i < length; ++i) run_out[i] = operation(run_a[i], scalar_b);
    } else if (step_b) {
      const In0 scalar_a = run_a[0];
      for (int64_t i = 0; i < length; ++i) run_out[i] = operation(scalar_a, run_b[i]);
    } else {
      const Out value = operation(run_a[0], run_b[0]);
      for (int64_t i = 0; i < length; ++i) run_out[i] = value;
    }
  });
}

}  // namespace npukit::runtime::ref
