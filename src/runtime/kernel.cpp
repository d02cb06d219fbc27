#include "runtime/kernel.h"

#include <cstring>

namespace npukit::runtime {

const Tensor& KernelContext::input(size_t i) const {
  if (!has_input(i)) fail(ErrorKind::invalid_model, "required input " + std::to_string(i) + " is missing");
  return *inputs_[i];
}

bool KernelContext::output_requested(size_t i) const {
  return i < node_.outputs.size() && node_.outputs[i] != nullptr;
}

Tensor& KernelContext::allocate_output(size_t i, DType dtype, Shape shape) {
  if (i >= outputs_.size()) fail(ErrorKind::internal, "kernel wrote output " + std::to_string(i) + " beyond the node's outputs");
  if (i < placement_count_ && placements_[i].data && dtype_size(dtype) > 0) {
    // The planned slot, when the output fits (a shape other than the planned one may be larger: then the heap).
    const int64_t count = shape_element_count(shape);
    if (count >= 0 && static_cast<size_t>(count) <= placements_[i].bytes / dtype_size(dtype)) {
      const size_t bytes = static_cast<size_t>(count) * dtype_size(dtype);
      if (placements_[i].zero_fill && bytes) std::memset(placements_[i].data, 0, bytes);
      outputs_[i] = Tensor::view(dtype, std::move(shape), placements_[i].data);
      return outputs_[i];
    }
  }
  try {
    outputs_[i] = Tensor(dtype, std::move(shape));
  } catch (const Error& error) {
    throw error.with_node(node_.describe());
  }
  return outputs_[i];
}

void KernelContext::set_output(size_t i, Tensor tensor) {
  if (i >= outputs_.size()) fail(ErrorKind::internal, "kernel wrote output " + std::to_string(i) + " beyond the node's outputs");
  outputs_[i] = std::move(tensor);
}

Tensor& KernelContext::produced_output(size_t i) {
  if (i >= outputs_.size() || outputs_[i].empty()) {
    fail(ErrorKind::internal, "output " + std::to_string(i) + " has not been produced");
  }
  return outputs_[i];
}

std::vector<Tensor> KernelContext::run_subgraph(const ir::Graph& graph, const std::vector<Tensor>& inputs) const {
  if (!subgraph_runner_) fail(ErrorKind::internal, "this executor cannot run subgraphs");
  return subgraph_runner_(graph, inputs);
}

void KernelContext::fail(ErrorKind kind, const std::string& reason) const {
  throw Error(kind, reason, {}, node_.describe());
}

int64_t normalize_axis(int64_t axis, int64_t rank, const KernelContext& context) {
  if (axis < -rank || axis >= rank) {
    context.invalid("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

}  // namespace npukit::runtime
