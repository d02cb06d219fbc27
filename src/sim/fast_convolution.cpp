// IntegerConv on the sim backend, fast: the input transposed to NHWC and padded with its zero point on the u8
// grid (as the cpu backend's QLinearConv does; byte_transpose.h), oneDNN's exact s32 sums (int8_accumulation.h), the zero
// points folded in (zero_point_folding.h, and the window sums of the activations when a weight zero point is
// not 0), the target's requantization over each pixel's row of channels (vector_output_stage.h), and a
// transpose back to NCHW. Where the sim holds the input or the output channels-last (channels_last_plan.h),
// that side needs no transpose: the input's rows are copied into the padded source, the output stage writes the
// output itself. See fast_integer_kernels.h for why this equals runtime/kernels/integer/convolution.
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "npukit/error.h"
#include "runtime/kernels/cpu/dnnl_runtime.h"
#include "runtime/kernels/cpu/int8_accumulation.h"
#include "sim/byte_transpose.h"
#include "sim/fast_integer_kernels.h"
#include "sim/vector_output_stage.h"
#include "sim/zero_point_folding.h"

namespace npukit::sim {

namespace {

using runtime::cpu::ScratchSlot;
using runtime::cpu::engine;
using runtime::cpu::scratch;
using tag = dnnl::memory::format_tag;
using data_type = dnnl::memory::data_type;

struct ConvolutionPlan {
  runtime::cpu::int8::ConvolutionShape shape;  // the whole convolution (padded input)
  // The sums: of the whole convolution, or of block_rows image rows when blocked (last_block: the rest).
  std::unique_ptr<runtime::cpu::int8::ExactInt8Convolution> accumulation, last_block;
  int64_t block_rows = 0;
  int64_t input_height = 0, input_width = 0;
  std::vector<int64_t> first_copy_channels;  // where channel c (copy 0) lies in the padded source
  bool first_copies_contiguous = true;
  dnnl::reorder to_nhwc;
  dnnl::memory::desc nchw_input, nhwc_input;
  bool to_nchw = false;  // the result needs a transpose from NHWC (not when NHWC and NCHW are the same bytes)
};

class FastConvolution final : public runtime::NodeExecutable {
 public:
  FastConvolution(const runtime::integer::ConvolutionParameters& parameters, DType input_type, const Tensor& weights,
                  FoldedWeights folded, bool input_channels_last, bool output_channels_last)
      : parameters_(parameters),
        input_channels_last_(input_channels_last),
        output_channels_last_(output_channels_last),
        input_type_(input_type),
        weights_(weights),
        folded_(std::move(folded)),
        output_stage_(parameters.output, weights.dim(0)) {
    output_channels_ = weights.dim(0);
    unsigned_zero_point_ = parameters.input_zero_point + (input_type == DType::i8 ? 128 : 0);
  }

  bool writes_whole_outputs() const override { return true; }

