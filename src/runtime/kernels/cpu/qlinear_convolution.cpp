// QLinearConv on the cpu backend, equal to ONNX Runtime's CPU execution provider to the bit (and to the ref
// kernel, the oracle): an exact s32 accumulation on oneDNN (int8_accumulation.h), then ORT's float-scale
// requantization with bias - z_x · (sum of the weights the window read) folded into one int32 offset per
// output channel (and per border pixel class).
//
// Layout. The input and output are NCHW, or NHWC when the cpu backend's layout plan holds them channels-last
// (blocked_layout.h: chains of int8 operators keep their activations NHWC and reorder only at the chain's
// ends). Two ways to feed oneDNN:
//   - direct: the NHWC input as it is (u8; or s8 on a VNNI machine, where oneDNN's s8 path is exact), oneDNN
//     pads with the integer 0 and the border pixels get their own offsets (border_offsets);
//   - padded copy: when the weights must be split (no VNNI, some |w| > 64) or s8 meets a CPU without VNNI, the
//     input is copied once into a padded NHWC u8 buffer (border = the input's zero point, s8 shifted by 128,
//     channels duplicated for the split).
// Pointwise convolutions (1x1, stride 1, no pads, one group) of an input depth that is a multiple of 4 run on the own
// AVX-512 VNNI kernel where the machine and oneDNN's ISA have VNNI (pointwise_vnni.h: MLAS's design, the sums
// requantized in registers; about half the time of the oneDNN path below on MobileNetV2's narrow layers). Elsewhere,
// pointwise convolutions fed directly whose s32 sums would outgrow the cache run in blocks of image rows: oneDNN sums one block, requantize_float_scale_rows turns it into bytes while it is still
// in the cache, then the next block. A 1x1 convolution of an NHWC tensor is a product of its [pixels, C_in] matrix,
// so any run of whole rows (across images too) is a convolution of the same kind. MobileNetV2's expansion layers
// otherwise write and read back 4.8 MB of s32 each (96 x 112 x 112).
// 2-D convolutions with explicit pads (auto_pad NOTSET or VALID); anything else runs on ref.
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/int8_accumulation.h"
#include "runtime/kernels/cpu/pointwise_vnni.h"
#include "runtime/kernels/cpu/qlinear_operands.h"

