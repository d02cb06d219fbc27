#include "compare/comparison_cells.h"

#include <cmath>
#include <map>

#include "report/table.h"

namespace npukit::compare {

namespace {

std::string number_or_infinity(double value) {
  if (std::isinf(value)) return value > 0 ? "∞" : "−∞";
  return report::format_number(value, 4);
}

std::string note(const ValueComparison& value) {
  std::vector<std::string> notes;
  if (value.error_enters_here) notes.push_back("◀ error enters here");
  if (value.is_output) notes.push_back("output");
  if (value.is_graph_input) notes.push_back("input");
  if (value.is_weight) notes.push_back("weight");
  if (value.metrics.non_finite_mismatches) notes.push_back(std::to_string(value.metrics.non_finite_mismatches) + " NaN/Inf mismatches");
  std::string text;
  for (const std::string& item : notes) text += (text.empty() ? "" : ", ") + item;
  return text;
}

}  // namespace

std::vector<std::string> value_column_titles() {
  return {"#", "value", "op", "SQNR dB", "inputs dB", "drop dB", "cosine", "max abs", "mean abs", "LSB |a-b| (share)", "note"};
}

std::vector<bool> value_columns_right_aligned() { return {true, false, false, true, true, true, true, true, true, false, false}; }

std::string value_label(const ValueComparison& value) {
  return value.name_a == value.name_b ? value.name_a : value.name_a + " (B: " + value.name_b + ")";
}

std::vector<std::string> value_cells(const ValueComparison& value, size_t position) {
  const LayerMetrics& metrics = value.metrics;
  const std::string& op = value.op_a.empty() ? value.op_b : value.op_a;
  return {std::to_string(position),
          value_label(value),
          op.empty() ? "-" : op,
          metrics.identical ? "∞" : number_or_infinity(metrics.sqnr_db),
          value.inputs_sqnr_db ? number_or_infinity(*value.inputs_sqnr_db) : "-",
          value.drop_db ? report::format_number(*value.drop_db, 4) : "-",
          metrics.cosine ? report::format_number(*metrics.cosine, 7) : "unknown",
          number_or_infinity(metrics.max_abs_error),
          report::format_number(metrics.mean_abs_error, 4),
          metrics.lsb ? format_lsb_histogram(metrics.lsb) : "-",
          note(value)};
}

std::vector<ReasonGroup> group_not_comparable(const ModelComparison& comparison, size_t examples) {
  std::vector<ReasonGroup> groups;
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (const NotComparable& item : comparison.not_comparable) {
    auto [found, added] = index.try_emplace({item.side, item.reason}, groups.size());
    if (added) groups.push_back({item.side, item.reason, 0, {}});
    ReasonGroup& group = groups[found->second];
    ++group.count;
    if (group.examples.size() < examples) group.examples.push_back(item.name);
  }
  return groups;
}

}  // namespace npukit::compare
