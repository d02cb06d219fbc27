#include "report_html/estimate_sections.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace npukit::report_html {

const std::vector<std::string> time_category_colors = {"#2f6fb0", "#e07b39", "#8c8c8c", "#3a9d5d", "#c0392b"};
const char* const estimate_bar_color = "#2f6fb0";

namespace {

std::string ms_text(double seconds) {
  char text[32];
  const double ms = seconds * 1e3;
  std::snprintf(text, sizeof text, ms >= 100 ? "%.0f ms" : ms >= 10 ? "%.1f ms" : "%.3g ms", ms);
  return text;
}

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f%%", share * 100);
  return text;
}

std::string ratio(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2fx", value);
  return text;
}

const std::vector<std::string> categories = {"compute", "memory", "overhead", "link", "CPU"};

Section latency_section(const std::vector<estimate::Estimate>& estimates) {
  Section section{"Latency per target", {}};
  BarChart chart{"Estimated latency per target, whiskers: leave-one-out error band", "ms", {}, false};
  TableBlock data{{"target", "latency", "FPS", "band low", "band high", "typical error", "bottleneck", "figure is"}, {},
                  {false, true, true, true, true, true, false, false}};
  double smallest = 0, largest = 0;
  for (const estimate::Estimate& estimate : estimates) {
    if (!estimate.available) {
      data.rows.push_back({estimate.target_id, "unknown", "", "", "", "", estimate.unavailable_reason, ""});
      continue;
    }
    Bar bar;
    bar.label = estimate.target_id;
    bar.value = estimate.seconds * 1e3;
    bar.low = estimate.band.points ? estimate.band.low_seconds * 1e3 : 0;
    bar.high = estimate.band.points ? estimate.band.high_seconds * 1e3 : 0;
    bar.color = estimate_bar_color;
    char fps[32];
    std::snprintf(fps, sizeof fps, "%.4g", estimate.fps());
    bar.annotation = ms_text(estimate.seconds) + ", " + fps + " FPS";
    chart.bars.push_back(bar);
    smallest = smallest > 0 ? std::min(smallest, bar.value) : bar.value;
    largest = std::max(largest, bar.value);
    data.rows.push_back({estimate.target_id, ms_text(estimate.seconds), fps,
                         estimate.band.points ? ms_text(estimate.band.low_seconds) : "unknown",
                         estimate.band.points ? ms_text(estimate.band.high_seconds) : "unknown",
                         estimate.band.points ? percent(estimate.band.typical_error) : "unknown", estimate.bottleneck,
                         estimate.pipelined ? "time per frame at throughput (pipelined)" : "latency"});
  }
  chart.logarithmic = smallest > 0 && largest / smallest > 30;
  section.blocks.push_back(Paragraph{"INT8, batch 1, the graph as given (no image pre-processing or NMS outside it). The band's ends are the estimate times "
                                     "the lowest and highest published/predicted ratio seen when each published figure was "
                                     "predicted by a fit that had not seen it (leave-one-out)."});
  if (!chart.bars.empty()) section.blocks.push_back(Chart{render_svg(chart), data});
  else section.blocks.push_back(data);
  return section;
}

Section breakdown_section(const std::vector<estimate::Estimate>& estimates) {
  Section section{"Where the time goes", {}};
  StackedBarChart chart{"Time per target by kind", "ms", categories, time_category_colors, {}};
  TableBlock data{{"target", "compute", "memory", "overhead", "link", "CPU", "bottleneck"}, {}, {false, true, true, true, true, true, false}};
  for (const estimate::Estimate& estimate : estimates) {
    if (!estimate.available) continue;
    const std::vector<double> values = {estimate.compute_seconds * 1e3, estimate.memory_seconds * 1e3, estimate.overhead_seconds * 1e3,
                                        estimate.link_seconds * 1e3, estimate.cpu_seconds * 1e3};
    chart.bars.push_back({estimate.target_id, values});
    data.rows.push_back({estimate.target_id, ms_text(estimate.compute_seconds), ms_text(estimate.memory_seconds),
                         ms_text(estimate.overhead_seconds), ms_text(estimate.link_seconds), ms_text(estimate.cpu_seconds),
                         estimate.bottleneck});
  }
  section.blocks.push_back(Paragraph{"compute: MACs against the peak at the fitted efficiency; memory: DRAM traffic where it is "
                                     "slower than compute; overhead: per layer and per accelerator call; link: model inputs, "
                                     "outputs and every NPU/CPU hand-over; CPU: fallback nodes timed on this host and scaled. "
                                     "On a pipelined target the parts overlap and the frame takes the largest."});
  if (!chart.bars.empty()) section.blocks.push_back(Chart{render_svg(chart), data});
  return section;
}

