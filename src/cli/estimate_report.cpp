#include "cli/estimate_report.h"

#include <algorithm>

#include "cli/progress.h"
#include "cli/table.h"
#include "estimate/host_cpu_timing.h"
#include "estimate/model_estimate.h"
#include "preparation/model_preparation.h"

namespace npukit::cli {

namespace {

std::string band_text(const estimate::Estimate& estimate) {
  if (estimate.band.points == 0) return "unknown (no fit)";
  return format_seconds(estimate.band.low_seconds) + " - " + format_seconds(estimate.band.high_seconds);
}

std::string share(double part, double total) { return total > 0 ? format_percent(part / total) : "-"; }

}  // namespace

std::string fit_quality_line(const estimate::FittedParameters& fitted) {
  if (!fitted.present) return "no fitted parameters: the estimate uses starting values and has no error band (run npukit estimate --fit)";
  return "fitted on " + std::to_string(fitted.points.size()) + " published figures: fit median error " +
         format_percent(fitted.fit_error.median_error) + " (worst " + format_number(fitted.fit_error.max_ratio, 3) +
         "x), leave-one-out median error " + format_percent(fitted.leave_one_out_error.median_error) + " (worst " +
         format_number(fitted.leave_one_out_error.max_ratio, 3) + "x)" +
         (fitted.nested_leave_one_out_error.count > 0
              ? ", nested leave-one-out median error " + format_percent(fitted.nested_leave_one_out_error.median_error) + " (worst " +
                    format_number(fitted.nested_leave_one_out_error.max_ratio, 3) + "x)"
              : std::string());
}

void print_estimate_summary(std::ostream& out, const std::vector<estimate::Estimate>& estimates) {
  Table table({{"target"}, {"latency", Align::right}, {"FPS", Align::right}, {"band (leave-one-out)", Align::right},
               {"typical error", Align::right}, {"bottleneck"}, {"compute", Align::right}, {"memory", Align::right},
               {"overhead", Align::right}, {"link", Align::right}, {"CPU", Align::right}});
  for (const estimate::Estimate& estimate : estimates) {
    if (!estimate.available) {
      table.add_row({estimate.target_id, "unknown", "unknown", "", "", estimate.unavailable_reason});
      continue;
    }
    const double total = estimate.compute_seconds + estimate.memory_seconds + estimate.overhead_seconds +
                         estimate.link_seconds + estimate.cpu_seconds;
    table.add_row({estimate.target_id + (estimate.pipelined ? " *" : ""), format_seconds(estimate.seconds),
                   format_number(estimate.fps(), 4), band_text(estimate),
                   estimate.band.points ? format_percent(estimate.band.typical_error) : "unknown", estimate.bottleneck,
                   share(estimate.compute_seconds, total), share(estimate.memory_seconds, total),
                   share(estimate.overhead_seconds, total), share(estimate.link_seconds, total),
                   share(estimate.cpu_seconds, total)});
  }
  table.print(out);
  bool any_pipelined = false;
  for (const estimate::Estimate& estimate : estimates) any_pipelined = any_pipelined || (estimate.available && estimate.pipelined);
  if (any_pipelined) out << "* pipelined (dataflow) device: time per frame at full throughput, not single-frame latency\n";
}

void print_estimate_details(std::ostream& out, const estimate::Estimate& estimate, size_t slowest_layers) {
  if (!estimate.available) return;
  out << "\nsegments on " << estimate.target_id << ":\n";
  Table segments({{"#", Align::right}, {"device"}, {"nodes", Align::right}, {"time", Align::right}, {"share", Align::right}});
  size_t index = 0;
  for (const estimate::SegmentEstimate& segment : estimate.segments) {
    segments.add_row({std::to_string(++index), segment.device, std::to_string(segment.node_count),
                      format_seconds(segment.seconds), share(segment.seconds, estimate.seconds)});
  }
  segments.print(out, 2);
  if (!estimate.transfers.empty()) {
    double bytes = 0, seconds = 0;
    for (const estimate::TransferEstimate& transfer : estimate.transfers) bytes += transfer.bytes, seconds += transfer.seconds;
    out << "\ntransfers: " << estimate.transfers.size() << " (" << format_bytes(bytes) << ", " << format_seconds(seconds)
        << ") over " << estimate.facts.link_name << "\n";
  }
  std::vector<const estimate::LayerEstimate*> layers;
  for (const estimate::LayerEstimate& layer : estimate.layers) layers.push_back(&layer);
  std::stable_sort(layers.begin(), layers.end(), [](const auto* a, const auto* b) { return a->seconds > b->seconds; });
  if (layers.size() > slowest_layers) layers.resize(slowest_layers);
  out << "\nslowest layers (of " << estimate.layers.size() << "; --layers N shows more, --json all):\n";
  Table table({{"node"}, {"op"}, {"device"}, {"time", Align::right}, {"compute", Align::right}, {"memory", Align::right}, {"bound"}});
  for (const estimate::LayerEstimate* layer : layers) {
    table.add_row({layer->name, layer->op_type, layer->device, format_seconds(layer->seconds),
                   layer->on_accelerator ? format_seconds(layer->compute_seconds) : "-",
                   layer->on_accelerator ? format_seconds(layer->memory_seconds) : "-",
                   layer->bound + (layer->on_accelerator || layer->cpu_time_measured ? "" : " (not timed)")});
  }
  table.print(out, 2);
  out << "\nparameters (fitted): efficiency " << format_percent(estimate.parameters.efficiency) << ", layer overhead "
      << format_seconds(estimate.parameters.layer_overhead_seconds) << ", depthwise "
      << format_percent(estimate.parameters.depthwise_efficiency)
      << (estimate.facts.family.empty() ? "" : " (" + estimate.facts.family + " family)") << ", other ops "
      << format_percent(estimate.parameters.other_op_efficiency) << ", invoke "
      << format_seconds(estimate.parameters.invoke_overhead_seconds) << "\n";
  out << "error band: " << estimate.band.basis << "\n";
  if (!estimate.assumptions.empty()) {
    out << "\nassumed (not in the profile):\n";
    for (const std::string& assumption : estimate.assumptions) out << "  - " << assumption << "\n";
  }
  if (!estimate.notes.empty()) {
    out << "\nnotes:\n";
    for (const std::string& note : estimate.notes) out << "  - " << note << "\n";
  }
}

std::vector<estimate::Estimate> estimates_for_checks(const ir::Model& model, const std::vector<check::CheckResult>& checks,
                                                     const std::vector<targets::TargetProfile>& profiles) {
  preparation::require_static_inputs(model, "check --estimate");  // no latency at an unknown input size
  bool any_fallback = false;
  for (const check::CheckResult& check : checks) any_fallback = any_fallback || estimate::has_fallback_nodes(check);
  estimate::HostCpuTimes cpu_times;
  cpu_times.description = "not needed: no node falls back";
  if (any_fallback) {
    Progress progress("timing fallback nodes on this host", 4);
    cpu_times = estimate::time_nodes_on_host(model, 3, 1, [&progress](int done, int) { progress.update(done); });
  }
  std::vector<estimate::Estimate> estimates;
  for (size_t i = 0; i < checks.size() && i < profiles.size(); ++i) {
    estimates.push_back(estimate::estimate_model(model, checks[i], profiles[i], cpu_times));
  }
  return estimates;
}

}  // namespace npukit::cli
