#include "sim/integer_executables.h"

#include <cmath>
#include <functional>
#include <set>

#include "npukit/error.h"
#include "runtime/kernels/integer/average_pool.h"
#include "runtime/kernels/integer/convolution.h"
#include "runtime/kernels/integer/elementwise.h"
#include "runtime/kernels/integer/grouped_weights.h"
#include "runtime/kernels/integer/integer_tensor.h"
#include "runtime/kernels/integer/lookup_table.h"
#include "runtime/kernels/integer/matmul.h"
#include "runtime/kernels/integer/requantize.h"
#include "sim/channels_last_adapter.h"
#include "sim/fast_integer_kernels.h"
#include "sim/integer_ops.h"
#include "sim/lowering.h"

namespace npukit::sim {

namespace {

using namespace runtime::integer;

[[noreturn]] void bad_attribute(const ir::Node& node, const std::string& reason) {
  throw Error(ErrorKind::invalid_model, reason, {}, node.describe());
}

targets::Requantization requantization_from_name(const ir::Node& node, const std::string& name) {
  using targets::Requantization;
  for (Requantization variant : {Requantization::float_scale, Requantization::fixed_point_double_rounding,
                                 Requantization::fixed_point_single_rounding, Requantization::fixed_point_upward,
                                 Requantization::fixed_point_to_nearest, Requantization::power_of_two}) {
    if (targets::requantization_name(variant) == name) return variant;
  }
  bad_attribute(node, "unknown requantization '" + name + "'");
}

int32_t int_attribute(const ir::Node& node, const std::string& key) {
  if (!node.has_attribute(key)) bad_attribute(node, "attribute '" + key + "' is missing");
  return static_cast<int32_t>(node.get_int(key, 0));
}

std::vector<int32_t> int32_values(const std::vector<int64_t>& values) { return {values.begin(), values.end()}; }

DType output_dtype(const ir::Node& node, size_t index = 0) {
  const ir::Value* output = node.output(index);
  if (!output) bad_attribute(node, "the output is missing");
  const DType dtype = output->quant ? output->quant->storage : output->type.dtype;
  if (!is_integer_grid(dtype)) bad_attribute(node, "the output '" + output->name + "' is not an integer grid");
  return dtype;
}

Requantizer requantizer_from(const ir::Node& node, const std::string& key) {
  const std::vector<double> multipliers = node.get_floats(key);
  if (multipliers.empty()) bad_attribute(node, "attribute '" + key + "' is missing");
  try {
    return Requantizer(multipliers, requantization_from_name(node, node.get_string("requantization", "")),
                       static_cast<int>(node.get_int("multiplier_bits", 31)));
  } catch (const Error& error) {
    bad_attribute(node, error.reason());
  }
}

OutputStage output_stage(const ir::Node& node) {
  OutputStage stage;
  stage.requantizer = requantizer_from(node, "multipliers");
  stage.zero_point = int_attribute(node, "output_zero_point");
  stage.minimum = int_attribute(node, "output_min");
  stage.maximum = int_attribute(node, "output_max");
  stage.dtype = output_dtype(node);
  return stage;
}

// One executable type for every op: the kernel call with its parameters bound at preparation.
class IntegerExecutable : public runtime::NodeExecutable {
 public:
  using Run = std::function<Tensor(runtime::KernelContext&)>;
  explicit IntegerExecutable(Run run) : run_(std::move(run)) {}
  void run(runtime::KernelContext& context) const override { context.set_output(0, run_(context)); }

