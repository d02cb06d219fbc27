// npukit targets: the built-in target profiles with their headline facts.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table.h"
#include "cli/target_arguments.h"
#include "targets/profile_loader.h"

namespace npukit::cli {

namespace {

struct TargetsArguments {
  bool json = false;
  std::string target;  // show one profile in full
  std::string target_file;
};

std::string policy_text(targets::FallbackPolicy policy) {
  switch (policy) {
    case targets::FallbackPolicy::per_segment: return "per segment";
    case targets::FallbackPolicy::after_first_unsupported: return "all after 1st";
    case targets::FallbackPolicy::none: return "none";
  }
  return "per segment";
}

// "per segment → CPU"; a target without a fallback device says so instead of "none → none".
std::string fallback_text(const targets::TargetProfile& profile) {
  if (profile.fallback_policy == targets::FallbackPolicy::none) return "none (refused)";
  return policy_text(profile.fallback_policy) + " → " + profile.fallback_device;
}

nlohmann::json fact_json(const targets::Fact& fact) {
  if (!fact.known) return {{"known", false}, {"why", fact.text}};
  nlohmann::json json{{"known", true}, {"text", fact.text}, {"source", fact.source}};
  if (fact.number) json["value"] = *fact.number;
  return json;
}

nlohmann::json profile_json(const targets::TargetProfile& profile) {
  nlohmann::json json;
  json["id"] = profile.id;
  json["aliases"] = profile.aliases;
  json["name"] = profile.name;
  json["vendor"] = profile.vendor;
  json["toolkit"] = profile.toolkit;
  json["file"] = profile.file;
  json["accelerator"] = profile.accelerator_name;
  json["fallback_device"] = profile.fallback_device;
  json["fallback_policy"] = policy_text(profile.fallback_policy);
  json["op_count"] = profile.ops.size();
  json["ops"] = nlohmann::json::array();
  for (const auto& [op, support] : profile.ops) json["ops"].push_back(op);
  json["rejected_ops"] = profile.rejected_ops;
  json["ops_basis"] = fact_json(profile.ops_basis);
  json["dtypes"] = profile.dtypes;
  const targets::QuantizationSpec& q = profile.quantization;
  json["quantization"] = {{"weight_granularity", fact_json(q.weight_granularity)},
                          {"weight_symmetry", fact_json(q.weight_symmetry)},
                          {"weight_grid", fact_json(q.weight_grid)},
                          {"activation_granularity", fact_json(q.activation_granularity)},
                          {"activation_symmetry", fact_json(q.activation_symmetry)},
                          {"activation_grid", fact_json(q.activation_grid)},
                          {"rounding", fact_json(q.rounding)},
                          {"requantization", fact_json(q.requantization)},
                          {"bias_dtype", fact_json(q.bias_dtype)},
                          {"algorithms", fact_json(q.algorithms)}};
  json["numerics_summary"] = nlohmann::json::object();
  for (const auto& [label, text] : targets::summarize(profile.numerics)) json["numerics_summary"][label] = text;
  json["memory"] = {{"on_chip_sram_bytes", fact_json(profile.memory.on_chip_sram_bytes)},
                    {"dram", fact_json(profile.memory.dram)},
                    {"link", fact_json(profile.memory.link)},
                    {"link_bytes_per_second", fact_json(profile.memory.link_bytes_per_second)}};
  json["compute"] = {{"tops_int8", fact_json(profile.compute.tops_int8)},
                     {"cores", fact_json(profile.compute.cores)},
                     {"note", fact_json(profile.compute.note)}};
  json["nms"] = fact_json(profile.nms);
  json["published_latency_ms"] = nlohmann::json::object();
  for (const targets::PublishedLatency& latency : profile.published_latencies) {
    json["published_latency_ms"][latency.model] = fact_json(latency.milliseconds);
  }
  return json;
}

void print_profile(const targets::TargetProfile& profile) {
  auto line = [](const std::string& label, const targets::Fact& fact) {
    std::cout << "  " << label << ": " << fact.display();
    if (fact.known) std::cout << "  [" << fact.source << "]";
    else std::cout << "  (" << fact.text << ")";
    std::cout << "\n";
  };
  std::cout << profile.name << " (" << profile.id << ")  from " << profile.file << "\n";
  std::cout << "  toolkit: " << profile.toolkit << "\n";
  if (profile.fallback_policy == targets::FallbackPolicy::none) {
    std::cout << "  unsupported ops: no fallback device; the toolkit refuses the model\n";
  } else {
    std::cout << "  unsupported ops: " << policy_text(profile.fallback_policy) << " fallback to " << profile.fallback_device
              << "\n";
  }
  line("op list", profile.ops_basis);
  std::cout << "  dtypes: ";
  for (const std::string& dtype : profile.dtypes) std::cout << dtype << " ";
  std::cout << " [" << profile.dtypes_source << "]\n";
  line("INT8 TOPS", profile.compute.tops_int8);
  line("cores", profile.compute.cores);
  line("on-chip SRAM bytes", profile.memory.on_chip_sram_bytes);
  line("memory", profile.memory.dram);
  line("link", profile.memory.link);
  line("weights", profile.quantization.weight_granularity);
  line("weight symmetry", profile.quantization.weight_symmetry);
  line("weight grid", profile.quantization.weight_grid);
  line("activations", profile.quantization.activation_granularity);
  line("activation symmetry", profile.quantization.activation_symmetry);
  line("rounding", profile.quantization.rounding);
  line("requantization", profile.quantization.requantization);
  line("bias", profile.quantization.bias_dtype);
  line("calibration", profile.quantization.algorithms);
  for (const auto& [label, text] : targets::summarize(profile.numerics)) std::cout << "  numerics, " << label << ": " << text << "\n";
  line("NMS", profile.nms);
  for (const targets::PublishedLatency& latency : profile.published_latencies) line(latency.model + " ms", latency.milliseconds);
}

void run_targets(const TargetsArguments& arguments) {
  std::vector<targets::TargetProfile> profiles;
  if (!arguments.target.empty() || !arguments.target_file.empty()) {
    profiles = resolve_targets({arguments.target, arguments.target_file}, true);
  } else {
    profiles = targets::builtin_target_profiles();
  }
  if (arguments.json) {
    nlohmann::json json = nlohmann::json::array();
    for (const targets::TargetProfile& profile : profiles) json.push_back(profile_json(profile));
    std::cout << json.dump(2) << "\n";
    return;
  }
  if (profiles.size() == 1) {
    print_profile(profiles.front());
    return;
  }
  Table table({{"id"}, {"name"}, {"INT8 TOPS", Align::right}, {"ops", Align::right}, {"fallback"}, {"NMS"},
               {"SRAM", Align::right}, {"link"}});
  for (const targets::TargetProfile& profile : profiles) {
    const targets::Fact& sram = profile.memory.on_chip_sram_bytes;
    table.add_row({profile.id, profile.name, profile.compute.tops_int8.known ? profile.compute.tops_int8.text : "unknown",
                   std::to_string(profile.ops.size()), fallback_text(profile),
                   profile.nms.known ? profile.nms.text.substr(0, profile.nms.text.find(':')) : "unknown",
                   sram.known && sram.number ? format_bytes(*sram.number) : "unknown",
                   profile.memory.link.display()});
  }
  table.print(std::cout, 0, 36);
  std::cout << "\n`npukit targets --target ID` shows one profile in full, with a source for every fact.\n";
}

}  // namespace

void register_targets_command(CLI::App& app) {
  auto arguments = std::make_shared<TargetsArguments>();
  CLI::App* command = app.add_subcommand("targets", "The built-in target profiles and their headline facts");
  command->add_flag("--json", arguments->json, "Print JSON for programs (every fact with its source)");
  command->add_option("--target,-t", arguments->target, "Show one profile in full")->type_name("TARGET");
  command->add_option("--target-file", arguments->target_file, "Validate and show your own profile")->type_name("PATH");
  command->callback([arguments] { run_targets(*arguments); });
}

}  // namespace npukit::cli
