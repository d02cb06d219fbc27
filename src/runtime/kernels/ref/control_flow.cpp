// Control flow: If, Loop and Scan, running their bodies through KernelContext::run_subgraph.
// Sequence- and optional-typed values are not tensors and are rejected by the importer before they get here.
#include <algorithm>
#include <cstring>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/axis_split.h"

namespace npukit::runtime::ref {

namespace {

const ir::Graph& graph_attribute(const KernelContext& context, const std::string& key) {
  const ir::Attribute* attribute = context.node().find_attribute(key);
  if (!attribute || attribute->kind != ir::Attribute::Kind::graph || !attribute->graph_value) {
    context.fail(ErrorKind::invalid_model, "missing graph attribute '" + key + "'");
  }
  return *attribute->graph_value;
}

bool scalar_condition(const KernelContext& context, const Tensor& tensor, const char* what) {
  if (tensor.element_count() != 1) context.invalid(std::string(what) + " must hold exactly one value");
  if (tensor.dtype() != DType::boolean) return tensor.value_as_double(0) != 0;
  return tensor.data<bool>()[0];
}


// The slice `index` of `tensor` along `axis`, with that axis removed.
Tensor take_slice(const Tensor& tensor, size_t axis, int64_t index) {
  Shape shape = tensor.shape();
  AxisSplit split = split_at(shape, axis);
  shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(axis));
  Tensor slice(tensor.dtype(), shape);
  const size_t element = dtype_size(tensor.dtype());
  const auto* source = static_cast<const std::byte*>(tensor.raw_data());
  auto* destination = static_cast<std::byte*>(slice.raw_data());
  const size_t block = static_cast<size_t>(split.inner) * element;
  for (int64_t o = 0; o < split.outer; ++o) {
    if (block == 0) break;
    std::memcpy(destination + static_cast<size_t>(o) * block,
                source + (static_cast<size_t>(o * split.extent + index)) * block, block);
  }
  return slice;
}

// Stacks equally shaped tensors along a new axis `axis`.
Tensor stack(const KernelContext& context, const std::vector<Tensor>& parts, size_t axis, DType dtype,
             const Shape& part_shape_if_empty) {
  Shape part_shape = parts.empty() ? part_shape_if_empty : parts.front().shape();
  for (const Tensor& part : parts) {
    if (part.shape() != part_shape || part.dtype() != dtype) {
      context.invalid("scan output changes shape or type between iterations (" + shape_to_string(part_shape) +
                      " then " + shape_to_string(part.shape()) + ")");
    }
  }
  if (axis > part_shape.size()) context.invalid("scan output axis is out of range");
  Shape shape = part_shape;
  shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(axis), static_cast<int64_t>(parts.size()));
  Tensor result(dtype, shape);
  AxisSplit split = split_at(shape, axis);
  const size_t block = static_cast<size_t>(split.inner) * dtype_size(dtype);
  auto* destination = static_cast<std::byte*>(result.raw_data());
  for (size_t p = 0; p < parts.size(); ++p) {
    const auto* source = static_cast<const std::byte*>(parts[p].raw_data());
    for (int64_t o = 0; o < split.outer; ++o) {
      if (block == 0) break;
      std::memcpy(destination + (static_cast<size_t>(o) * parts.size() + p) * block, source + static_cast<size_t>(o) * block,
                  block);
    }
  }
  return result;
}

// Declared element type and static shape of a body output, for scan outputs of a loop that ran zero times.
std::pair<DType, Shape> declared_type(const ir::Value* value) {
  Shape shape;
  if (value->type.has_static_shape()) shape = value->type.static_shape();
  return {value->type.dtype, shape};
}

void if_kernel(KernelContext& context) {
  const bool condition = scalar_condition(context, context.input(0), "If condition");
  const ir::Graph& branch = graph_attribute(context, condition ? "then_branch" : "else_branch");
  std::vector<Tensor> results = context.run_subgraph(branch, {});
  if (results.size() < context.output_count()) {
    context.fail(ErrorKind::invalid_model, "If branch produces " + std::to_string(results.size()) + " outputs but the node has " +
                                               std::to_string(context.output_count()));
  }
  for (size_t i = 0; i < context.output_count(); ++i) context.set_output(i, results[i]);
}

