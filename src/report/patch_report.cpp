#include "report/patch_report.h"

#include "patch/patch_pipeline.h"
#include "report/preparation_report.h"
#include "report/table.h"

namespace npukit::report {

void print_patch_report(std::ostream& out, const PatchReport& report) {
  out << "model     " << report.model << "\ntarget    " << report.target << "  (" << report.target_name << ")\n\n";
  Table table({{"pass"}, {"rewrites", Align::right}, {"meaning"}, {"what changed"}});
  for (const PassSummary& pass : report.passes) {
    std::string notes;
    for (const std::string& note : pass.notes) notes += (notes.empty() ? "" : "; ") + note;
    table.add_row({pass.pass, std::to_string(pass.rewrites), pass.changes_meaning ? "CHANGED: retrain" : "kept", notes});
  }
  table.print(out, 2, 90);
  // Notes the table's column cuts short, in full: why a head was not cut, or what the sidecar could not tell.
  for (const PassSummary& pass : report.passes) {
    size_t length = 0;
    for (const std::string& note : pass.notes) length += note.size() + 2;
    if (length <= 92) continue;
    for (const std::string& note : pass.notes) out << "  " << pass.pass << ": " << note << "\n";
  }
  if (report.converged) {
    out << "  (passes repeated until nothing changed: " << report.rounds << " round" << (report.rounds == 1 ? "" : "s")
        << "; figures after are those of the written file)\n\n";
  } else {
    out << "  WARNING: the passes still rewrote in round " << report.rounds << " of " << patch::max_patch_rounds
        << ": the written model is not a fixed point (please report this with the model)\n\n";
  }
  Table summary({{"figure"}, {"before", Align::right}, {"after", Align::right}});
  summary.add_row({"MACs on the " + report.accelerator, format_percent(report.accelerator_mac_share_before),
                   format_percent(report.accelerator_mac_share_after)});
  if (report.some_macs_off_optimized_path) {
    summary.add_row({"MACs on the optimized path", format_percent(report.optimized_mac_share_before),
                     format_percent(report.optimized_mac_share_after)});
  }
  summary.add_row({"segments", std::to_string(report.segments_before), std::to_string(report.segments_after)});
  summary.add_row({"transfers per inference", std::to_string(report.transfers_before), std::to_string(report.transfers_after)});
  summary.add_row({"nodes off the " + report.accelerator, std::to_string(report.nodes_off_accelerator_before),
                   std::to_string(report.nodes_off_accelerator_after)});
  summary.print(out, 2);
  if (!report.output.empty()) out << "\nwrote " << report.output << "\n";
  if (report.input_contract) {
    out << "wrote " << *report.input_contract << " (the input the model now expects: raw " << report.raw_input
        << "; docs/sidecar.md)\n";
  }
  if (report.sidecar) {
    out << "wrote " << *report.sidecar
        << " (what the CPU decoder needs: classes and names, strides, anchors or DFL bins, outputs, input, "
           "thresholds; docs/sidecar.md)\n";
  }
  if (report.needs_retraining) out << "NOTE: a pass changed what the model computes: retrain or fine-tune before use.\n";
  if (!report.output.empty()) out << "next: npukit check " << report.output << " --target " << report.target << "\n";
}

nlohmann::json patch_report_json(const PatchReport& report) {
  nlohmann::json json;
  json["model"] = report.model;
  json["target"] = report.target;
  json["output"] = report.output;
  json["sidecar"] = report.sidecar ? nlohmann::json(*report.sidecar) : nlohmann::json(nullptr);
  json["input_contract"] = report.input_contract ? nlohmann::json(*report.input_contract) : nlohmann::json(nullptr);
  json["needs_retraining"] = report.needs_retraining;
  json["preparation"] = preparation_json(report.preparation);
  json["rounds"] = report.rounds;
  json["converged"] = report.converged;
  json["passes"] = nlohmann::json::array();
  for (const PassSummary& pass : report.passes) {
    json["passes"].push_back({{"pass", pass.pass}, {"rewrites", pass.rewrites},
                              {"changes_meaning", pass.changes_meaning}, {"notes", pass.notes}});
  }
  json["accelerator_mac_share_before"] = report.accelerator_mac_share_before;
  json["accelerator_mac_share_after"] = report.accelerator_mac_share_after;
  json["optimized_mac_share_before"] = report.optimized_mac_share_before;
  json["optimized_mac_share_after"] = report.optimized_mac_share_after;
  json["segments_before"] = report.segments_before;
  json["segments_after"] = report.segments_after;
  return json;
}

}  // namespace npukit::report

namespace npukit {

std::string PatchReport::to_json() const { return report::patch_report_json(*this).dump(2); }

}  // namespace npukit
