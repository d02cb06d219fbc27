#include "estimate/latency_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "npukit/dtype.h"

namespace npukit::estimate {

namespace {

// check marks a node "on the NPU but off its optimized path" with its own placement (a slow rule of the profile,
// e.g. Hailo's optimized-convolution table); the estimate reads it from the CheckResult instead of re-deriving rules.
bool off_optimized_path(const check::NodeVerdict& verdict) {
  return verdict.placement == check::Placement::accelerator_slow;
}

// Ops whose work splits across cores when the estimate uses several (targets.md 3.1: Conv, depthwise Conv, Add …
// are flagged multi-core; the rest run on one core).
bool splits_across_cores(LayerKind kind) {
  return kind == LayerKind::convolution || kind == LayerKind::depthwise_convolution || kind == LayerKind::elementwise;
}

struct LayerWork {
  double dense = 0, depthwise = 0, other = 0, memory_seconds = 0;
};

double compute_seconds(const LayerWork& work, const ModelParameters& parameters, double peak) {
  if (!(peak > 0)) return 0;
  return (work.dense + work.depthwise / parameters.depthwise_efficiency + work.other / parameters.other_op_efficiency) /
         (peak * parameters.efficiency);
}

// What one accelerator layer asks of the MAC array and of DRAM (parameter-free).
LayerWork layer_work(const LayerFeatures& layer, const TargetFacts& facts, int cores, bool slow_path, bool all_weights_on_chip) {
  LayerWork work;
  const double share = layer.alignment_share(static_cast<int64_t>(facts.channel_alignment.value));
  const double split = splits_across_cores(layer.kind) ? std::max(1, cores) : 1;
  const double slow = slow_path ? std::max(1e-3, facts.slow_path_efficiency.value) : 1.0;
  if (layer.kind == LayerKind::depthwise_convolution) {
    work.depthwise = layer.macs / share / split / slow;
  } else {
    work.dense = layer.macs / share / split / slow;
  }
  work.other = layer.other_operations / split / slow;
  const double bytes_per_element = facts.bytes_per_element.value;
  if (facts.dram_bytes_per_second.value > 0 && !layer.fused_into_producer) {
    const double weight_bytes = layer.weight_elements * bytes_per_element;
    const double activation_bytes = (layer.input_elements + layer.output_elements) * bytes_per_element;
    double bytes = all_weights_on_chip ? 0 : weight_bytes;
    if (activation_bytes + weight_bytes > facts.on_chip_bytes.value) bytes += activation_bytes;
    work.memory_seconds = bytes / facts.dram_bytes_per_second.value;
  }
  return work;
}

std::string format_number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string format_seconds_plain(double seconds) {
  char text[64];
  if (seconds >= 1) std::snprintf(text, sizeof text, "%.2f s", seconds);
  else if (seconds >= 1e-3) std::snprintf(text, sizeof text, "%.3g ms", seconds * 1e3);
  else std::snprintf(text, sizeof text, "%.3g us", seconds * 1e6);
  return text;
}

std::string format_bytes_plain(double bytes) {
  char text[64];
  if (bytes >= 1e9) std::snprintf(text, sizeof text, "%.1f GB", bytes / 1e9);
  else if (bytes >= 1e6) std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  else std::snprintf(text, sizeof text, "%.0f KB", bytes / 1e3);
  return text;
}

}  // namespace

Estimate estimate_latency(const ir::Graph& graph, const check::CheckResult& check, const std::vector<LayerFeatures>& layers,
                          const TargetFacts& facts, const ModelParameters& parameters, const HostCpuTimes& cpu_times,
                          const EstimateOptions& options) {
  Estimate estimate;
  estimate.target_id = check.target_id;
  estimate.target_name = check.target_name;
  estimate.accelerator = check.accelerator;
  estimate.fallback_device = check.fallback_device;
  estimate.facts = facts;
  estimate.parameters = parameters;
  estimate.cpu_times = cpu_times;
  estimate.pipelined = facts.pipelined;
  estimate.cores_used = options.cores > 0 ? options.cores : static_cast<int>(std::max(1.0, facts.cores_used.value));
  if (!facts.missing.empty()) {
    estimate.available = false;
    std::string names;
    for (const std::string& name : facts.missing) names += (names.empty() ? "" : ", ") + name;
    estimate.unavailable_reason = "the profile and the estimator's assumptions lack " + names;
    return estimate;
  }
  if (!check.compiles) {
    estimate.available = false;
    estimate.unavailable_reason = "the toolkit refuses the model (check: rejected nodes); patch it first";
    return estimate;
  }
  if (layers.size() != check.nodes.size()) {
    estimate.available = false;
    estimate.unavailable_reason = "internal: layer features and check verdicts disagree in count";
    return estimate;
  }
  // The assumptions this estimate stands on, in words.
  auto assumed = [&](const std::string& what, const Figure& figure, const std::string& shown) {
    if (figure.assumed) estimate.assumptions.push_back(what + " = " + shown + ": " + figure.origin);
  };
  assumed("peak INT8 TOPS", facts.tops_int8, format_number(facts.tops_int8.value));
  assumed("dense share of the TOPS figure", facts.dense_share_of_tops, format_number(facts.dense_share_of_tops.value));
  assumed("cores the TOPS covers", facts.cores_in_tops, format_number(facts.cores_in_tops.value));
  if (options.cores <= 0) assumed("cores used", facts.cores_used, format_number(facts.cores_used.value));
  assumed("on-chip memory", facts.on_chip_bytes, format_bytes_plain(facts.on_chip_bytes.value));
  assumed("DRAM bandwidth", facts.dram_bytes_per_second, format_bytes_plain(facts.dram_bytes_per_second.value) + "/s");
  assumed("channel alignment", facts.channel_alignment, format_number(facts.channel_alignment.value));
  assumed("bytes per element", facts.bytes_per_element, format_number(facts.bytes_per_element.value));
  if (facts.on_soc) {
    assumed("NPU<->CPU hand-over", facts.on_soc_transfer_seconds, format_seconds_plain(facts.on_soc_transfer_seconds.value));
  } else {
    assumed("link efficiency", facts.link_efficiency, format_number(facts.link_efficiency.value));
    assumed("link latency per transfer", facts.link_latency_seconds, format_seconds_plain(facts.link_latency_seconds.value));
  }
  if (facts.pipelined) estimate.assumptions.push_back("pipelined: " + facts.pipelined_reason);

  // Weights: do all of the accelerator's weights fit the on-chip memory?
  double accelerator_weight_bytes = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (check::on_accelerator(check.nodes[i].placement)) accelerator_weight_bytes += layers[i].weight_elements * facts.bytes_per_element.value;
  }
  const bool all_weights_on_chip = accelerator_weight_bytes <= facts.on_chip_bytes.value;
  const double peak = facts.peak_macs_per_second() / std::max(1.0, facts.cores_used.value);  // one core