void loop_kernel(KernelContext& context) {
  const ir::Graph& body = graph_attribute(context, "body");
  const Tensor* trip_count_tensor = context.optional_input(0);
  const Tensor* condition_tensor = context.optional_input(1);
  const size_t carried_count = context.input_count() > 2 ? context.input_count() - 2 : 0;
  if (body.inputs.size() != carried_count + 2) {
    context.fail(ErrorKind::invalid_model, "Loop body takes " + std::to_string(body.inputs.size()) + " inputs, expected " +
                                               std::to_string(carried_count + 2));
  }
  if (body.outputs.size() < carried_count + 1) context.fail(ErrorKind::invalid_model, "Loop body has too few outputs");
  const size_t scan_count = body.outputs.size() - 1 - carried_count;
  int64_t trip_count = -1;  // -1: no limit
  if (trip_count_tensor) {
    if (trip_count_tensor->element_count() != 1) context.invalid("Loop M must hold one value");
    trip_count = trip_count_tensor->value_as_int64(0);
  }
  bool condition = condition_tensor ? scalar_condition(context, *condition_tensor, "Loop cond") : true;
  std::vector<Tensor> carried;
  for (size_t i = 0; i < carried_count; ++i) {
    if (!context.has_input(2 + i)) context.unsupported("Loop with an omitted loop-carried input is not supported");
    carried.push_back(context.input(2 + i));
  }
  std::vector<std::vector<Tensor>> scans(scan_count);
  for (int64_t iteration = 0; (trip_count < 0 || iteration < trip_count) && condition; ++iteration) {
    std::vector<Tensor> body_inputs;
    body_inputs.push_back(Tensor::from_vector<int64_t>(DType::i64, {}, {iteration}));
    Tensor condition_in(DType::boolean, {});
    condition_in.data<bool>()[0] = condition;
    body_inputs.push_back(condition_in);
    body_inputs.insert(body_inputs.end(), carried.begin(), carried.end());
    std::vector<Tensor> results = context.run_subgraph(body, body_inputs);
    condition = scalar_condition(context, results[0], "Loop body condition output");
    for (size_t i = 0; i < carried_count; ++i) carried[i] = results[1 + i];
    for (size_t i = 0; i < scan_count; ++i) scans[i].push_back(results[1 + carried_count + i]);
  }
  for (size_t i = 0; i < carried_count && i < context.output_count(); ++i) context.set_output(i, carried[i]);
  for (size_t i = 0; i < scan_count && carried_count + i < context.output_count(); ++i) {
    auto [dtype, shape] = declared_type(body.outputs[1 + carried_count + i]);
    if (!scans[i].empty()) dtype = scans[i].front().dtype();
    if (dtype == DType::undefined) context.unsupported("Loop scan output of unknown type after zero iterations");
    context.set_output(carried_count + i, stack(context, scans[i], 0, dtype, shape));
  }
}

// One Scan (opset 9+ semantics) over states and scan inputs; returns final states then scan outputs.
std::vector<Tensor> run_scan(KernelContext& context, const ir::Graph& body, std::vector<Tensor> states,
                             const std::vector<Tensor>& scan_inputs, const std::vector<int64_t>& input_axes,
                             const std::vector<int64_t>& input_directions, const std::vector<int64_t>& output_axes,
                             const std::vector<int64_t>& output_directions) {
  const size_t state_count = states.size();
  const size_t scan_input_count = scan_inputs.size();
  if (body.outputs.size() < state_count) context.fail(ErrorKind::invalid_model, "Scan body has too few outputs");
  const size_t scan_output_count = body.outputs.size() - state_count;
  int64_t length = -1;
  std::vector<size_t> axes(scan_input_count);
  for (size_t i = 0; i < scan_input_count; ++i) {
    const int64_t rank = static_cast<int64_t>(scan_inputs[i].rank());
    axes[i] = static_cast<size_t>(normalize_axis(i < input_axes.size() ? input_axes[i] : 0, rank, context));
    int64_t extent = scan_inputs[i].dim(axes[i]);
    if (length >= 0 && extent != length) context.invalid("Scan inputs have different sequence lengths");
    length = extent;
  }
  if (length < 0) context.fail(ErrorKind::invalid_model, "Scan needs at least one scan input");
  std::vector<std::vector<Tensor>> outputs(scan_output_count);
  for (int64_t step = 0; step < length; ++step) {
    std::vector<Tensor> body_inputs = states;
    for (size_t i = 0; i < scan_input_count; ++i) {
      bool reverse = i < input_directions.size() && input_directions[i] != 0;
      body_inputs.push_back(take_slice(scan_inputs[i], axes[i], reverse ? length - 1 - step : step));
    }
    std::vector<Tensor> results = context.run_subgraph(body, body_inputs);
    for (size_t i = 0; i < state_count; ++i) states[i] = results[i];
    for (size_t i = 0; i < scan_output_count; ++i) outputs[i].push_back(results[state_count + i]);
  }
  std::vector<Tensor> final_values = states;
  for (size_t i = 0; i < scan_output_count; ++i) {
    if (i < output_directions.size() && output_directions[i] != 0) std::reverse(outputs[i].begin(), outputs[i].end());
    auto [dtype, shape] = declared_type(body.outputs[state_count + i]);
    if (!outputs[i].empty()) {
      dtype = outputs[i].front().dtype();
      shape = outputs[i].front().shape();
    }
    int64_t axis = i < output_axes.size() ? output_axes[i] : 0;
    axis = normalize_axis(axis, static_cast<int64_t>(shape.size()) + 1, context);
    final_values.push_back(stack(context, outputs[i], static_cast<size_t>(axis), dtype, shape));
  }
  return final_values;
}

