#include "runtime/kernels/cpu/blocked_layout.h"

#include "runtime/fused_activation.h"
#include "runtime/kernels/cpu/cpu_kernels.h"

namespace npukit::runtime::cpu {

namespace {

bool is_cpu_convolution(const ir::Node* node) {
  if (!node) return false;
  const bool convolution = (node->op_type == "Conv" && node->domain.empty()) ||
                           (node->op_type == "FusedConv" && node->domain == fused_domain);
  if (!convolution || convolution_unsupported_reason(*node, 1)) return false;
  // A grouped (not depthwise) convolution whose groups do not fill whole blocks has no blocked kernel in
  // oneDNN (only its slow reference one); it runs plain, so its neighbours must hand it plain tensors.
  const int64_t group = node->get_int("group", 1);
  const Tensor& weights = *node->inputs[1]->initializer;
  const int64_t output_per_group = weights.dim(0) / group, input_per_group = weights.dim(1);
  const bool depthwise = input_per_group == 1 && output_per_group == 1;
  if (group > 1 && !depthwise && (output_per_group % channel_block() || input_per_group % channel_block())) return false;
  return true;
}

}  // namespace

int64_t channel_block() {
  static const int64_t block = [] {
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    return (isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
            isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx)
               ? int64_t{16}
               : int64_t{8};
  }();
  return block;
}

bool is_held_blocked(const ir::Value* value) {
  if (!value || value->is_graph_output || value->is_graph_input || value->initializer || value->outer_scope) {
    return false;
  }
  if (value->type.dtype != DType::f32 || !value->type.has_static_shape()) return false;
  const Shape shape = value->type.static_shape();
  if (shape.size() != 4 || shape[0] != 1 || shape[1] % channel_block() != 0) return false;
  if (!is_cpu_convolution(value->producer) || value->consumers.empty()) return false;
  for (const ir::Node* reader : value->consumers) {
    if (!is_cpu_convolution(reader)) return false;
    // Read as the weights or bias (never for a computed value, but the rule must not assume it).
    for (size_t i = 1; i < reader->inputs.size() && i < 3; ++i) {
      if (reader->inputs[i] == value) return false;
    }
  }
  return true;
}

dnnl::memory::desc held_desc(const Shape& shape, bool blocked) {
  if (!blocked) return plain_desc(shape);
  return dnnl::memory::desc(to_dims(shape), dnnl::memory::data_type::f32,
                            channel_block() == 16 ? dnnl::memory::format_tag::nChw16c
                                                  : dnnl::memory::format_tag::nChw8c);
}

}  // namespace npukit::runtime::cpu