  bool fallback_without_time = false, any_fallback = false;
  size_t unknown_shapes = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (check.nodes[i].placement != check::Placement::folded && !layers[i].shape_known) ++unknown_shapes;
  }
  if (unknown_shapes > 0) {
    estimate.notes.push_back(std::to_string(unknown_shapes) + " node(s) have unknown shapes: their work counts 0 and the estimate is a "
                             "lower bound (give --input-shape to fix the input size)");
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    const check::NodeVerdict& verdict = check.nodes[i];
    if (verdict.placement == check::Placement::folded) continue;
    LayerEstimate layer;
    layer.node_index = i;
    layer.name = verdict.name;
    layer.op_type = verdict.op_type;
    layer.on_accelerator = check::on_accelerator(verdict.placement);
    layer.device = layer.on_accelerator ? check.accelerator : check.fallback_device;
    if (layer.on_accelerator) {
      layer.slow_path = off_optimized_path(verdict);
      const LayerWork work = layer_work(layers[i], facts, estimate.cores_used, layer.slow_path, all_weights_on_chip);
      layer.compute_seconds = compute_seconds(work, parameters, peak);
      layer.memory_seconds = work.memory_seconds;
      // A dataflow (pipelined) chip runs every layer at once on its own part of the fabric: no per-layer hand-off.
      layer.overhead_seconds = facts.pipelined || layers[i].fused_into_producer ? 0 : parameters.layer_overhead_seconds;
      layer.seconds = std::max(layer.compute_seconds, layer.memory_seconds) + layer.overhead_seconds;
      layer.bound = layer.overhead_seconds > std::max(layer.compute_seconds, layer.memory_seconds) ? "overhead"
                    : layer.memory_seconds > layer.compute_seconds                                   ? "memory"
                                                                                                     : "compute";
      if (layer.memory_seconds > layer.compute_seconds) {
        estimate.memory_seconds += layer.memory_seconds;
      } else {
        estimate.compute_seconds += layer.compute_seconds;
      }
      estimate.overhead_seconds += layer.overhead_seconds;
    } else {
      any_fallback = true;
      auto measured = cpu_times.seconds_by_node.find(verdict.name);
      layer.cpu_time_measured = measured != cpu_times.seconds_by_node.end();
      if (layer.cpu_time_measured) layer.cpu_seconds = measured->second * facts.cpu_slowdown_vs_host.value;
      else fallback_without_time = true;
      layer.seconds = layer.cpu_seconds;
      layer.bound = "cpu";
      estimate.cpu_seconds += layer.cpu_seconds;
    }
    estimate.layers.push_back(std::move(layer));
  }
  if (any_fallback) {
    assumed("board CPU slowdown vs this host", facts.cpu_slowdown_vs_host, format_number(facts.cpu_slowdown_vs_host.value) + "x");
    estimate.notes.push_back("fallback nodes timed on this host: " + cpu_times.description);
    if (fallback_without_time) {
      estimate.notes.push_back(cpu_times.measured
                                   ? "some fallback nodes have no time of their own on this host (fused into a neighbour by the cpu backend): counted 0"
                                   : "fallback nodes not timed: their time is unknown and left out (the estimate is a lower bound)");
    }
  }

  // Segments, with one invoke overhead per accelerator segment.
  for (const check::Segment& segment : check.segments) {
    SegmentEstimate entry;
    entry.on_accelerator = segment.on_accelerator;
    entry.device = segment.device;
    entry.first_node = segment.first_node;
    entry.last_node = segment.last_node;
    entry.node_count = segment.node_count;
    for (const LayerEstimate& layer : estimate.layers) {
      if (layer.node_index >= segment.first_node && layer.node_index <= segment.last_node) entry.seconds += layer.seconds;
    }
    if (segment.on_accelerator) {
      entry.seconds += parameters.invoke_overhead_seconds;
      estimate.overhead_seconds += parameters.invoke_overhead_seconds;
    }
    estimate.segments.push_back(entry);
  }

  // Transfers at the accelerator's element size.
  std::map<std::string, const ir::Value*> values;
  for (const auto& value : graph.values()) values[value->name] = value.get();
  for (const check::Transfer& transfer : check.transfers) {
    TransferEstimate entry{transfer.value, transfer.from_device, transfer.to_device, 0, 0};
    auto value = values.find(transfer.value);
    const size_t element_size = value != values.end() && value->second->type.dtype != DType::undefined
                                    ? std::max<size_t>(1, dtype_size(value->second->type.dtype))
                                    : 4;
    if (transfer.bytes) entry.bytes = static_cast<double>(*transfer.bytes) / static_cast<double>(element_size) * facts.bytes_per_element.value;
    double fixed = 0;
    if (facts.on_soc) {
      fixed = facts.on_soc_transfer_seconds.value;
      entry.seconds = fixed + (facts.dram_bytes_per_second.value > 0 ? entry.bytes / facts.dram_bytes_per_second.value : 0);
    } else {
      // Streaming frames queue their transfers back to back: on a pipelined target only the bandwidth limits.
      fixed = facts.pipelined ? 0 : facts.link_latency_seconds.value;
      entry.seconds = fixed + entry.bytes / (facts.link_bytes_per_second.value * facts.link_efficiency.value);
    }
    estimate.link_fixed_seconds += fixed;
    estimate.link_seconds += entry.seconds;
    estimate.transfers.push_back(entry);
  }
  if (facts.stream_weights_over_link && !all_weights_on_chip && !facts.on_soc) {
    estimate.streamed_weight_bytes = accelerator_weight_bytes - facts.on_chip_bytes.value;
    estimate.link_seconds += estimate.streamed_weight_bytes / (facts.link_bytes_per_second.value * facts.link_efficiency.value);
    estimate.notes.push_back(format_bytes_plain(estimate.streamed_weight_bytes) + " of weights do not fit the " +
                             format_bytes_plain(facts.on_chip_bytes.value) + " on-chip memory and cross the link every frame");
  }

  const double accelerator_total = estimate.compute_seconds + estimate.memory_seconds + estimate.overhead_seconds;
  if (facts.pipelined) {
    // Consecutive frames overlap: the frame takes the slowest of the stages, plus the per-frame invoke cost.
    const double invoke = parameters.invoke_overhead_seconds * static_cast<double>(std::count_if(
                              estimate.segments.begin(), estimate.segments.end(), [](const SegmentEstimate& s) { return s.on_accelerator; }));
    estimate.seconds = std::max({accelerator_total - invoke, estimate.link_seconds, estimate.cpu_seconds}) + invoke;
  } else {
    estimate.seconds = accelerator_total + estimate.link_seconds + estimate.cpu_seconds;
  }
  const std::vector<std::pair<std::string, double>> parts = {{"compute", estimate.compute_seconds},
                                                             {"memory", estimate.memory_seconds},
                                                             {"overhead", estimate.overhead_seconds},
                                                             {"link", estimate.link_seconds},
                                                             {"cpu", estimate.cpu_seconds}};
  estimate.bottleneck = std::max_element(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.second < b.second; })->first;
  return estimate;
}

