#include "check/input_size_fit.h"

#include <algorithm>
#include <set>

#include "inspect/node_cost.h"
#include "npukit/error.h"

namespace npukit::check {

namespace {

std::string format_bytes_plain(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 3) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

[[noreturn]] void bad_sizes(const std::string& argument, const std::string& why) {
  throw Error(ErrorKind::invalid_argument, "--input-sizes '" + argument + "': " + why +
                                               " (give sizes like 320,480,640 or a range 320:1280:160)");
}

int64_t parse_size(const std::string& argument, const std::string& text) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) {
    bad_sizes(argument, "'" + text + "' is not a whole number");
  }
  const int64_t size = std::stoll(text);
  if (size < 1 || size > 65536) bad_sizes(argument, "size " + text + " is outside 1–65536");
  return size;
}

}  // namespace

bool is_size_dependent_check(const std::string& check) {
  return check == "dim" || check == "input_dims" || check == "elements" || check == "reduction_dim";
}

SizeFit fit_at_size(int64_t size, const ir::Model& model, const CheckResult& result,
                    const targets::TargetProfile& profile) {
  SizeFit fit;
  fit.size = size;
  fit.macs_total = result.macs_total;
  fit.macs_accelerator = result.macs_accelerator;
  fit.macs_off_optimized_path = result.macs_off_optimized_path;
  fit.macs_known = result.macs_known;
  if (result.transfer_bytes_known) fit.transfer_bytes = result.transfer_bytes;
  for (const NodeVerdict& verdict : result.nodes) {
    if (verdict.placement != Placement::folded && !on_accelerator(verdict.placement)) ++fit.nodes_off_accelerator;
    for (const RuleFinding& finding : verdict.findings) {
      if (finding.refuses && is_size_dependent_check(finding.check)) {
        fit.passes_rules = false;
        fit.size_refusals.push_back("'" + verdict.name + "' (" + verdict.op_type + "): " + finding.explanation);
        break;
      }
    }
  }
  std::set<const ir::Value*> constants;
  int64_t largest = 0;
  bool activations_known = true;
  for (const auto& value : model.graph->values()) {
    if (value->initializer) {
      fit.weight_bytes_int8 += value->initializer->element_count();
      constants.insert(value.get());
      continue;
    }
    if (!value->producer && !value->is_graph_input) continue;
    auto count = inspect::static_element_count(value.get());
    if (!count) {
      activations_known = false;
      continue;
    }
    largest = std::max(largest, *count);
  }
  if (activations_known) fit.largest_activation_bytes_int8 = largest;
  const targets::Fact& sram = profile.memory.on_chip_sram_bytes;
  if (sram.known && sram.number && fit.largest_activation_bytes_int8) {
    fit.within_on_chip_memory =
        static_cast<double>(fit.weight_bytes_int8 + *fit.largest_activation_bytes_int8) <= *sram.number ? "yes" : "no";
  }
  return fit;
}

void summarize_input_size_fit(InputSizeFit& fit, const targets::TargetProfile& profile) {
  fit.target_id = profile.id;
  fit.target_name = profile.name;
  for (const SizeFit& size : fit.sizes) {
    if (size.passes_rules && (!fit.largest_passing || size.size > *fit.largest_passing)) fit.largest_passing = size.size;
  }
  const targets::Fact& sram = profile.memory.on_chip_sram_bytes;
  fit.on_chip_memory = sram.known && sram.number ? format_bytes_plain(*sram.number) : sram.display();
  fit.on_chip_memory_source = sram.known ? sram.source : sram.text;
  fit.dram = profile.memory.dram.display();
}

std::vector<int64_t> parse_input_sizes(const std::string& argument) {
  std::vector<int64_t> sizes;
  if (argument.find(':') != std::string::npos) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t end = argument.find(':', start);
      parts.push_back(argument.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    if (parts.size() != 3) bad_sizes(argument, "a range is first:last:step");
    const int64_t first = parse_size(argument, parts[0]), last = parse_size(argument, parts[1]);
    const int64_t step = parse_size(argument, parts[2]);
    if (last < first) bad_sizes(argument, "the last size is smaller than the first");
    if ((last - first) / step + 1 > 64) bad_sizes(argument, "more than 64 sizes");
    for (int64_t size = first; size <= last; size += step) sizes.push_back(size);
    return sizes;
  }
  size_t start = 0;
  while (true) {
    size_t end = argument.find(',', start);
    sizes.push_back(parse_size(argument, argument.substr(start, end == std::string::npos ? std::string::npos : end - start)));
    if (sizes.size() > 64) bad_sizes(argument, "more than 64 sizes");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

}  // namespace npukit::check