Section segments_section(const std::vector<estimate::Estimate>& estimates) {
  Section section{"Segments", {}};
  TableBlock table{{"target", "#", "device", "nodes", "time", "share"}, {}, {false, true, false, true, true, true}};
  for (const estimate::Estimate& estimate : estimates) {
    if (!estimate.available) continue;
    size_t index = 0;
    for (const estimate::SegmentEstimate& segment : estimate.segments) {
      table.rows.push_back({estimate.target_id, std::to_string(++index), segment.device, std::to_string(segment.node_count),
                            ms_text(segment.seconds), estimate.seconds > 0 ? percent(segment.seconds / estimate.seconds) : "-"});
    }
  }
  section.blocks.push_back(table);
  return section;
}

Section layers_section(const estimate::Estimate& estimate, size_t slowest_layers) {
  Section section{"Slowest layers on " + estimate.target_id, {}};
  std::vector<const estimate::LayerEstimate*> layers;
  for (const estimate::LayerEstimate& layer : estimate.layers) layers.push_back(&layer);
  std::stable_sort(layers.begin(), layers.end(), [](const auto* a, const auto* b) { return a->seconds > b->seconds; });
  if (layers.size() > slowest_layers) layers.resize(slowest_layers);
  BarChart chart{"Per-layer time on " + estimate.target_id + " (colour: what bounds the layer)", "ms", {}, false};
  TableBlock data{{"node", "op", "device", "time", "compute", "memory", "bound"}, {}, {false, false, false, true, true, true, false}};
  for (const estimate::LayerEstimate* layer : layers) {
    Bar bar;
    bar.label = layer->name.size() > 30 ? layer->name.substr(0, 13) + "..." + layer->name.substr(layer->name.size() - 14) : layer->name;
    bar.value = layer->seconds * 1e3;
    bar.color = layer->bound == "compute" ? time_category_colors[0]
                : layer->bound == "memory" ? time_category_colors[1]
                : layer->bound == "overhead" ? time_category_colors[2]
                                             : time_category_colors[4];
    bar.annotation = ms_text(layer->seconds) + " " + layer->op_type + ", " + layer->bound;
    chart.bars.push_back(bar);
    data.rows.push_back({layer->name, layer->op_type, layer->device, ms_text(layer->seconds),
                         layer->on_accelerator ? ms_text(layer->compute_seconds) : "-",
                         layer->on_accelerator ? ms_text(layer->memory_seconds) : "-", layer->bound});
  }
  if (!chart.bars.empty()) section.blocks.push_back(Chart{render_svg(chart), data});
  return section;
}

