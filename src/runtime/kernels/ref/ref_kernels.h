// Registration functions of the reference kernel families, one per file in this folder.
// Each family file defines its kernels in an anonymous namespace and adds them in its register function.
#pragma once

#include "runtime/kernel_registry.h"

namespace npukit::runtime::ref {

void register_elementwise_unary_kernels(KernelRegistry& registry);   // elementwise_unary.cpp
void register_elementwise_binary_kernels(KernelRegistry& registry);  // elementwise_binary.cpp
void register_activation_kernels(KernelRegistry& registry);          // activations.cpp
void register_cast_kernels(KernelRegistry& registry);                // cast.cpp
void register_quantization_kernels(KernelRegistry& registry);        // quantization.cpp
void register_convolution_kernels(KernelRegistry& registry);         // convolution.cpp
void register_pooling_kernels(KernelRegistry& registry);             // pooling.cpp
void register_matmul_kernels(KernelRegistry& registry);              // matmul.cpp
void register_normalization_kernels(KernelRegistry& registry);       // normalization.cpp
void register_softmax_kernels(KernelRegistry& registry);             // softmax.cpp
void register_reduction_kernels(KernelRegistry& registry);           // reduction.cpp
void register_recurrent_kernels(KernelRegistry& registry);           // recurrent.cpp
void register_shape_kernels(KernelRegistry& registry);               // shape_ops.cpp
void register_data_movement_kernels(KernelRegistry& registry);       // data_movement.cpp
void register_indexing_kernels(KernelRegistry& registry);            // indexing.cpp
void register_generator_kernels(KernelRegistry& registry);           // generators.cpp
void register_resize_kernels(KernelRegistry& registry);              // resize.cpp
void register_detection_kernels(KernelRegistry& registry);           // detection.cpp (NonMaxSuppression, RoiAlign)
void register_text_kernels(KernelRegistry& registry);                // text.cpp (TfIdfVectorizer)
void register_control_flow_kernels(KernelRegistry& registry);        // control_flow.cpp
void register_einsum_kernels(KernelRegistry& registry);              // einsum.cpp
void register_loss_kernels(KernelRegistry& registry);                // loss.cpp (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss)
void register_grid_sample_kernels(KernelRegistry& registry);         // grid_sample.cpp
void register_training_kernels(KernelRegistry& registry);            // training.cpp (Adagrad, Adam, Momentum)
void register_signal_processing_kernels(KernelRegistry& registry);   // signal_processing.cpp
void register_cumulative_sum_kernels(KernelRegistry& registry);      // cumulative_sum.cpp
void register_determinant_kernels(KernelRegistry& registry);         // determinant.cpp
void register_gelu_kernels(KernelRegistry& registry);                // gelu.cpp (Gelu, opset 20)
void register_fused_convolution_kernels(KernelRegistry& registry);   // fused_convolution.cpp (com.npukit FusedConv)

// The registry with every family above.
const KernelRegistry& reference_registry();

}  // namespace npukit::runtime::ref