namespace npukit::runtime::cpu {

namespace {

using tag = dnnl::memory::format_tag;
using data_type = dnnl::memory::data_type;

struct ConvolutionPlan {
  int8::ConvolutionShape shape;  // the whole convolution
  // Pointwise on an AVX-512 VNNI machine: the own kernel (pointwise_vnni.h) instead of everything below but the reorders.
  std::unique_ptr<int8::PointwiseVnniConvolution> pointwise;
  std::unique_ptr<int8::ExactInt8Convolution> accumulation;
  // Blocked pointwise: `accumulation` covers block_rows image rows, `last_block` the rest (when they do not divide).
  int64_t block_rows = 0;
  std::unique_ptr<int8::ExactInt8Convolution> last_block;
  bool direct = false;  // oneDNN reads the NHWC input itself and pads (see the file comment)
  int64_t input_height = 0, input_width = 0;
  std::vector<std::vector<int32_t>> offset_rows;  // bias - z_x · sum(w read), per output channel
  std::vector<const int32_t*> pixel_offsets;      // per output pixel of one image (or one for all)
  std::optional<dnnl::reorder> to_nchw;
  dnnl::memory::desc nhwc_output, nchw_output;
  std::optional<dnnl::reorder> to_nhwc;  // the input, NCHW → NHWC, when it arrives NCHW
  dnnl::memory::desc nchw_input, nhwc_input;
};

class QLinearConvolutionExecutable final : public CpuExecutable {
 public:
  QLinearConvolutionExecutable(const ir::Node& node, QLinearOperands operands, bool input_channels_last,
                               bool output_channels_last)
      : node_(node),
        operands_(std::move(operands)),
        input_channels_last_(input_channels_last),
        output_channels_last_(output_channels_last) {
    const Tensor& weights = *operands_.weights;
    output_channels_ = weights.dim(0);
    group_ = node.get_int("group", 1);
    kernel_ = {weights.dim(2), weights.dim(3)};
    strides_ = node.get_ints("strides", {1, 1});
    dilations_ = node.get_ints("dilations", {1, 1});
    pads_ = node.get_ints("pads", {0, 0, 0, 0});
    if (node.get_string("auto_pad", "NOTSET") == "VALID") pads_ = {0, 0, 0, 0};
    scales_.resize(static_cast<size_t>(output_channels_));
    for (int64_t oc = 0; oc < output_channels_; ++oc) {
      const float weight_scale = operands_.weight_scales.size() == 1 ? operands_.weight_scales[0]
                                                                     : operands_.weight_scales[static_cast<size_t>(oc)];
      scales_[static_cast<size_t>(oc)] = int8::output_scale_for(operands_.input_scale, weight_scale, operands_.output_scale);
    }
    bias_.assign(static_cast<size_t>(output_channels_), 0);
    if (const ir::Value* bias = node.input(8)) {
      const int32_t* data = bias->initializer->data<int32_t>();
      bias_.assign(data, data + output_channels_);
    }
    unsigned_zero_point_ = operands_.input_zero_point + (operands_.input_type == DType::i8 ? 128 : 0);
    // Direct feeding needs unsplit weights, and s8 needs VNNI (int8_accumulation.h).
    const bool unsplit = int8::has_int32_dot_product() ||
                         int8::weights_fit_pairwise_int16(weights.data<int8_t>(), weights.element_count());
    direct_ = unsplit && (operands_.input_type == DType::u8 || int8::has_int32_dot_product());
    const ir::Value* input = node.input(0);
    if (input->type.has_static_shape()) plan_for(input->type.static_shape());
  }

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != operands_.input_type || input.rank() != 4) {
      context.invalid("cpu QLinearConv needs a 4-D " + std::string(dtype_name(operands_.input_type)) + " input");
    }
    if (input.dim(1) != operands_.weights->dim(1) * group_) {
      context.invalid("input channels " + std::to_string(input.dim(1)) + " do not match the weights");
    }
    const ConvolutionPlan& plan = plan_for(input.shape());
    const int8::ConvolutionShape& shape = plan.shape;
    const int64_t output_height = shape.output_height(), output_width = shape.output_width();
    if (output_height <= 0 || output_width <= 0) context.invalid("the kernel does not fit the padded input");
    Tensor& output = context.allocate_output(0, operands_.output_type,
                                             {shape.batch, output_channels_, output_height, output_width});
    const size_t output_pixels = static_cast<size_t>(shape.batch * output_height * output_width);
    const size_t nhwc_bytes = output_pixels * static_cast<size_t>(output_channels_);
    // The NHWC result goes straight to the output when the output is held channels-last or NHWC equals NCHW;
    // else through a scratch buffer and a reorder.
    const bool reorder_output = !output_channels_last_ && plan.to_nchw;
    if (plan.pointwise) {
      void* nhwc = reorder_output ? scratch(ScratchSlot::source, nhwc_bytes) : output.raw_data();
      plan.pointwise->run(nhwc_source(input, plan), static_cast<int64_t>(output_pixels), nhwc);
      if (reorder_output) reorder_to_nchw(plan, nhwc, output);
      return;
    }
    if (plan.block_rows > 0) {
      const uint8_t* source = static_cast<const uint8_t*>(nhwc_source(input, plan));
      uint8_t* nhwc = static_cast<uint8_t*>(reorder_output ? scratch(ScratchSlot::source, nhwc_bytes) : output.raw_data());
      const int64_t rows = shape.batch * shape.height, width = shape.width;
      int32_t* accumulators = static_cast<int32_t*>(scratch(
          ScratchSlot::destination, static_cast<size_t>(plan.block_rows * width * output_channels_) * sizeof(int32_t)));
      for (int64_t row = 0; row < rows; row += plan.block_rows) {
        const bool whole = row + plan.block_rows <= rows;
        (whole ? *plan.accumulation : *plan.last_block).run(source + row * width * shape.channels, accumulators);
        const int64_t pixels = (whole ? plan.block_rows : rows - row) * width;
        int8::requantize_float_scale_rows(accumulators, pixels, output_channels_, plan.offset_rows[0].data(),
                                          scales_.data(), true, operands_.output_zero_point, operands_.output_type,
                                          nhwc + row * width * output_channels_);
      }
      if (reorder_output) reorder_to_nchw(plan, nhwc, output);
      return;
    }
    int32_t* accumulators =
        static_cast<int32_t*>(scratch(ScratchSlot::destination, output_pixels * output_channels_ * sizeof(int32_t)));
    if (plan.direct) {
      plan.accumulation->run(nhwc_source(input, plan), accumulators);
    } else {
      const size_t source_bytes =
          static_cast<size_t>(shape.batch * shape.height * shape.width * plan.accumulation->source_channels());
      uint8_t* source = static_cast<uint8_t*>(scratch(ScratchSlot::source, source_bytes));
      fill_padded_source(input, plan, source);
      plan.accumulation->run(source, accumulators);
    }
    void* nhwc = reorder_output ? scratch(ScratchSlot::source, nhwc_bytes) : output.raw_data();
    int8::requantize_float_scale_rows_with_row_offsets(
        accumulators, static_cast<int64_t>(output_pixels), output_channels_, plan.pixel_offsets.data(),
        static_cast<int64_t>(plan.pixel_offsets.size()), scales_.data(), true, operands_.output_zero_point,
        operands_.output_type, nhwc);
    if (reorder_output) reorder_to_nchw(plan, nhwc, output);
  }