  void run(runtime::KernelContext& context) const override {
    const Tensor& input = context.input(0);
    const Tensor* bias = context.optional_input(2);
    if (input.dtype() != input_type_ || input.rank() != 4 || input.dim(1) != weights_.dim(1) * parameters_.group) {
      // Not the input this kernel was prepared for: the plain kernel says what is wrong, or computes it (on
      // NCHW tensors: a channels-last input is 4-D, so only its channel count can be wrong here).
      const Tensor nchw = input_channels_last_ ? channels_first_copy(input) : Tensor();
      Tensor result = runtime::integer::convolution(input_channels_last_ ? nchw : input, context.input(1), bias, parameters_);
      context.set_output(0, output_channels_last_ ? channels_last_copy(result) : std::move(result));
      return;
    }
    const ConvolutionPlan& plan = plan_for(input.shape(), context);
    const runtime::cpu::int8::ConvolutionShape& shape = plan.shape;
    const int64_t output_height = shape.output_height(), output_width = shape.output_width();
    Tensor& output = context.allocate_output(0, parameters_.output.dtype, {shape.batch, output_channels_, output_height, output_width});
    const int64_t source_channels = plan.accumulation->source_channels();
    const size_t source_bytes = static_cast<size_t>(shape.batch * shape.height * shape.width * source_channels);
    const int64_t pixels = shape.batch * output_height * output_width;
    const bool to_nchw = plan.to_nchw && !output_channels_last_;
    // The source is the input's own bytes when the input is held channels-last on the u8 grid and nothing is
    // added (no border, no second copy of the channels).
    const bool input_is_source = input_channels_last_ && input_type_ == DType::u8 && source_channels == shape.channels &&
                                 shape.height == plan.input_height && shape.width == plan.input_width;
    const uint8_t* source = static_cast<const uint8_t*>(input.raw_data());
    if (!input_is_source) {
      auto* padded = static_cast<uint8_t*>(scratch(ScratchSlot::source, source_bytes));
      fill_padded_source(input, plan, padded);
      source = padded;
    }
    // The NHWC bytes go to the staging slot (free again after fill_padded_source), or straight to the output
    // when NHWC and NCHW are the same bytes or the output is held channels-last.
    void* nhwc = to_nchw ? scratch(ScratchSlot::staging, static_cast<size_t>(pixels * output_channels_)) : output.raw_data();
    if (plan.block_rows > 0) {
      // Pointwise, stride 1, unpadded, no weight zero points: any run of whole rows is the same convolution.
      const int64_t rows = shape.batch * shape.height, width = shape.width;
      auto* accumulators = static_cast<int32_t*>(
          scratch(ScratchSlot::destination, static_cast<size_t>(plan.block_rows * width * output_channels_) * sizeof(int32_t)));
      for (int64_t row = 0; row < rows; row += plan.block_rows) {
        const bool whole = row + plan.block_rows <= rows;
        (whole ? *plan.accumulation : *plan.last_block).run(source + row * width * source_channels, accumulators);
        const int64_t block_pixels = (whole ? plan.block_rows : rows - row) * width;
        output_stage_.finish_rows(accumulators, block_pixels, static_cast<uint8_t*>(nhwc) + row * width * output_channels_,
                                  VectorOutputStage::Path::automatic, folded_.offsets.data());
      }
    } else {
      finish_whole(plan, source, pixels, nhwc);
    }
    if (to_nchw) {
      const int64_t image_pixels = output_height * output_width;
      for (int64_t n = 0; n < shape.batch; ++n) {
        const int64_t image = n * image_pixels * output_channels_;
        transpose_bytes(static_cast<const uint8_t*>(nhwc) + image, image_pixels, output_channels_, output_channels_,
                        static_cast<uint8_t*>(output.raw_data()) + image, image_pixels);
      }
    }
  }

 private:
  // All sums at once, the zero points folded in, then the output stage over every pixel.
  void finish_whole(const ConvolutionPlan& plan, const uint8_t* source, int64_t pixels, void* nhwc) const {
    auto* accumulators = static_cast<int32_t*>(scratch(ScratchSlot::destination, static_cast<size_t>(pixels * output_channels_) * sizeof(int32_t)));
    plan.accumulation->run(source, accumulators);
    // Without weight zero points the folding is one constant per output channel: the output stage adds it.
    if (folded_.any_weight_zero_point) fold_offsets(plan, source, accumulators);
    output_stage_.finish_rows(accumulators, pixels, nhwc, VectorOutputStage::Path::automatic,
                              folded_.any_weight_zero_point ? nullptr : folded_.offsets.data());
  }