void scan_kernel(KernelContext& context) {
  const ir::Graph& body = graph_attribute(context, "body");
  const int64_t scan_input_count = context.attribute_int("num_scan_inputs", -1);
  const bool has_sequence_lens = context.opset() < 9;  // opset 8: input 0 is sequence_lens, all inputs batched
  const size_t first = has_sequence_lens ? 1 : 0;
  const int64_t total = static_cast<int64_t>(context.input_count()) - static_cast<int64_t>(first);
  if (scan_input_count < 1 || scan_input_count > total) context.fail(ErrorKind::invalid_model, "Scan num_scan_inputs is invalid");
  const size_t state_count = static_cast<size_t>(total - scan_input_count);
  std::vector<Tensor> states, scan_inputs;
  for (size_t i = 0; i < static_cast<size_t>(total); ++i) {
    const Tensor& value = context.input(first + i);
    (i < state_count ? states : scan_inputs).push_back(value);
  }
  if (!has_sequence_lens) {
    std::vector<Tensor> results =
        run_scan(context, body, states, scan_inputs, context.attribute_ints("scan_input_axes"),
                 context.attribute_ints("scan_input_directions"), context.attribute_ints("scan_output_axes"),
                 context.attribute_ints("scan_output_directions"));
    for (size_t i = 0; i < context.output_count() && i < results.size(); ++i) context.set_output(i, results[i]);
    return;
  }
  // Opset 8: a leading batch axis on every input and output; run each batch entry separately.
  if (const Tensor* sequence_lens = context.optional_input(0)) {
    for (int64_t i = 0; i < sequence_lens->element_count(); ++i) {
      if (!scan_inputs.empty() && sequence_lens->value_as_int64(i) != scan_inputs[0].dim(1)) {
        context.unsupported("Scan (opset 8) with sequence_lens shorter than the sequence is not supported");
      }
    }
  }
  const int64_t batch = scan_inputs.empty() || scan_inputs[0].rank() < 2 ? 0 : scan_inputs[0].dim(0);
  if (batch == 0) context.unsupported("Scan (opset 8) with an empty batch is not supported");
  std::vector<int64_t> input_axes(scan_inputs.size(), 0);
  std::vector<std::vector<Tensor>> per_output;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> batch_states, batch_scans;
    for (const Tensor& state : states) batch_states.push_back(take_slice(state, 0, b));
    for (const Tensor& scan : scan_inputs) batch_scans.push_back(take_slice(scan, 0, b));
    std::vector<Tensor> results = run_scan(context, body, batch_states, batch_scans, input_axes,
                                           context.attribute_ints("directions"), {}, {});
    per_output.resize(results.size());
    for (size_t i = 0; i < results.size(); ++i) per_output[i].push_back(results[i]);
  }
  for (size_t i = 0; i < context.output_count() && i < per_output.size(); ++i) {
    context.set_output(i, stack(context, per_output[i], 0, per_output[i].front().dtype(), per_output[i].front().shape()));
  }
}

}  // namespace

void register_control_flow_kernels(KernelRegistry& registry) {
  registry.add("If", if_kernel);
  registry.add("Loop", loop_kernel);
  registry.add("Scan", scan_kernel, 8);
}

}  // namespace npukit::runtime::ref
