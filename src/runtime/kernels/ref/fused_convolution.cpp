// com.npukit FusedConv: Conv, then an optional residual input added, then an activation — the form the
// activation fusion pass produces. The reference runs the plain Conv kernel and applies the rest
// element by element, so it stays the oracle for the cpu backend's single fused oneDNN primitive.
//
// Inputs: X, W, B (optional), Sum (optional, same shape as the output). Attributes: Conv's, plus
// activation / activation_alpha / activation_beta (runtime/fused_activation.h).
#include "ir/fused_activation.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

void fused_conv_kernel(KernelContext& context) {
  if (context.input(0).dtype() != DType::f32) context.unsupported("FusedConv runs on f32 only");
  const ir::FusedActivation activation = ir::read_fused_activation(context.node());
  const KernelEntry* conv = reference_registry().find("", "Conv", 11);
  if (!conv) context.fail(ErrorKind::internal, "the reference backend has no Conv kernel");
  conv->function(context);  // reads X, W, B and the Conv attributes; ignores the fused ones
  Tensor& output = context.produced_output(0);
  const Tensor* sum = context.optional_input(3);
  if (sum && (sum->dtype() != DType::f32 || sum->shape() != output.shape())) {
    context.invalid("the residual input must be f32 with the output's shape " + shape_to_string(output.shape()) +
                    ", got " + shape_to_string(sum->shape()));
  }
  float* values = output.data<float>();
  const float* addend = sum ? sum->data<float>() : nullptr;
  for (int64_t i = 0; i < output.element_count(); ++i) {
    values[i] = activation.apply(addend ? values[i] + addend[i] : values[i]);
  }
}

}  // namespace

void register_fused_convolution_kernels(KernelRegistry& registry) {
  registry.add("FusedConv", fused_conv_kernel, 1, 10000, ir::fused_domain);
}

}  // namespace npukit::runtime::ref