  // NCHW → padded NHWC u8 (s8 shifted by 128: the byte XOR 0x80), each channel at its place in the source
  // (twice when oneDNN's weights were split), the border at the input's zero point.
  void fill_padded_source(const Tensor& input, const ConvolutionPlan& plan, uint8_t* source) const {
    const runtime::cpu::int8::ConvolutionShape& shape = plan.shape;
    const int64_t channels = shape.channels, source_channels = plan.accumulation->source_channels();
    const int64_t height = plan.input_height, width = plan.input_width;
    const int copies = plan.accumulation->copies();
    const uint8_t flip = input_type_ == DType::i8 ? 0x80 : 0;
    const auto border = static_cast<uint8_t>(unsigned_zero_point_);
    const std::vector<int64_t>& pads = parameters_.pads;
    const int64_t group_inputs = channels / shape.groups;
    const auto* bytes = static_cast<const uint8_t*>(input.raw_data());  // NCHW, or NHWC when held channels-last
    const uint8_t* nhwc = input_channels_last_ ? bytes : nullptr;
    if (copies > 1 && !input_channels_last_) {  // channels placed twice below: NHWC first (oneDNN's reorder)
      auto* reordered = static_cast<uint8_t*>(scratch(ScratchSlot::staging, static_cast<size_t>(input.element_count())));
      nhwc = reordered;
      dnnl::stream stream(engine());
      dnnl::memory from(plan.nchw_input, engine(), const_cast<void*>(input.raw_data())), to(plan.nhwc_input, engine(), reordered);
      plan.to_nhwc.execute(stream, from, to);
      stream.wait();
    }
    for (int64_t row = 0; row < shape.batch * shape.height; ++row) {
      const int64_t n = row / shape.height, y = row % shape.height - pads[0];
      uint8_t* destination = source + row * shape.width * source_channels;
      if (y < 0 || y >= height) {
        std::memset(destination, border, static_cast<size_t>(shape.width * source_channels));
        continue;
      }
      std::memset(destination, border, static_cast<size_t>(pads[1] * source_channels));
      const int64_t right = shape.width - pads[1] - width;
      std::memset(destination + (pads[1] + width) * source_channels, border, static_cast<size_t>(right * source_channels));
      uint8_t* to = destination + pads[1] * source_channels;
      if (copies == 1 && input_channels_last_) {
        // The image row's W pixels of C bytes, each to its place in the source (one run when no channel was added).
        const uint8_t* from = bytes + (n * height + y) * width * channels;
        if (source_channels == channels) {
          copy_flipped(from, width * channels, to, flip);
        } else {
          for (int64_t x = 0; x < width; ++x) copy_flipped(from + x * channels, channels, to + x * source_channels, flip);
        }
        continue;
      }
      if (copies == 1) {
        // The image row's C rows of W bytes, straight from NCHW into the row's pixels.
        transpose_bytes(bytes + (n * channels * height + y) * width, channels, width, height * width, to, source_channels, flip);
        continue;
      }
      const uint8_t* from = nhwc + (n * height + y) * width * channels;
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

  static void copy_flipped(const uint8_t* from, int64_t count, uint8_t* to, uint8_t flip) {
    if (flip == 0) {
      std::memcpy(to, from, static_cast<size_t>(count));
      return;
    }
    for (int64_t i = 0; i < count; ++i) to[i] = static_cast<uint8_t>(from[i] ^ flip);
  }

  // accumulator += offset[m] - z_w'[m] · (sum of x_u over the output's window and group); only with weight
  // zero points (otherwise finish_rows adds offset[m]).
  void fold_offsets(const ConvolutionPlan& plan, const uint8_t* source, int32_t* accumulators) const {
    const runtime::cpu::int8::ConvolutionShape& shape = plan.shape;
    const int64_t output_height = shape.output_height(), output_width = shape.output_width();
    const int64_t outputs = output_channels_;
    const int32_t* offsets = folded_.offsets.data();
    const int64_t groups = shape.groups, group_inputs = shape.channels / groups, group_outputs = outputs / groups;
    const int64_t source_channels = plan.accumulation->source_channels();
    // The per-pixel sums of each group's channels over the padded source, then the window sums.
    const int64_t source_pixels = shape.batch * shape.height * shape.width;
    auto* pixel_sums = static_cast<int32_t*>(scratch(ScratchSlot::primitive, static_cast<size_t>(source_pixels * groups) * sizeof(int32_t) +
                                                                                 static_cast<size_t>(groups) * sizeof(int32_t)));
    int32_t* window = pixel_sums + source_pixels * groups;
    for (int64_t p = 0; p < source_pixels; ++p) {
      const uint8_t* pixel = source + p * source_channels;
      int32_t* sums = pixel_sums + p * groups;
      if (plan.first_copies_contiguous && group_inputs == 1) {
        for (int64_t g = 0; g < groups; ++g) sums[g] = pixel[g];
        continue;
      }
      for (int64_t g = 0; g < groups; ++g) {
        const uint8_t* first = pixel + plan.first_copy_channels[static_cast<size_t>(g * group_inputs)];
        int32_t sum = 0;
        for (int64_t i = 0; i < group_inputs; ++i) sum += first[i];  // a group's first copy is contiguous
        sums[g] = sum;
      }
    }
    const int32_t* zero_points = folded_.zero_points.data();
    for (int64_t n = 0; n < shape.batch; ++n) {
      for (int64_t oy = 0; oy < output_height; ++oy) {
        for (int64_t ox = 0; ox < output_width; ++ox) {
          for (int64_t g = 0; g < groups; ++g) window[g] = 0;
          for (int64_t ky = 0; ky < shape.kernel_height; ++ky) {
            const int64_t y = oy * shape.stride_height + ky * shape.dilation_height;
            for (int64_t kx = 0; kx < shape.kernel_width; ++kx) {
              const int64_t x = ox * shape.stride_width + kx * shape.dilation_width;
              const int32_t* sums = pixel_sums + ((n * shape.height + y) * shape.width + x) * groups;
              for (int64_t g = 0; g < groups; ++g) window[g] += sums[g];
            }
          }
          int32_t* row = accumulators + ((n * output_height + oy) * output_width + ox) * outputs;
          if (groups == 1) {
            const int32_t sum = window[0];
            for (int64_t m = 0; m < outputs; ++m) {
              row[m] = wrapping_subtract(wrapping_add(row[m], offsets[m]), wrapping_multiply(zero_points[m], sum));
            }
          } else if (group_outputs == 1) {
            for (int64_t m = 0; m < outputs; ++m) {
              row[m] = wrapping_subtract(wrapping_add(row[m], offsets[m]), wrapping_multiply(zero_points[m], window[m]));
            }
          } else {
            for (int64_t m = 0; m < outputs; ++m) {
              row[m] = wrapping_subtract(wrapping_add(row[m], offsets[m]), wrapping_multiply(zero_points[m], window[m / group_outputs]));
            }
          }
        }
      }
    }
  }

  const ConvolutionPlan& plan_for(const Shape& input_shape, const runtime::KernelContext& context) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = plans_.find(input_shape);
    if (found != plans_.end()) return *found->second;
    auto plan = std::make_unique<ConvolutionPlan>();
    const std::vector<int64_t>& pads = parameters_.pads;
    runtime::cpu::int8::ConvolutionShape shape;
    shape.batch = input_shape[0];
    shape.channels = input_shape[1];
    plan->input_height = input_shape[2];
    plan->input_width = input_shape[3];
    shape.height = input_shape[2] + pads[0] + pads[2];
    shape.width = input_shape[3] + pads[1] + pads[3];
    shape.output_channels = output_channels_;
    shape.groups = parameters_.group;
    shape.kernel_height = weights_.dim(2);
    shape.kernel_width = weights_.dim(3);
    shape.stride_height = parameters_.strides[0];
    shape.stride_width = parameters_.strides[1];
    shape.dilation_height = parameters_.dilations[0];
    shape.dilation_width = parameters_.dilations[1];
    if (shape.output_height() <= 0 || shape.output_width() <= 0) {
      context.invalid("integer Conv: the kernel is larger than the padded input " + shape_to_string(input_shape));
    }
    plan->shape = shape;
    const bool pointwise = shape.kernel_height == 1 && shape.kernel_width == 1 && shape.stride_height == 1 &&
                           shape.stride_width == 1 && shape.groups == 1 && shape.height == plan->input_height &&
                           shape.width == plan->input_width && !folded_.any_weight_zero_point;
    // Large pointwise sums in blocks of image rows, as the cpu backend's QLinearConv (int8_accumulation.h).
    if (runtime::cpu::int8::PointwiseRowBlocks blocks;
        pointwise && (blocks = runtime::cpu::int8::pointwise_row_blocks(shape, folded_.weights.data())).block_rows > 0) {
      plan->block_rows = blocks.block_rows;
      plan->accumulation = std::move(blocks.block);
      plan->last_block = std::move(blocks.last_block);
    } else {
      plan->accumulation = std::make_unique<runtime::cpu::int8::ExactInt8Convolution>(shape, folded_.weights.data());
    }
    for (int64_t c = 0; c < shape.channels; ++c) {
      plan->first_copy_channels.push_back(plan->accumulation->source_channel(c, 0));
      plan->first_copies_contiguous = plan->first_copies_contiguous && plan->first_copy_channels.back() == c;
    }
    const data_type input_type = input_type_ == DType::u8 ? data_type::u8 : data_type::s8;
    const dnnl::memory::dims input_dims{shape.batch, shape.channels, plan->input_height, plan->input_width};
    plan->nchw_input = dnnl::memory::desc(input_dims, input_type, tag::nchw);
    plan->nhwc_input = dnnl::memory::desc(input_dims, input_type, tag::nhwc);
    plan->to_nhwc = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), plan->nchw_input, engine(), plan->nhwc_input));
    plan->to_nchw = output_channels_ > 1 && shape.output_height() * shape.output_width() > 1;
    return *(plans_[input_shape] = std::move(plan));
  }

