#include "cli/input_size_report.h"

#include "cli/table.h"

namespace npukit::cli {

void print_input_size_fit(std::ostream& out, const std::vector<check::InputSizeFit>& fits, const std::string& model,
                          const std::string& input_name) {
  out << "model     " << model << "\ninput     " << input_name << " at H = W = each size\n";
  for (const check::InputSizeFit& fit : fits) {
    out << "\n" << fit.target_id << "  (" << fit.target_name << "): largest size that passes every size limit: "
        << (fit.largest_passing ? std::to_string(*fit.largest_passing) : std::string("none of these")) << "\n";
    Table table({{"size", Align::right}, {"limits"}, {"MACs", Align::right}, {"on accel.", Align::right},
                 {"transfers", Align::right}, {"weights+act. int8", Align::right}, {"on-chip"}, {"first limit broken"}});
    for (const check::SizeFit& size : fit.sizes) {
      const double share = size.macs_total > 0 ? static_cast<double>(size.macs_accelerator) / static_cast<double>(size.macs_total) : 1.0;
      table.add_row({std::to_string(size.size), size.passes_rules ? "pass" : "FAIL",
                     format_count(static_cast<double>(size.macs_total)) + (size.macs_known ? "" : "+"),
                     format_percent(share),
                     size.transfer_bytes ? format_bytes(static_cast<double>(*size.transfer_bytes)) : "unknown",
                     size.largest_activation_bytes_int8
                         ? format_bytes(static_cast<double>(size.weight_bytes_int8 + *size.largest_activation_bytes_int8))
                         : "unknown",
                     size.within_on_chip_memory, size.size_refusals.empty() ? "" : size.size_refusals.front()});
    }
    table.print(out, 2, 120);
    out << "  on-chip memory: " << fit.on_chip_memory << " [" << fit.on_chip_memory_source << "]; external memory: "
        << fit.dram << "\n";
  }
  out << "\n'limits' are the profile's size-dependent rules (dims, elements, input dims, MatMul K); 'weights+act.' is "
         "every weight plus the largest activation at one byte each, against the on-chip memory.\n";
}

nlohmann::json input_size_fit_json(const check::InputSizeFit& fit) {
  nlohmann::json json;
  json["target"] = fit.target_id;
  json["target_name"] = fit.target_name;
  json["largest_passing_size"] = fit.largest_passing ? nlohmann::json(*fit.largest_passing) : nlohmann::json(nullptr);
  json["on_chip_memory"] = fit.on_chip_memory;
  json["on_chip_memory_source"] = fit.on_chip_memory_source;
  json["external_memory"] = fit.dram;
  json["sizes"] = nlohmann::json::array();
  for (const check::SizeFit& size : fit.sizes) {
    json["sizes"].push_back({
        {"size", size.size},
        {"passes_size_limits", size.passes_rules},
        {"size_limits_broken", size.size_refusals},
        {"macs_total", size.macs_total},
        {"macs_known", size.macs_known},
        {"macs_accelerator", size.macs_accelerator},
        {"macs_off_optimized_path", size.macs_off_optimized_path},
        {"nodes_off_accelerator", size.nodes_off_accelerator},
        {"transfer_bytes", size.transfer_bytes ? nlohmann::json(*size.transfer_bytes) : nlohmann::json(nullptr)},
        {"weight_bytes_int8", size.weight_bytes_int8},
        {"largest_activation_bytes_int8", size.largest_activation_bytes_int8
                                              ? nlohmann::json(*size.largest_activation_bytes_int8)
                                              : nlohmann::json(nullptr)},
        {"within_on_chip_memory", size.within_on_chip_memory},
    });
  }
  return json;
}

}  // namespace npukit::cli
