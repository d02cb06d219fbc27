#include "report/check_report.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "report/preparation_report.h"
#include "report/table.h"

namespace npukit::report {

namespace {

using check::CheckResult;
using check::NodeVerdict;
using check::Placement;

const char* kGreen = "\033[32m";
const char* kYellow = "\033[33m";
const char* kRed = "\033[31m";
const char* kReset = "\033[0m";

// "patch: decompose-gelu"; an npu-slow node's rewrite runs only with --optimized-path, which the text says.
std::string patch_text(const NodeVerdict& node, const std::string& command) {
  if (node.placement == Placement::accelerator_slow) return command + " --optimized-path: " + node.patch;
  return command + ": " + node.patch;
}

std::string node_label(const NodeVerdict& node) {
  return node.name.empty() ? "#" + std::to_string(node.index) : node.name;
}

// Profiles name their accelerator and fallback device ("NPU", "CPU"); a target whose profile has no fallback
// device ("none": an op it lacks cannot run at all) gets no "nodes on the none" line.
bool has_fallback_device(const CheckResult& result) {
  return result.fallback_policy != "none" && !result.fallback_device.empty() && result.fallback_device != "none";
}

std::string accelerator_name(const CheckResult& result) {
  return result.accelerator.empty() ? std::string("accelerator") : result.accelerator;
}

// Where NMS runs is a fact of the target that matters only to a model that ends in detection
// post-processing (a YOLO head, or an NMS node of its own): a speech model gets no NMS line.
bool has_detection_postprocess(const CheckResult& result) {
  if (result.has_yolo_postprocess) return true;
  return std::any_of(result.nodes.begin(), result.nodes.end(),
                     [](const NodeVerdict& node) { return node.op_type == "NonMaxSuppression"; });
}

std::string mac_share_text(const CheckResult& result) {
  if (!result.macs_known && result.macs_total == 0) return "unknown (shapes unknown)";
  std::string text = format_percent(result.accelerator_mac_share());
  if (!result.macs_known) text += " (some shapes unknown)";
  return text;
}

std::string transfers_text(const CheckResult& result) {
  return std::to_string(result.transfers.size()) + " (" +
         (result.transfer_bytes_known ? format_bytes(static_cast<double>(result.transfer_bytes)) : "size unknown") + ")";
}

// Colors the placement words of a rendered table. The table is aligned on the plain text first, so the
// escape codes added afterwards cannot shift the columns.
std::string colorize(const std::string& rendered, const CheckResult& result) {
  struct Painted {
    std::string word;
    const char* color;
  };
  const std::vector<Painted> words = {
      {placement_label(result, Placement::accelerator_with_condition), kYellow},
      {placement_label(result, Placement::accelerator_slow), kYellow},
      {placement_label(result, Placement::fallback_after_first), kRed},
      {placement_label(result, Placement::fallback), kRed},
      {placement_label(result, Placement::rejected), kRed},
      {placement_label(result, Placement::unverified), kYellow},
  };
  std::istringstream lines(rendered);
  std::string line, output;
  while (std::getline(lines, line)) {
    for (const Painted& painted : words) {
      size_t at = line.find("  " + painted.word + " ");
      if (at == std::string::npos && line.size() >= painted.word.size() &&
          line.compare(line.size() - painted.word.size(), painted.word.size(), painted.word) == 0) {
        at = line.size() - painted.word.size() - 2;
      }
      if (at != std::string::npos) {
        line.insert(at + 2 + painted.word.size(), kReset);
        line.insert(at + 2, painted.color);
        break;
      }
    }
    output += line + "\n";
  }
  return output;
}

void print_table(std::ostream& out, const Table& table, const CheckResult& result, bool color, size_t width = 72) {
  std::ostringstream rendered;
  table.print(rendered, 2, width);
  out << (color ? colorize(rendered.str(), result) : rendered.str());
}

}  // namespace

std::string placement_label(const CheckResult& result, Placement placement) {
  switch (placement) {
    case Placement::accelerator: return accelerator_name(result);
    case Placement::accelerator_with_condition: return accelerator_name(result) + "+cond";
    case Placement::accelerator_slow: return accelerator_name(result) + "-slow";
    case Placement::unverified: return "unverified";
    case Placement::fallback: return result.fallback_device;
    case Placement::fallback_after_first: return result.fallback_device + " (after)";
    case Placement::rejected: return "rejected";
    case Placement::folded: return "folded";
  }
  return accelerator_name(result);
}

void print_check_report(std::ostream& out, const CheckResult& result, const std::string& model,
                        const CheckReportOptions& options) {
  out << "model     " << model << "\n";
  out << "target    " << result.target_id << "  (" << result.target_name << ")\n\n";

  Table nodes({{"#", Align::right}, {"node"}, {"op"}, {"MACs", Align::right}, {"placement"}, {"why"}, {"fix"}});
  size_t listed = 0;
  for (const NodeVerdict& node : result.nodes) {
    const bool notable = node.placement != Placement::accelerator && node.placement != Placement::folded;
    if (!options.every_node && !notable) continue;
    ++listed;
    nodes.add_row({std::to_string(node.index), node_label(node), node.op_type,
                   node.macs ? format_count(static_cast<double>(*node.macs)) : "?",
                   placement_label(result, node.placement), node.reason,
                   node.patch.empty() ? node.fix : patch_text(node, "patch")});
  }
  if (listed) {
    out << (options.every_node ? "every node\n" : "nodes that leave the " + accelerator_name(result) + ", carry a condition or run off its optimized path\n");
    print_table(out, nodes, result, options.color, 120);
    out << "\n";
  } else {
    out << "every node runs on the " << accelerator_name(result) << " without conditions\n\n";
  }

  if (!result.subgraph_nodes.empty()) {
    std::map<std::string, size_t> ops;
    size_t off_accelerator = 0;
    for (const NodeVerdict& node : result.subgraph_nodes) {
      ++ops[node.op_type];
      if (!check::on_accelerator(node.placement)) ++off_accelerator;
    }
    std::string op_counts;
    for (const auto& [op, count] : ops) op_counts += (op_counts.empty() ? "" : ", ") + std::to_string(count) + " " + op;
    out << "inside If/Loop/Scan bodies: " << result.subgraph_nodes.size() << " nodes (" << op_counts << "), "
        << off_accelerator << " of them "
        << (has_fallback_device(result) ? "on the " + result.fallback_device : std::string("rejected"))
        << " with the node that holds them; their MACs count with it\n";
    if (options.every_node) {
      Table bodies({{"inside"}, {"node"}, {"op"}, {"MACs", Align::right}, {"placement"}, {"why"}});
      for (const NodeVerdict& node : result.subgraph_nodes) {
        bodies.add_row({node.inside, node_label(node), node.op_type,
                        node.macs ? format_count(static_cast<double>(*node.macs)) : "?",
                        placement_label(result, node.placement), node.reason});
      }
      print_table(out, bodies, result, options.color, 120);
    }
    out << "\n";
  }

  out << "partition (graph order)\n";
  Table segments({{"segment", Align::right}, {"device"}, {"nodes", Align::right}, {"first"}, {"last"}, {"MACs", Align::right}});
  for (size_t i = 0; i < result.segments.size(); ++i) {
    const check::Segment& segment = result.segments[i];
    // Without a fallback device the nodes off the accelerator run nowhere: the toolkit refuses them.
    const std::string device = segment.on_accelerator || has_fallback_device(result) ? segment.device : "rejected";
    segments.add_row({std::to_string(i + 1), device, std::to_string(segment.node_count),
                      node_label(result.nodes[segment.first_node]), node_label(result.nodes[segment.last_node]),
                      segment.macs_known ? format_count(static_cast<double>(segment.macs))
                      : segment.macs > 0 ? ">= " + format_count(static_cast<double>(segment.macs)) : "unknown"});
  }
  print_table(out, segments, result, options.color);
  out << "\n";

  Table summary({{"figure"}, {"value", Align::right}});
  summary.add_row({"MACs on the " + accelerator_name(result),
                   mac_share_text(result) + (result.macs_total > 0 ? " of " + format_count(static_cast<double>(result.macs_total)) : "")});
  if (result.macs_unverified) {
    summary.add_row({"  of which unverified", format_percent(static_cast<double>(result.macs_unverified) /
                                                      static_cast<double>(std::max<int64_t>(result.macs_total, 1)))});
  }
  if (result.macs_off_optimized_path) {
    summary.add_row({"  on its optimized path", format_percent(result.optimized_mac_share())});
    summary.add_row({"  off it (supported, slower)",
                     format_percent(static_cast<double>(result.macs_off_optimized_path) /
                                    static_cast<double>(std::max<int64_t>(result.macs_total, 1)))});
  }
  summary.add_row({"nodes " + placement_label(result, Placement::accelerator) + " / +cond / -slow",
                   std::to_string(result.count(Placement::accelerator)) + " / " +
                       std::to_string(result.count(Placement::accelerator_with_condition)) + " / " +
                       std::to_string(result.count(Placement::accelerator_slow))});
  if (has_fallback_device(result)) {
    summary.add_row({"nodes on the " + result.fallback_device,
                     std::to_string(result.count(Placement::fallback) + result.count(Placement::fallback_after_first))});
  }
  if (result.count(Placement::rejected)) summary.add_row({"nodes rejected", std::to_string(result.count(Placement::rejected))});
  if (result.count(Placement::unverified)) summary.add_row({"nodes unverified", std::to_string(result.count(Placement::unverified))});
  summary.add_row({"segments", std::to_string(result.segments.size())});
  summary.add_row({"transfers per inference", transfers_text(result)});
  summary.add_row({"fallback policy", result.fallback_policy});
  summary.add_row({"toolkit accepts the model", result.compiles ? "yes" : "no"});
  print_table(out, summary, result, false);
  if (has_detection_postprocess(result)) out << "\nNMS on this target: " << result.nms << "\n";
  if (result.has_yolo_postprocess) {
    out << "YOLO head found: `npukit patch MODEL --target " << result.target_id
        << " -o OUT.onnx` cuts off its decode (if the graph has one), gives box and score maps apart and writes the "
           "sidecar for the CPU decoder (docs/sidecar.md).\n";
  }
}

void print_check_summary(std::ostream& out, const std::vector<CheckResult>& results, const std::string& model,
                         bool color) {
  out << "model     " << model << "\n\n";
  Table table({{"target"}, {"MACs on accel.", Align::right}, {"accel.", Align::right}, {"+cond", Align::right},
               {"slow", Align::right}, {"fallback", Align::right}, {"rejected", Align::right}, {"unverified", Align::right},
               {"segments", Align::right}, {"transfers", Align::right}, {"compiles"}});
  for (const CheckResult& result : results) {
    table.add_row({result.target_id, mac_share_text(result), std::to_string(result.count(Placement::accelerator)),
                   std::to_string(result.count(Placement::accelerator_with_condition)),
                   std::to_string(result.count(Placement::accelerator_slow)),
                   std::to_string(result.count(Placement::fallback) + result.count(Placement::fallback_after_first)),
                   std::to_string(result.count(Placement::rejected)), std::to_string(result.count(Placement::unverified)),
                   std::to_string(result.segments.size()), transfers_text(result), result.compiles ? "yes" : "no"});
  }
  std::ostringstream rendered;
  table.print(rendered, 2, 40);
  std::string text = rendered.str();
  if (color) {
    // Whole rows: red when the toolkit refuses the model, yellow when work leaves the accelerator.
    std::istringstream lines(text);
    std::string line;
    text.clear();
    // A row may wrap onto more lines; its first line is the one with the target id (never wrapped).
    size_t line_number = 0, row = 0;
    while (std::getline(lines, line)) {
      if (line_number >= 2 && line.size() > 2 && line[2] != ' ' && line_number > 2) ++row;
      if (line_number >= 2 && row < results.size()) {
        const CheckResult& result = results[row];
        const char* paint = !result.compiles ? kRed : result.accelerator_mac_share() < 1.0 || result.segments.size() > 1 ? kYellow : kGreen;
        line = paint + line + kReset;
      }
      text += line + "\n";
      ++line_number;
    }
  }
  out << text;
  out << "\n`npukit check MODEL --target T` explains each refusal and names the patch that fixes it.\n";
}

namespace {

NodePlacement node_placement(const NodeVerdict& node) {
  NodePlacement placement;
  placement.index = node.index;
  placement.name = node.name;
  placement.op = node.op_type;
  placement.placement = std::string(check::placement_name(node.placement));
  placement.macs = node.macs;
  placement.reason = node.reason;
  placement.patch = node.patch;
  placement.fix = node.fix;
  placement.in_yolo_postprocess = node.in_yolo_postprocess;
  for (const check::RuleFinding& finding : node.findings) {
    placement.findings.push_back({finding.refuses, finding.off_optimized_path, finding.explanation, finding.fix, finding.source});
  }
  placement.inside = node.inside;
  return placement;
}

nlohmann::json optional_json(const std::optional<int64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

TargetCheck target_check(const CheckResult& result) {
  TargetCheck target;
  target.target = result.target_id;
  target.target_name = result.target_name;
  target.accelerator = result.accelerator;
  target.fallback_device = result.fallback_device;
  target.fallback_policy = result.fallback_policy;
  target.compiles = result.compiles;
  target.nms = result.nms;
  target.has_yolo_postprocess = result.has_yolo_postprocess;
  target.macs_total = result.macs_total;
  target.macs_accelerator = result.macs_accelerator;
  target.macs_unverified = result.macs_unverified;
  target.macs_off_optimized_path = result.macs_off_optimized_path;
  target.macs_optimized_path = result.macs_accelerator - result.macs_off_optimized_path;
  target.optimized_mac_share = result.optimized_mac_share();
  target.macs_known = result.macs_known;
  target.accelerator_mac_share = result.accelerator_mac_share();
  for (const NodeVerdict& node : result.nodes) target.nodes.push_back(node_placement(node));
  for (const NodeVerdict& node : result.subgraph_nodes) target.subgraph_nodes.push_back(node_placement(node));
  for (const check::Segment& segment : result.segments) {
    target.segments.push_back({segment.device, segment.on_accelerator, segment.first_node, segment.last_node,
                               segment.node_count,
                               segment.macs_known ? std::optional<int64_t>(segment.macs) : std::nullopt, segment.macs});
  }
  for (const check::Transfer& transfer : result.transfers) {
    target.transfers.push_back({transfer.value, transfer.from_device, transfer.to_device, transfer.bytes});
  }
  if (result.transfer_bytes_known) target.transfer_bytes = result.transfer_bytes;
  return target;
}

CheckReport check_report(const std::string& model, const preparation::PreparedModel& prepared,
                         const std::vector<CheckResult>& results) {
  CheckReport report;
  report.model = model;
  report.preparation = summarize_preparation(prepared);
  for (const CheckResult& result : results) report.targets.push_back(target_check(result));
  return report;
}

nlohmann::json target_check_json(const TargetCheck& result) {
  nlohmann::json json;
  json["target"] = result.target;
  json["target_name"] = result.target_name;
  json["accelerator"] = result.accelerator;
  json["fallback_device"] = result.fallback_device;
  json["fallback_policy"] = result.fallback_policy;
  json["compiles"] = result.compiles;
  json["nms"] = result.nms;
  json["has_yolo_postprocess"] = result.has_yolo_postprocess;
  json["macs_total"] = result.macs_total;
  json["macs_accelerator"] = result.macs_accelerator;
  json["macs_unverified"] = result.macs_unverified;
  // On the accelerator, split by whether the compiler's optimized path runs them (placement npu-slow: not).
  json["macs_off_optimized_path"] = result.macs_off_optimized_path;
  json["macs_optimized_path"] = result.macs_optimized_path;
  json["optimized_mac_share"] = result.optimized_mac_share;
  json["macs_known"] = result.macs_known;
  json["accelerator_mac_share"] = result.accelerator_mac_share;
  nlohmann::json nodes = nlohmann::json::array();
  for (const NodePlacement& node : result.nodes) {
    nlohmann::json entry;
    entry["index"] = node.index;
    entry["name"] = node.name;
    entry["op"] = node.op;
    entry["placement"] = node.placement;
    entry["macs"] = optional_json(node.macs);
    entry["reason"] = node.reason;
    entry["patch"] = node.patch;
    entry["fix"] = node.fix;
    entry["in_yolo_postprocess"] = node.in_yolo_postprocess;
    nlohmann::json findings = nlohmann::json::array();
    for (const RuleFinding& finding : node.findings) {
      findings.push_back({{"refuses", finding.refuses}, {"off_optimized_path", finding.off_optimized_path},
                          {"explanation", finding.explanation}, {"fix", finding.fix},
                          {"source", finding.source}});
    }
    entry["findings"] = findings;
    nodes.push_back(entry);
  }
  json["nodes"] = nodes;
  nlohmann::json body_nodes = nlohmann::json::array();
  for (const NodePlacement& node : result.subgraph_nodes) {
    body_nodes.push_back({{"inside", node.inside}, {"name", node.name}, {"op", node.op},
                          {"placement", node.placement}, {"macs", optional_json(node.macs)},
                          {"reason", node.reason}, {"patch", node.patch}, {"fix", node.fix}});
  }
  json["subgraph_nodes"] = body_nodes;
  nlohmann::json segments = nlohmann::json::array();
  for (const SegmentSummary& segment : result.segments) {
    segments.push_back({{"device", segment.device}, {"on_accelerator", segment.on_accelerator},
                        {"first_node", segment.first_node}, {"last_node", segment.last_node},
                        {"nodes", segment.nodes}, {"macs", optional_json(segment.macs)},
                        {"macs_lower_bound", segment.macs_lower_bound}});
  }
  json["segments"] = segments;
  nlohmann::json transfers = nlohmann::json::array();
  for (const TransferSummary& transfer : result.transfers) {
    transfers.push_back({{"value", transfer.value}, {"from", transfer.from}, {"to", transfer.to},
                         {"bytes", optional_json(transfer.bytes)}});
  }
  json["transfers"] = transfers;
  json["transfer_bytes"] = optional_json(result.transfer_bytes);
  return json;
}

nlohmann::json check_report_json(const CheckReport& report) {
  nlohmann::json json;
  json["model"] = report.model;
  json["preparation"] = preparation_json(report.preparation);
  json["targets"] = nlohmann::json::array();
  for (const TargetCheck& target : report.targets) json["targets"].push_back(target_check_json(target));
  return json;
}

std::string check_markdown(const std::vector<CheckResult>& results, const std::string& model) {
  std::ostringstream out;
  out << "# npukit check: `" << model << "`\n\n";
  out << "| target | MACs on accelerator | accelerator nodes | with condition | off optimized path | fallback | rejected | segments | transfers | compiles |\n";
  out << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const CheckResult& result : results) {
    out << "| " << result.target_id << " | " << mac_share_text(result) << " | " << result.count(Placement::accelerator)
        << " | " << result.count(Placement::accelerator_with_condition) << " | "
        << result.count(Placement::accelerator_slow) << " | " << result.count(Placement::fallback) + result.count(Placement::fallback_after_first) << " | "
        << result.count(Placement::rejected) << " | " << result.segments.size() << " | " << transfers_text(result)
        << " | " << (result.compiles ? "yes" : "no") << " |\n";
  }
  for (const CheckResult& result : results) {
    out << "\n## " << result.target_name << " (`" << result.target_id << "`)\n\n";
    out << "- MACs on the " << accelerator_name(result) << ": " << mac_share_text(result) << "\n";
    out << "- segments: " << result.segments.size() << "; transfers per inference: " << transfers_text(result) << "\n";
    if (has_fallback_device(result)) {
      out << "- unsupported ops: " << result.fallback_policy << " fallback to the " << result.fallback_device << "\n";
    } else {
      out << "- unsupported ops: no fallback device; the toolkit refuses the model\n";
    }
    if (has_detection_postprocess(result)) out << "- NMS: " << result.nms << "\n";
    out << "\n";
    bool header = false;
    for (const NodeVerdict& node : result.nodes) {
      if (node.placement == Placement::accelerator || node.placement == Placement::folded) continue;
      if (!header) {
        out << "| node | op | placement | why | fix |\n|---|---|---|---|---|\n";
        header = true;
      }
      std::string reason = node.reason;
      for (size_t at = reason.find('|'); at != std::string::npos; at = reason.find('|', at + 2)) reason.replace(at, 1, "\\|");
      out << "| `" << node_label(node) << "` | " << node.op_type << " | " << placement_label(result, node.placement)
          << " | " << reason << " | " << (node.patch.empty() ? node.fix : patch_text(node, "`npukit patch`")) << " |\n";
    }
    if (!header) out << "Every node runs on the " << accelerator_name(result) << " without conditions.\n";
  }
  return out.str();
}

}  // namespace npukit::report

namespace npukit {

std::string TargetCheck::to_json() const { return report::target_check_json(*this).dump(2); }
std::string CheckReport::to_json() const { return report::check_report_json(*this).dump(2); }

}  // namespace npukit