Section fit_section(const estimate::FittedParameters& fitted) {
  Section section{"How good is the estimate", {}};
  if (!fitted.present) {
    section.blocks.push_back(Paragraph{"No fitted parameters: the estimate uses starting values and has no error band."});
    return section;
  }
  const bool nested = fitted.nested_leave_one_out_error.count > 0;
  const estimate::ErrorSummary& judged = nested ? fitted.nested_leave_one_out_error : fitted.leave_one_out_error;
  const bool met = judged.median_error <= 0.25 && judged.max_ratio <= 2.0;
  section.blocks.push_back(Paragraph{
      "Fitted on " + std::to_string(fitted.points.size()) + " published figures: fit median error " +
      percent(fitted.fit_error.median_error) + " (worst " + ratio(fitted.fit_error.max_ratio) + "); leave-one-out median error " +
      percent(fitted.leave_one_out_error.median_error) + " (worst " + ratio(fitted.leave_one_out_error.max_ratio) + ")" +
      (nested ? "; nested leave-one-out (shrinkage chosen inside each fold) median error " + percent(judged.median_error) + " (worst " +
                    ratio(judged.max_ratio) + ")"
              : std::string()) +
      ". Bar (" + (nested ? "nested " : "") + "leave-one-out median <= 25%, none off by more than 2x): " + (met ? "met." : "not met.")});
  BarChart chart{"Leave-one-out prediction / published figure (1 = exact; grey: held out, never fitted)", "ratio", {}, true, 1.0};
  TableBlock data{{"target", "published model", "published", "fitted", "leave-one-out", "ratio", "source"}, {},
                  {false, false, true, true, true, true, false}};
  for (const estimate::PointResult& point : fitted.points) {
    const double r = point.leave_one_out_milliseconds / point.point.milliseconds;
    Bar bar;
    bar.label = point.point.target + " " + std::filesystem::path(point.point.model).stem().string();
    bar.value = r;
    bar.color = r > 2 || r < 0.5 ? "#c0392b" : "#3a9d5d";
    bar.annotation = ratio(r);
    chart.bars.push_back(bar);
    data.rows.push_back({point.point.target, point.point.published_model, ms_text(point.point.milliseconds * 1e-3),
                         ms_text(point.fitted_milliseconds * 1e-3), ms_text(point.leave_one_out_milliseconds * 1e-3), ratio(r),
                         point.point.source});
  }
  for (const estimate::PointResult& point : fitted.held_out_points) {
    const double r = point.fitted_milliseconds / point.point.milliseconds;
    chart.bars.push_back({point.point.target + " " + std::filesystem::path(point.point.model).stem().string() + " (held out)", r, 0, 0,
                          "#8c8c8c", ratio(r)});
    data.rows.push_back({point.point.target + " (held out)", point.point.published_model, ms_text(point.point.milliseconds * 1e-3), "-",
                         ms_text(point.fitted_milliseconds * 1e-3), ratio(r), point.point.source + "; " + point.point.held_out_reason});
  }
  section.blocks.push_back(Chart{render_svg(chart), data});
  if (!fitted.excluded.empty()) section.blocks.push_back(BulletList{fitted.excluded});
  section.blocks.push_back(Paragraph{fitted.provenance});
  return section;
}

Section assumptions_section(const std::vector<estimate::Estimate>& estimates) {
  Section section{"Assumptions (facts not in the target profiles)", {}};
  for (const estimate::Estimate& estimate : estimates) {
    if (!estimate.available) continue;
    std::vector<std::string> items = estimate.assumptions;
    for (const std::string& note : estimate.notes) items.push_back("note: " + note);
    if (items.empty()) continue;
    section.blocks.push_back(Paragraph{estimate.target_id + ":"});
    section.blocks.push_back(BulletList{items});
  }
  return section;
}

}  // namespace

std::vector<Section> estimate_sections(const std::vector<estimate::Estimate>& estimates, const estimate::FittedParameters& fitted,
                                       size_t slowest_layers) {
  std::vector<Section> sections = {latency_section(estimates), breakdown_section(estimates), segments_section(estimates)};
  size_t layer_sections = 0;
  for (const estimate::Estimate& estimate : estimates) {
    if (!estimate.available || layer_sections == 3) continue;  // three targets' layers keep the page readable
    sections.push_back(layers_section(estimate, slowest_layers));
    ++layer_sections;
  }
  sections.push_back(fit_section(fitted));
  sections.push_back(assumptions_section(estimates));
  return sections;
}

void write_estimate_report(const std::string& path, const std::string& model, const std::vector<estimate::Estimate>& estimates,
                           const estimate::FittedParameters& fitted) {
  Report report("npukit estimate: " + model, "Latency estimates per target board, with the error band from published figures");
  for (Section& section : estimate_sections(estimates, fitted)) report.add_section(std::move(section));
  write_report(report, path);
}

}  // namespace npukit::report_html