  runtime::integer::ConvolutionParameters parameters_;
  bool input_channels_last_, output_channels_last_;  // how the sim holds the data input and the output
  DType input_type_;
  Tensor weights_;
  FoldedWeights folded_;
  VectorOutputStage output_stage_;
  int64_t output_channels_ = 0;
  int32_t unsigned_zero_point_ = 0;
  mutable std::mutex mutex_;
  mutable std::map<Shape, std::unique_ptr<ConvolutionPlan>> plans_;
};

const Tensor* constant_input(const ir::Node& node, size_t index) {
  const ir::Value* value = node.input(index);
  if (!value || !value->initializer || value->is_graph_input) return nullptr;
  return &*value->initializer;
}

}  // namespace

std::unique_ptr<runtime::NodeExecutable> prepare_fast_convolution(const ir::Node& node,
                                                                  const runtime::integer::ConvolutionParameters& parameters,
                                                                  bool input_channels_last, bool output_channels_last) {
  const ir::Value* input = node.input(0);
  const Tensor* weights = constant_input(node, 1);
  if (!input || !weights || weights->rank() != 4) return nullptr;
  const DType input_type = input->quant ? input->quant->storage : input->type.dtype;
  if (input_type != DType::i8 && input_type != DType::u8) return nullptr;
  if (VectorOutputStage::unsupported_reason(parameters.output)) return nullptr;
  const Tensor* bias = node.input(2) ? constant_input(node, 2) : nullptr;
  if (node.input(2) && !bias) return nullptr;
  const int64_t outputs = weights->dim(0);
  if (parameters.group < 1 || outputs % parameters.group != 0) return nullptr;
  for (int64_t value : parameters.strides) if (value < 1) return nullptr;
  for (int64_t value : parameters.dilations) if (value < 1) return nullptr;
  for (int64_t value : parameters.pads) if (value < 0) return nullptr;
  const int32_t unsigned_zero_point = parameters.input_zero_point + (input_type == DType::i8 ? 128 : 0);
  if (unsigned_zero_point < 0 || unsigned_zero_point > 255) return nullptr;
  std::optional<FoldedWeights> folded = fold_zero_points(*weights, outputs, weights->element_count() / std::max<int64_t>(outputs, 1),
                                                         true, parameters.weight_zero_points, bias, unsigned_zero_point);
  if (!folded) return nullptr;
  return std::make_unique<FastConvolution>(parameters, input_type, *weights, std::move(*folded), input_channels_last,
                                           output_channels_last);
}

}  // namespace npukit::sim
