#include "runtime/kernels/cpu/primitive_plan.h"

#include <cstring>
#include <unordered_map>

namespace npukit::runtime::cpu {

void add_reorders(PrimitivePlan& plan, const Shape& input_shape) {
  const dnnl::memory::desc plain_destination = plain_desc(plan.output_shape);
  add_reorders(plan, plain_desc(input_shape), plain_destination, plain_destination);
}

void add_reorders(PrimitivePlan& plan, const dnnl::memory::desc& held_source, const dnnl::memory::desc& held_destination,
                  const dnnl::memory::desc& held_residual) {
  plan.held_source = held_source;
  plan.held_destination = held_destination;
  plan.held_residual = held_residual;
  if (plan.source != held_source) {
    plan.source_reorder = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), held_source, engine(), plan.source));
  }
  if (plan.destination != held_destination) {
    plan.destination_reorder =
        dnnl::reorder(dnnl::reorder::primitive_desc(engine(), plan.destination, engine(), held_destination));
  }
  if (plan.has_residual && held_residual != plan.destination) {
    plan.residual_reorder =
        dnnl::reorder(dnnl::reorder::primitive_desc(engine(), held_residual, engine(), plan.destination));
  }
}

void execute_plan(const PrimitivePlan& plan, const Tensor& input, const Tensor* residual, Tensor& output) {
  dnnl::stream stream(engine());
  dnnl::memory plain_source(plan.held_source, engine(), const_cast<void*>(input.raw_data()));
  dnnl::memory plain_destination(plan.held_destination, engine(), output.raw_data());
  dnnl::memory source = plain_source;
  if (plan.source_reorder) {
    source = dnnl::memory(plan.source, engine(), scratch(ScratchSlot::source, plan.source.get_size()));
    plan.source_reorder->execute(stream, plain_source, source);
  }
  dnnl::memory destination = plain_destination;
  if (plan.destination_reorder) {
    destination =
        dnnl::memory(plan.destination, engine(), scratch(ScratchSlot::destination, plan.destination.get_size()));
  }
  if (plan.has_residual) {
    if (!residual) throw Error(ErrorKind::internal, "the fused residual input is missing");
    dnnl::memory held_residual(plan.held_residual, engine(), const_cast<void*>(residual->raw_data()));
    if (plan.residual_reorder) {
      plan.residual_reorder->execute(stream, held_residual, destination);
    } else if (destination.get_data_handle() != residual->raw_data()) {  // equal: computed in place
      std::memcpy(destination.get_data_handle(), residual->raw_data(), plan.destination.get_size());
    }
  }
  std::unordered_map<int, dnnl::memory> arguments{{DNNL_ARG_SRC, source}, {DNNL_ARG_DST, destination}};
  if (plan.weights) arguments[DNNL_ARG_WEIGHTS] = plan.weights;
  if (plan.bias) arguments[DNNL_ARG_BIAS] = plan.bias;
  if (plan.scratchpad_bytes) {
    arguments[DNNL_ARG_SCRATCHPAD] = dnnl::memory(
        dnnl::memory::desc({static_cast<dnnl::memory::dim>(plan.scratchpad_bytes)}, dnnl::memory::data_type::u8,
                           dnnl::memory::format_tag::a),
        engine(), scratch(ScratchSlot::primitive, plan.scratchpad_bytes));
  }
  plan.primitive.execute(stream, arguments);
  if (plan.destination_reorder) plan.destination_reorder->execute(stream, destination, plain_destination);
  stream.wait();
}

std::shared_ptr<const PrimitivePlan> PlanCache::get(const Shape& input_shape) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = plans_.find(input_shape);
  if (found != plans_.end()) return found->second;
  auto plan = builder_(input_shape);
  plans_[input_shape] = plan;
  return plan;
}

void pack_weights_and_bias(PrimitivePlan& plan, const dnnl::memory::desc& plain, const dnnl::memory::desc& packed,
                           const Tensor& weights, const dnnl::memory::desc& bias_layout, const Tensor& bias) {
  // oneDNN reads the plain weights only; the const_cast is for its C-style handle.
  dnnl::memory plain_memory(plain, engine(), const_cast<void*>(weights.raw_data()));
  plan.weights = dnnl::memory(packed, engine());
  dnnl::stream stream(engine());
  dnnl::reorder(plain_memory, plan.weights).execute(stream, plain_memory, plan.weights);
  stream.wait();
  if (!bias.empty()) {
    plan.bias = dnnl::memory(bias_layout, engine());
    std::memcpy(plan.bias.get_data_handle(), bias.raw_data(), bias.byte_size());
  }
}

}  // namespace npukit::runtime::cpu