 private:
  // The input as NHWC bytes: itself when held channels-last, else oneDNN's reorder into the staging scratch.
  const void* nhwc_source(const Tensor& input, const ConvolutionPlan& plan) const {
    if (!plan.to_nhwc) return input.raw_data();
    void* nhwc = scratch(ScratchSlot::staging, static_cast<size_t>(input.element_count()));
    dnnl::stream stream(engine());
    dnnl::memory from(plan.nchw_input, engine(), const_cast<void*>(input.raw_data())), to(plan.nhwc_input, engine(), nhwc);
    plan.to_nhwc->execute(stream, from, to);
    stream.wait();
    return nhwc;
  }

  void reorder_to_nchw(const ConvolutionPlan& plan, void* nhwc, Tensor& output) const {
    dnnl::stream stream(engine());
    dnnl::memory from(plan.nhwc_output, engine(), nhwc), to(plan.nchw_output, engine(), output.raw_data());
    plan.to_nchw->execute(stream, from, to);
    stream.wait();
  }

  // NCHW or NHWC u8 / s8 → padded NHWC u8, each channel at plan.accumulation->source_channel (twice when split).
  // An NCHW input is first transposed by oneDNN's reorder (a cache-friendly blocked one: a plain per-pixel
  // gather costs more than the convolution on 112x112 planes); then each row is copied into the padded buffer.
  void fill_padded_source(const Tensor& input, const ConvolutionPlan& plan, uint8_t* source) const {
    const int8::ConvolutionShape& shape = plan.shape;
    const int64_t channels = shape.channels, source_channels = plan.accumulation->source_channels();
    const int64_t height = plan.input_height, width = plan.input_width;
    const int copies = plan.accumulation->copies();
    const uint8_t flip = operands_.input_type == DType::i8 ? 0x80 : 0;  // s8 q → u8 q + 128: the byte XOR 0x80
    const uint8_t border = static_cast<uint8_t>(unsigned_zero_point_);
    const uint8_t* nhwc = static_cast<const uint8_t*>(input.raw_data());
    if (plan.to_nhwc) {
      uint8_t* staging = static_cast<uint8_t*>(scratch(ScratchSlot::staging, static_cast<size_t>(input.element_count())));
      dnnl::stream stream(engine());
      dnnl::memory from(plan.nchw_input, engine(), const_cast<void*>(input.raw_data())), to(plan.nhwc_input, engine(), staging);
      plan.to_nhwc->execute(stream, from, to);
      stream.wait();
      nhwc = staging;
    }
    const int64_t group_inputs = channels / shape.groups;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < shape.batch * shape.height; ++row) {
      const int64_t n = row / shape.height, y = row % shape.height - pads_[0];
      uint8_t* destination = source + row * shape.width * source_channels;
      if (y < 0 || y >= height) {
        std::memset(destination, border, static_cast<size_t>(shape.width * source_channels));
        continue;
      }
      std::memset(destination, border, static_cast<size_t>(pads_[1] * source_channels));
      const int64_t right = shape.width - pads_[1] - width;
      std::memset(destination + (pads_[1] + width) * source_channels, border, static_cast<size_t>(right * source_channels));
      const uint8_t* from = nhwc + (n * height + y) * width * channels;
      uint8_t* to = destination + pads_[1] * source_channels;
      if (copies == 1) {
        if (flip) {
          for (int64_t i = 0; i < width * channels; ++i) to[i] = static_cast<uint8_t>(from[i] ^ flip);
        } else {
          std::memcpy(to, from, static_cast<size_t>(width * channels));
        }
        continue;
      }
      for (int64_t x = 0; x < width; ++x) {
        const uint8_t* pixel = from + x * channels;
        uint8_t* target = to + x * source_channels;
        for (int64_t g = 0; g < shape.groups; ++g) {
          for (int copy = 0; copy < copies; ++copy) {
            uint8_t* block = target + (g * copies + copy) * group_inputs;
            for (int64_t i = 0; i < group_inputs; ++i) block[i] = static_cast<uint8_t>(pixel[g * group_inputs + i] ^ flip);
          }
        }
      }
    }
  }

  const ConvolutionPlan& plan_for(const Shape& input_shape) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = plans_.find(input_shape);
    if (found != plans_.end()) return *found->second;
    auto plan = std::make_unique<ConvolutionPlan>();
    int8::ConvolutionShape shape;
    shape.batch = input_shape[0];
    shape.channels = input_shape[1];
    plan->input_height = input_shape[2];
    plan->input_width = input_shape[3];
    plan->direct = direct_;
    if (direct_) {
      shape.height = input_shape[2];
      shape.width = input_shape[3];
      shape.pad_top = pads_[0];
      shape.pad_left = pads_[1];
      shape.pad_bottom = pads_[2];
      shape.pad_right = pads_[3];
      shape.signed_source = operands_.input_type == DType::i8;
    } else {
      shape.height = input_shape[2] + pads_[0] + pads_[2];
      shape.width = input_shape[3] + pads_[1] + pads_[3];
    }
    shape.output_channels = output_channels_;
    shape.groups = group_;
    shape.kernel_height = kernel_[0];
    shape.kernel_width = kernel_[1];
    shape.stride_height = strides_[0];
    shape.stride_width = strides_[1];
    shape.dilation_height = dilations_[0];
    shape.dilation_width = dilations_[1];
    if (shape.output_height() <= 0 || shape.output_width() <= 0) {
      throw Error(ErrorKind::invalid_argument,
                  "the kernel does not fit the padded input " + shape_to_string(input_shape), {}, node_.describe());
    }
    plan->shape = shape;
    const bool one_by_one = group_ == 1 && shape.kernel_height == 1 && shape.kernel_width == 1 &&
                            shape.stride_height == 1 && shape.stride_width == 1 &&
                            pads_ == std::vector<int64_t>{0, 0, 0, 0};
    // Pointwise and larger than a block: blocks of whole rows over batch · height (see the file comment).
    const bool pointwise = direct_ && one_by_one;
    if (one_by_one && int8::PointwiseVnniConvolution::available() &&
        int8::PointwiseVnniConvolution::supports(shape.channels)) {
      // Offsets on the u8 grid the kernel reads (s8 bytes flipped: z + 128), wrapping as ORT's int32 accumulator.
      const int8_t* weights = operands_.weights->data<int8_t>();
      std::vector<int32_t> offsets(static_cast<size_t>(output_channels_));
      for (int64_t oc = 0; oc < output_channels_; ++oc) {
        uint32_t sum = 0;
        for (int64_t ic = 0; ic < shape.channels; ++ic) sum += static_cast<uint32_t>(weights[oc * shape.channels + ic]);
        offsets[static_cast<size_t>(oc)] = static_cast<int32_t>(static_cast<uint32_t>(bias_[static_cast<size_t>(oc)]) -
                                                                static_cast<uint32_t>(unsigned_zero_point_) * sum);
      }
      plan->pointwise = std::make_unique<int8::PointwiseVnniConvolution>(
          shape.channels, output_channels_, weights, offsets, scales_, operands_.output_zero_point, operands_.output_type,
          operands_.input_type == DType::i8);
    } else if (int8::PointwiseRowBlocks blocks; pointwise &&
               (blocks = int8::pointwise_row_blocks(shape, operands_.weights->data<int8_t>())).block_rows > 0) {
      plan->block_rows = blocks.block_rows;
      plan->accumulation = std::move(blocks.block);
      plan->last_block = std::move(blocks.last_block);
    } else {
      plan->accumulation = std::make_unique<int8::ExactInt8Convolution>(shape, operands_.weights->data<int8_t>());
    }
    if (plan->pointwise) {
      // The kernel holds its own offsets.
    } else if (plan->block_rows > 0) {
      // No padding: every pixel subtracts z_x times the whole weight sum (below), one offsets row for all.
      plan->offset_rows.push_back(int8::border_offsets(*plan->accumulation, bias_, operands_.input_zero_point).rows[0]);
      plan->pixel_offsets.push_back(plan->offset_rows[0].data());
    } else if (direct_) {
      // oneDNN's border reads the integer 0: each border pixel class subtracts z_x only for the taps inside.
      int8::BorderOffsets border = int8::border_offsets(*plan->accumulation, bias_, operands_.input_zero_point);
      plan->offset_rows = std::move(border.rows);
      for (int32_t row : border.pixel_row) plan->pixel_offsets.push_back(plan->offset_rows[static_cast<size_t>(row)].data());
    } else {
      std::vector<int32_t> offsets(static_cast<size_t>(output_channels_));
      for (int64_t oc = 0; oc < output_channels_; ++oc) {
        // Wrapping int32 arithmetic, as ORT's int32 accumulator + bias.
        const uint32_t correction = static_cast<uint32_t>(unsigned_zero_point_) *
                                    static_cast<uint32_t>(plan->accumulation->weight_sums()[static_cast<size_t>(oc)]);
        offsets[static_cast<size_t>(oc)] =
            static_cast<int32_t>(static_cast<uint32_t>(bias_[static_cast<size_t>(oc)]) - correction);
      }
      plan->offset_rows.push_back(std::move(offsets));
      plan->pixel_offsets.push_back(plan->offset_rows[0].data());
    }
    const data_type input_type = operands_.input_type == DType::u8 ? data_type::u8 : data_type::s8;
    const dnnl::memory::dims input_dims{shape.batch, shape.channels, plan->input_height, plan->input_width};
    plan->nchw_input = dnnl::memory::desc(input_dims, input_type, tag::nchw);
    plan->nhwc_input = dnnl::memory::desc(input_dims, input_type, tag::nhwc);
    if (!input_channels_last_ && shape.channels > 1 && plan->input_height * plan->input_width > 1) {
      plan->to_nhwc = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), plan->nchw_input, engine(), plan->nhwc_input));
    }
    const dnnl::memory::dims dims{shape.batch, output_channels_, shape.output_height(), shape.output_width()};
    const data_type type = operands_.output_type == DType::u8 ? data_type::u8 : data_type::s8;
    plan->nhwc_output = dnnl::memory::desc(dims, type, tag::nhwc);
    plan->nchw_output = dnnl::memory::desc(dims, type, tag::nchw);
    if (output_channels_ > 1 && shape.output_height() * shape.output_width() > 1) {
      plan->to_nchw = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), plan->nhwc_output, engine(), plan->nchw_output));
    }
    return *(plans_[input_shape] = std::move(plan));
  }

  const ir::Node& node_;
  QLinearOperands operands_;
  bool input_channels_last_ = false, output_channels_last_ = false, direct_ = false;
  int64_t output_channels_ = 0, group_ = 1;
  int32_t unsigned_zero_point_ = 0;
  std::vector<int64_t> kernel_, strides_, dilations_, pads_;
  std::vector<float> scales_;
  std::vector<int32_t> bias_;
  mutable std::mutex mutex_;
  mutable std::map<Shape, std::unique_ptr<ConvolutionPlan>> plans_;
};

}  // namespace

