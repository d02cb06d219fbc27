// A oneDNN primitive bound to one input shape, with the reorders that move tensors from the layout npukit
// holds them in ("held": plain NCHW, or blocked nChw8c/nChw16c between two oneDNN convolutions, see
// blocked_layout.h) into the layout the primitive chose with format_tag::any, and back.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "runtime/kernel.h"
#include "runtime/kernels/cpu/dnnl_runtime.h"

namespace npukit::runtime::cpu {

struct PrimitivePlan {
  dnnl::primitive primitive;
  dnnl::memory::desc held_source, source, held_destination, destination, held_residual;
  std::optional<dnnl::reorder> source_reorder, destination_reorder, residual_reorder;
  dnnl::memory weights;  // packed once, in the layout the primitive asked for (empty for pooling)
  dnnl::memory bias;     // empty when the node has none
  size_t scratchpad_bytes = 0;
  Shape output_shape;
  bool has_residual = false;  // the destination is pre-filled with the residual input (sum post-op)
};

// Packs constant weights once into plan.weights (the layout the primitive chose: `packed`), from `weights`
// laid out as `plain`, and copies `bias` (may be empty) into plan.bias as `bias_layout`.
void pack_weights_and_bias(PrimitivePlan& plan, const dnnl::memory::desc& plain, const dnnl::memory::desc& packed,
                           const Tensor& weights, const dnnl::memory::desc& bias_layout, const Tensor& bias);

// Finishes a plan once `primitive`, `source`, `destination` are set: adds the reorders that are needed.
// Plain layouts by default: input_shape / plan.output_shape as NCHW (row-major).
void add_reorders(PrimitivePlan& plan, const Shape& input_shape);
void add_reorders(PrimitivePlan& plan, const dnnl::memory::desc& held_source, const dnnl::memory::desc& held_destination,
                  const dnnl::memory::desc& held_residual);

// Runs a plan on an input held as plan.held_source; writes the output as plan.held_destination.
// `residual` (the output's shape, held as plan.held_residual) is summed into the result by the primitive's
// sum post-op when the plan has one.
void execute_plan(const PrimitivePlan& plan, const Tensor& input, const Tensor* residual, Tensor& output);

// Plans by input shape, built once per shape. Static shapes are planned at session creation; a dynamic
// shape is planned on its first run (under the lock) and reused afterwards.
class PlanCache {
 public:
  using Builder = std::function<std::shared_ptr<const PrimitivePlan>(const Shape&)>;
  explicit PlanCache(Builder builder) : builder_(std::move(builder)) {}
  std::shared_ptr<const PrimitivePlan> get(const Shape& input_shape) const;

 private:
  Builder builder_;
  mutable std::mutex mutex_;
  mutable std::map<Shape, std::shared_ptr<const PrimitivePlan>> plans_;
};

}  // namespace npukit::runtime::cpu
