#include "estimate/estimate_json.h"

#include <cmath>

namespace npukit::estimate {

namespace {

double ms(double seconds) { return seconds * 1e3; }

nlohmann::json figure_json(const Figure& figure) {
  return {{"value", figure.value}, {"assumed", figure.assumed}, {"origin", figure.origin}};
}

nlohmann::json summary_json(const ErrorSummary& summary) {
  return {{"count", summary.count}, {"median_error", summary.median_error}, {"max_ratio", summary.max_ratio}};
}

}  // namespace

nlohmann::json estimate_json(const Estimate& estimate, bool every_layer) {
  nlohmann::json json;
  json["target"] = estimate.target_id;
  json["target_name"] = estimate.target_name;
  json["available"] = estimate.available;
  if (!estimate.available) {
    json["reason"] = estimate.unavailable_reason;
    json["latency_ms"] = nullptr;
    return json;
  }
  json["latency_ms"] = ms(estimate.seconds);
  json["fps"] = estimate.fps();
  json["pipelined"] = estimate.pipelined;
  json["figure_is"] = estimate.pipelined ? "time per frame at full throughput (pipelined device)" : "single-frame latency";
  json["cores_used"] = estimate.cores_used;
  json["bottleneck"] = estimate.bottleneck;
  json["breakdown_ms"] = {{"compute", ms(estimate.compute_seconds)}, {"memory", ms(estimate.memory_seconds)},
                          {"overhead", ms(estimate.overhead_seconds)}, {"link", ms(estimate.link_seconds)},
                          {"cpu", ms(estimate.cpu_seconds)}};
  json["error_band"] = {{"low_ms", ms(estimate.band.low_seconds)}, {"high_ms", ms(estimate.band.high_seconds)},
                        {"typical_error", estimate.band.typical_error}, {"points", estimate.band.points},
                        {"basis", estimate.band.basis}};
  json["parameters"] = {{"efficiency", estimate.parameters.efficiency},
                        {"layer_overhead_us", estimate.parameters.layer_overhead_seconds * 1e6},
                        {"depthwise_efficiency", estimate.parameters.depthwise_efficiency},
                        {"other_op_efficiency", estimate.parameters.other_op_efficiency},
                        {"invoke_overhead_us", estimate.parameters.invoke_overhead_seconds * 1e6}};
  const TargetFacts& facts = estimate.facts;
  json["facts"] = {{"tops_int8", figure_json(facts.tops_int8)},
                   {"dense_share_of_tops", figure_json(facts.dense_share_of_tops)},
                   {"architecture_family", facts.family.empty() ? nlohmann::json(nullptr) : nlohmann::json(facts.family)},
                   {"cores_in_tops", figure_json(facts.cores_in_tops)},
                   {"on_chip_bytes", figure_json(facts.on_chip_bytes)},
                   {"dram_bytes_per_second", figure_json(facts.dram_bytes_per_second)},
                   {"link_bytes_per_second", figure_json(facts.link_bytes_per_second)},
                   {"link", facts.link_name},
                   {"channel_alignment", figure_json(facts.channel_alignment)},
                   {"cpu_slowdown_vs_host", figure_json(facts.cpu_slowdown_vs_host)}};
  json["assumptions"] = estimate.assumptions;
  json["notes"] = estimate.notes;
  json["cpu_timing"] = {{"measured", estimate.cpu_times.measured}, {"description", estimate.cpu_times.description}};
  json["segments"] = nlohmann::json::array();
  for (const SegmentEstimate& segment : estimate.segments) {
    json["segments"].push_back({{"device", segment.device}, {"on_accelerator", segment.on_accelerator},
                                {"first_node", segment.first_node}, {"last_node", segment.last_node},
                                {"nodes", segment.node_count}, {"ms", ms(segment.seconds)}});
  }
  json["transfers"] = nlohmann::json::array();
  for (const TransferEstimate& transfer : estimate.transfers) {
    json["transfers"].push_back({{"value", transfer.value}, {"from", transfer.from_device}, {"to", transfer.to_device},
                                 {"bytes", transfer.bytes}, {"ms", ms(transfer.seconds)}});
  }
  if (estimate.streamed_weight_bytes > 0) json["streamed_weight_bytes"] = estimate.streamed_weight_bytes;
  if (every_layer) {
    json["layers"] = nlohmann::json::array();
    for (const LayerEstimate& layer : estimate.layers) {
      nlohmann::json entry = {{"node", layer.name}, {"op_type", layer.op_type}, {"device", layer.device},
                              {"ms", ms(layer.seconds)}, {"bound", layer.bound}};
      if (layer.on_accelerator) {
        entry["compute_ms"] = ms(layer.compute_seconds);
        entry["memory_ms"] = ms(layer.memory_seconds);
        entry["overhead_ms"] = ms(layer.overhead_seconds);
        if (layer.slow_path) entry["off_optimized_path"] = true;
      } else {
        entry["cpu_time_measured"] = layer.cpu_time_measured;
      }
      json["layers"].push_back(entry);
    }
  }
  return json;
}

nlohmann::json fit_quality_json(const FittedParameters& fitted) {
  nlohmann::json json;
  json["present"] = fitted.present;
  if (!fitted.present) return json;
  json["provenance"] = fitted.provenance;
  json["fit_error"] = summary_json(fitted.fit_error);
  json["leave_one_out_error"] = summary_json(fitted.leave_one_out_error);
  if (fitted.nested_leave_one_out_error.count > 0) {
    json["nested_leave_one_out_error"] = summary_json(fitted.nested_leave_one_out_error);
    json["nested_leave_one_out_error"]["shrinkage_candidates"] = fitted.shrinkage_candidates;
    json["nested_leave_one_out_error"]["chosen"] = fitted.nested_choices;
  }
  json["shrinkage"] = fitted.shrinkage;
  // The bar is judged on the honest figure: nested leave-one-out when computed.
  const ErrorSummary& judged = fitted.nested_leave_one_out_error.count > 0 ? fitted.nested_leave_one_out_error : fitted.leave_one_out_error;
  json["bar"] = {{"median_error_at_most", 0.25}, {"max_ratio_at_most", 2.0},
                 {"judged_on", fitted.nested_leave_one_out_error.count > 0 ? "nested leave-one-out" : "leave-one-out"},
                 {"met", judged.median_error <= 0.25 && judged.max_ratio <= 2.0}};
  json["points"] = nlohmann::json::array();
  for (const PointResult& point : fitted.points) {
    json["points"].push_back({{"target", point.point.target}, {"model", point.point.model},
                              {"published_ms", point.point.milliseconds}, {"fitted_ms", point.fitted_milliseconds},
                              {"leave_one_out_ms", point.leave_one_out_milliseconds}, {"source", point.point.source}});
  }
  json["excluded"] = fitted.excluded;
  return json;
}

}  // namespace npukit::estimate