std::optional<std::string> qlinear_convolution_unsupported_reason(const ir::Node& node, int64_t opset) {
  const ir::Value* weights = node.input(3);
  if (!weights || !weights->initializer || weights->initializer->rank() != 4) {
    return "cpu QLinearConv runs 2-D convolutions with constant weights";
  }
  QLinearOperands operands;
  const int64_t output_channels = weights->initializer->dim(0);
  if (std::optional<std::string> reason = read_qlinear_operands(node, output_channels, operands)) return reason;
  const std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") return "cpu QLinearConv needs explicit pads (auto_pad " + auto_pad + ")";
  const int64_t group = node.get_int("group", 1);
  if (group < 1 || output_channels % group != 0) return "cpu QLinearConv: group does not divide the output channels";
  const std::vector<int64_t> strides = node.get_ints("strides", {1, 1}), dilations = node.get_ints("dilations", {1, 1}),
                             pads = node.get_ints("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4) return "cpu QLinearConv: 2-D attributes expected";
  for (int64_t value : strides) if (value < 1) return "cpu QLinearConv: strides must be >= 1";
  for (int64_t value : dilations) if (value < 1) return "cpu QLinearConv: dilations must be >= 1";
  for (int64_t value : pads) if (value < 0) return "cpu QLinearConv: pads must be >= 0";
  const std::vector<int64_t> kernel = node.get_ints("kernel_shape", {});
  if (!kernel.empty() && (kernel.size() != 2 || kernel[0] != weights->initializer->dim(2) ||
                          kernel[1] != weights->initializer->dim(3))) {
    return "cpu QLinearConv: kernel_shape does not match the weights";
  }
  if (const ir::Value* bias = node.input(8)) {
    if (!bias->initializer || bias->initializer->dtype() != DType::i32 ||
        bias->initializer->element_count() != output_channels) {
      return "cpu QLinearConv needs a constant int32 bias with one value per output channel";
    }
  }
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_qlinear_convolution(const ir::Node& node, int64_t opset,
                                                            const BlockedLayoutPlan& layouts) {
  QLinearOperands operands;
  const int64_t output_channels = node.input(3)->initializer->dim(0);
  if (std::optional<std::string> reason = read_qlinear_operands(node, output_channels, operands)) {
    throw Error(ErrorKind::unsupported, *reason, {}, node.describe());
  }
  return std::make_unique<QLinearConvolutionExecutable>(node, std::move(operands), layouts.is_blocked(node.inputs[0]),
                                                        layouts.is_blocked(node.outputs[0]));
}

}  // namespace npukit::runtime::cpu