ErrorBand error_band(const FittedParameters& fitted, const std::string& target_id, double seconds) {
  ErrorBand band;
  if (!fitted.present) {
    band.basis = "no fit (run npukit estimate --fit): no error band";
    band.low_seconds = band.high_seconds = seconds;
    return band;
  }
  const ErrorSummary* summary = &fitted.leave_one_out_error;
  auto own = fitted.leave_one_out_by_target.find(target_id);
  if (own != fitted.leave_one_out_by_target.end() && own->second.count >= 2) {
    summary = &own->second;
    band.basis = "leave-one-out on " + std::to_string(summary->count) + " published " + target_id + " figures";
  } else {
    band.basis = "leave-one-out on all " + std::to_string(summary->count) + " published figures (" +
                 (own == fitted.leave_one_out_by_target.end() ? "none" : "fewer than two") + " for " + target_id + ")";
  }
  band.points = summary->count;
  band.typical_error = summary->median_error;
  band.low_seconds = seconds * std::exp(std::min(0.0, summary->min_signed_log));
  band.high_seconds = seconds * std::exp(std::max(0.0, summary->max_signed_log));
  return band;
}

CompactEstimate compact_estimate(const Estimate& estimate, const std::vector<LayerFeatures>& layers, const check::CheckResult& check) {
  CompactEstimate compact;
  const TargetFacts& facts = estimate.facts;
  compact.peak_macs_per_second = facts.peak_macs_per_second() / std::max(1.0, facts.cores_used.value);
  compact.pipelined = estimate.pipelined;
  compact.family = facts.family;
  compact.link_seconds = estimate.link_seconds;
  compact.link_fixed_seconds = estimate.link_fixed_seconds;
  compact.cpu_seconds = estimate.cpu_seconds;
  compact.fixed_seconds = estimate.link_seconds + estimate.cpu_seconds;
  double accelerator_weight_bytes = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (check::on_accelerator(check.nodes[i].placement)) accelerator_weight_bytes += layers[i].weight_elements * facts.bytes_per_element.value;
  }
  const bool all_weights_on_chip = accelerator_weight_bytes <= facts.on_chip_bytes.value;
  for (const LayerEstimate& layer : estimate.layers) {
    if (!layer.on_accelerator) continue;
    const LayerWork work = layer_work(layers[layer.node_index], facts, estimate.cores_used, layer.slow_path, all_weights_on_chip);
    compact.layers.push_back({work.dense, work.depthwise, work.other, work.memory_seconds, layers[layer.node_index].fused_into_producer});
  }
  for (const SegmentEstimate& segment : estimate.segments) compact.accelerator_segments += segment.on_accelerator ? 1 : 0;
  return compact;
}

double predict_seconds(const CompactEstimate& compact, const ModelParameters& parameters, int batch) {
  const double images = static_cast<double>(std::max(1, batch));
  const double invoke = static_cast<double>(compact.accelerator_segments) * parameters.invoke_overhead_seconds / images;
  const double layer_overhead = compact.pipelined ? 0 : parameters.layer_overhead_seconds / images;
  double accelerator = 0;
  for (const CompactEstimate::Layer& layer : compact.layers) {
    const LayerWork work{layer.dense_work, layer.depthwise_work, layer.other_work, layer.memory_seconds};
    accelerator += std::max(compute_seconds(work, parameters, compact.peak_macs_per_second), layer.memory_seconds) +
                   (layer.fused ? 0 : layer_overhead);
  }
  const double link = compact.link_seconds - compact.link_fixed_seconds * (1 - 1 / images);
  if (compact.pipelined) return std::max({accelerator, link, compact.cpu_seconds}) + invoke;
  return accelerator + invoke + compact.fixed_seconds - (compact.link_seconds - link);
}

}  // namespace npukit::estimate