 private:
  Run run_;
};

std::unique_ptr<runtime::NodeExecutable> executable(IntegerExecutable::Run run) {
  return std::make_unique<IntegerExecutable>(std::move(run));
}

}  // namespace

std::optional<std::string> integer_op_unsupported_reason(const ir::Node& node) {
  static const std::set<std::string> known{ops::convolution, ops::matmul,     ops::add,          ops::mul,
                                           ops::average_pool, ops::requantize, ops::lookup_table, ops::quantize,
                                           ops::grouped_convolution, ops::grouped_matmul};
  if (node.domain != kIntegerDomain) return "not an op of the " + std::string(kIntegerDomain) + " domain";
  if (!known.count(node.op_type)) return "no integer kernel named " + node.op_type;
  return std::nullopt;
}

std::unique_ptr<runtime::NodeExecutable> prepare_integer_op(const ir::Node& node,
                                                            const runtime::cpu::BlockedLayoutPlan& channels_last) {
  const std::string& op = node.op_type;
  if (op == ops::convolution) {
    ConvolutionParameters p;
    p.strides = node.get_ints("strides", {1, 1});
    p.dilations = node.get_ints("dilations", {1, 1});
    p.pads = node.get_ints("pads", {0, 0, 0, 0});
    if (p.strides.size() != 2 || p.dilations.size() != 2 || p.pads.size() != 4) bad_attribute(node, "strides, dilations or pads do not describe a 2-D convolution");
    p.group = node.get_int("group", 1);
    p.input_zero_point = int_attribute(node, "input_zero_point");
    p.weight_zero_points = int32_values(node.get_ints("weight_zero_points"));
    p.output = output_stage(node);
    const bool input_channels_last = channels_last.is_blocked(node.input(0));
    const bool output_channels_last = channels_last.is_blocked(node.output(0));
    if (auto fast = prepare_fast_convolution(node, p, input_channels_last, output_channels_last)) return fast;
    auto plain = executable([p](runtime::KernelContext& context) {
      return convolution(context.input(0), context.input(1), context.optional_input(2), p);
    });
    if (!input_channels_last && !output_channels_last) return plain;
    return adapt_to_channels_last(std::move(plain), {input_channels_last}, {output_channels_last});
  }
  if (op == ops::matmul) {
    MatMulParameters p;
    p.a_zero_point = int_attribute(node, "a_zero_point");
    p.b_zero_points = int32_values(node.get_ints("b_zero_points"));
    p.output = output_stage(node);
    if (auto fast = prepare_fast_matmul(node, p)) return fast;
    return executable([p](runtime::KernelContext& context) {
      return matmul(context.input(0), context.input(1), context.optional_input(2), p);
    });
  }
  if (op == ops::grouped_convolution || op == ops::grouped_matmul) {
    WeightGroups groups;
    groups.group_size = node.get_int("group_size", 0);
    groups.ratios = node.get_floats("group_ratios");
    if (groups.group_size <= 0 || groups.ratios.empty()) bad_attribute(node, "group_size or group_ratios is missing");
    groups.zero_points = int32_values(node.get_ints(op == ops::grouped_matmul ? "b_zero_points" : "weight_zero_points"));
    if (op == ops::grouped_matmul) {
      MatMulParameters p;
      p.a_zero_point = int_attribute(node, "a_zero_point");
      p.output = output_stage(node);
      return executable([p, groups](runtime::KernelContext& context) {
        return grouped_matmul(context.input(0), context.input(1), context.optional_input(2), p, groups);
      });
    }
    ConvolutionParameters p;
    p.strides = node.get_ints("strides", {1, 1});
    p.dilations = node.get_ints("dilations", {1, 1});
    p.pads = node.get_ints("pads", {0, 0, 0, 0});
    if (p.strides.size() != 2 || p.dilations.size() != 2 || p.pads.size() != 4) bad_attribute(node, "strides, dilations or pads do not describe a 2-D convolution");
    p.group = node.get_int("group", 1);
    p.input_zero_point = int_attribute(node, "input_zero_point");
    p.output = output_stage(node);
    return executable([p, groups](runtime::KernelContext& context) {
      return grouped_convolution(context.input(0), context.input(1), context.optional_input(2), p, groups);
    });
  }
  if (op == ops::add) {
    AddParameters p;
    p.a_zero_point = int_attribute(node, "a_zero_point");
    p.b_zero_point = int_attribute(node, "b_zero_point");
    p.left_shift = int_attribute(node, "left_shift");
    if (p.left_shift < 0 || p.left_shift > 24) bad_attribute(node, "left_shift must be 0..24");
    p.a_requantizer = requantizer_from(node, "a_multipliers");
    p.b_requantizer = requantizer_from(node, "b_multipliers");
    p.output = output_stage(node);
    if (auto fast = prepare_fast_add(node, p)) return fast;
    return executable([p](runtime::KernelContext& context) { return add(context.input(0), context.input(1), p); });
  }
  if (op == ops::mul) {
    MulParameters p;
    p.a_zero_point = int_attribute(node, "a_zero_point");
    p.b_zero_point = int_attribute(node, "b_zero_point");
    p.output = output_stage(node);
    if (auto fast = prepare_fast_mul(node, p)) return fast;
    return executable([p](runtime::KernelContext& context) { return mul(context.input(0), context.input(1), p); });
  }
  if (op == ops::average_pool) {
    AveragePoolParameters p;
    p.kernel = node.get_ints("kernel_shape");
    p.strides = node.get_ints("strides", {1, 1});
    p.pads = node.get_ints("pads", {0, 0, 0, 0});
    if ((!p.kernel.empty() && p.kernel.size() != 2) || p.strides.size() != 2 || p.pads.size() != 4) bad_attribute(node, "not a 2-D pooling");
    p.count_include_pad = node.get_int("count_include_pad", 0) != 0;
    p.minimum = int_attribute(node, "output_min");
    p.maximum = int_attribute(node, "output_max");
    return executable([p](runtime::KernelContext& context) { return average_pool(context.input(0), p); });
  }
  if (op == ops::requantize) {
    RequantizeParameters p;
    p.input_zero_point = int_attribute(node, "input_zero_point");
    p.output = output_stage(node);
    if (auto fast = prepare_fast_requantize(node, p)) return fast;
    return executable([p](runtime::KernelContext& context) { return requantize(context.input(0), p); });
  }
  if (op == ops::lookup_table) {
    LookupTable table;
    table.input_minimum = int_attribute(node, "input_minimum");
    table.values = int32_values(node.get_ints("table"));
    table.output_dtype = output_dtype(node);
    if (table.values.empty()) bad_attribute(node, "the table is empty");
    if (auto fast = prepare_fast_lookup_table(node, table)) return fast;
    return executable([table](runtime::KernelContext& context) { return look_up(context.input(0), table); });
  }
  if (op == ops::quantize) {
    QuantizeParameters p;
    p.scale = static_cast<float>(node.get_float("scale", 0));
    if (!(p.scale > 0) || !std::isfinite(p.scale)) bad_attribute(node, "the scale must be finite and > 0");
    p.zero_point = int_attribute(node, "zero_point");
    p.dtype = output_dtype(node);
    p.minimum = int_attribute(node, "output_min");
    p.maximum = int_attribute(node, "output_max");
    const std::optional<ir::RoundingMode> rounding = ir::rounding_mode_from_name(node.get_string("rounding", ""));
    if (!rounding) bad_attribute(node, "unknown rounding '" + node.get_string("rounding", "") + "'");
    p.rounding = *rounding;
    p.clamp_order = node.get_string("clamp_order", "round_then_clamp") == "clamp_then_round" ? ir::ClampOrder::clamp_then_round
                                                                                              : ir::ClampOrder::round_then_clamp;
    if (auto fast = prepare_fast_quantize(p)) return fast;
    return executable([p](runtime::KernelContext& context) { return quantize(context.input(0), p); });
  }
  bad_attribute(node, "no integer kernel named " + op);
}

}  // namespace npukit::sim
