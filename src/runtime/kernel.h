// The contract between the executor and one kernel invocation.
//
// A kernel reads its inputs and the node's attributes through KernelContext and produces its outputs with
// allocate_output() or set_output() (for outputs that share an input's storage, such as Reshape).
// allocate_output() returns the output's slot in the run's activation arena when the executor planned one
// (see memory_plan.h), else fresh heap storage; it is zero-filled unless the kernel's NodeExecutable says it
// writes every element (NodeExecutable::writes_whole_outputs). Reference kernels compute output shapes themselves from the actual input shapes, so they
// work whatever shape inference knew at load time.
//
// Errors: a kernel throws npukit::Error. ErrorKind::unsupported means "valid ONNX that this kernel does not
// implement" (an attribute value, a dtype); ErrorKind::invalid_argument / invalid_model mean the inputs or
// the node are wrong. The executor adds the node's description and the file to the message.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "npukit/error.h"
#include "npukit/tensor.h"

namespace npukit::runtime {

// Where the executor wants an output written: an arena slot of `bytes` capacity, or nowhere (data null).
struct OutputPlacement {
  void* data = nullptr;
  size_t bytes = 0;
  bool zero_fill = true;
};

class KernelContext {
 public:
  // Runs a subgraph (an If branch, a Loop or Scan body) with the given inputs, in the scope of the node
  // being executed (so the body can read outer-scope values). Returns the subgraph outputs in order.
  using SubgraphRunner = std::function<std::vector<Tensor>(const ir::Graph&, const std::vector<Tensor>&)>;

  KernelContext(const ir::Node& node, int64_t opset, std::vector<const Tensor*> inputs, std::vector<Tensor>& outputs,
                SubgraphRunner subgraph_runner)
      : node_(node),
        opset_(opset),
        inputs_(std::move(inputs)),
        outputs_(outputs),
        subgraph_runner_(std::move(subgraph_runner)) {}

  const ir::Node& node() const { return node_; }
  // Version of the node's domain in the model's opset imports (semantics changed across versions).
  int64_t opset() const { return opset_; }

  size_t input_count() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  // nullptr when the optional input is absent.
  const Tensor* optional_input(size_t i) const { return has_input(i) ? inputs_[i] : nullptr; }
  // Throws Error(invalid_model) when absent.
  const Tensor& input(size_t i) const;

  size_t output_count() const { return outputs_.size(); }
  // False when the model does not use optional output i (e.g. Dropout's mask); the kernel may skip it.
  bool output_requested(size_t i) const;
  Tensor& allocate_output(size_t i, DType dtype, Shape shape);
  // Set by the executor before run(): one entry per output (or fewer); null placements mean the heap.
  void place_outputs(const OutputPlacement* placements, size_t count) {
    placements_ = placements;
    placement_count_ = count;
  }
  void set_output(size_t i, Tensor tensor);
  // An output already produced by allocate_output() / set_output(), for kernels that post-process what a
  // kernel they delegate to wrote (the reference FusedConv runs Conv, then its activation).
  Tensor& produced_output(size_t i);

  std::vector<Tensor> run_subgraph(const ir::Graph& graph, const std::vector<Tensor>& inputs) const;

  // Shorthands for the node's attributes.
  int64_t attribute_int(const std::string& key, int64_t fallback) const { return node_.get_int(key, fallback); }
  double attribute_float(const std::string& key, double fallback) const { return node_.get_float(key, fallback); }
  std::string attribute_string(const std::string& key, const std::string& fallback) const {
    return node_.get_string(key, fallback);
  }
  std::vector<int64_t> attribute_ints(const std::string& key, const std::vector<int64_t>& fallback = {}) const {
    return node_.get_ints(key, fallback);
  }
  std::vector<double> attribute_floats(const std::string& key, const std::vector<double>& fallback = {}) const {
    return node_.get_floats(key, fallback);
  }

  // Convenience for errors: throws Error(kind) with the node description filled in.
  [[noreturn]] void fail(ErrorKind kind, const std::string& reason) const;
  [[noreturn]] void unsupported(const std::string& reason) const { fail(ErrorKind::unsupported, reason); }
  [[noreturn]] void invalid(const std::string& reason) const { fail(ErrorKind::invalid_argument, reason); }

 private:
  const ir::Node& node_;
  int64_t opset_;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor>& outputs_;
  SubgraphRunner subgraph_runner_;
  const OutputPlacement* placements_ = nullptr;
  size_t placement_count_ = 0;
};

using KernelFunction = void (*)(KernelContext&);

// Normalizes a possibly negative axis against a rank; throws Error(invalid_argument) when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const KernelContext& context);

}  // namespace npukit::runtime
