#include "compare/error_entry.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/table.h"

namespace npukit::compare {

namespace {

double clamped(double sqnr_db) { return std::clamp(sqnr_db, -sqnr_clamp_db, sqnr_clamp_db); }

std::string decibels(double sqnr_db) {
  if (std::isinf(sqnr_db)) return sqnr_db > 0 ? "identical" : "−∞ dB";
  return report::format_number(sqnr_db, 3) + " dB";
}

std::string value_name(const ValueComparison& value) {
  return value.name_a == value.name_b ? "'" + value.name_a + "'" : "'" + value.name_a + "' (B: '" + value.name_b + "')";
}

}  // namespace

std::optional<ErrorEntry> locate_error_entry(ModelComparison& comparison) {
  std::optional<ErrorEntry> entry;
  for (size_t index = 0; index < comparison.values.size(); ++index) {
    ValueComparison& value = comparison.values[index];
    value.inputs_sqnr_db.reset();
    value.drop_db.reset();
    value.error_enters_here = false;
    if (value.inputs.empty() || value.is_weight) continue;
    double lowest = std::numeric_limits<double>::infinity();
    for (size_t input : value.inputs) lowest = std::min(lowest, comparison.values[input].metrics.sqnr_db);
    value.inputs_sqnr_db = lowest;
    value.drop_db = clamped(lowest) - clamped(value.metrics.sqnr_db);
    const bool is_layer = !value.layer_a.empty() || !value.layer_b.empty();
    if (!is_layer || value.is_graph_input || *value.drop_db <= 0) continue;
    if (!entry || *value.drop_db > entry->drop_db) entry = ErrorEntry{index, *value.drop_db, lowest, value.metrics.sqnr_db};
  }
  if (entry) comparison.values[entry->value].error_enters_here = true;
  return entry;
}

std::string verdict(const ModelComparison& comparison, const std::optional<ErrorEntry>& entry) {
  if (comparison.values.empty()) {
    return "nothing compared: no value is present on both sides (the not-comparable list says why)";
  }
  const ValueComparison* lowest = nullptr;
  size_t identical = 0;
  for (const ValueComparison& value : comparison.values) {
    identical += value.metrics.identical ? 1 : 0;
    if (!lowest || value.metrics.sqnr_db < lowest->metrics.sqnr_db) lowest = &value;
  }
  const std::string count = std::to_string(comparison.values.size());
  if (identical == comparison.values.size()) return "A and B agree bit for bit on all " + count + " compared values";
  std::string located;
  if (entry) {
    const ValueComparison& value = comparison.values[entry->value];
    const std::string& layer = value.layer_a.empty() ? value.layer_b : value.layer_a;
    located = layer + ", value " + value_name(value) + ": " +
              (std::isinf(entry->inputs_sqnr_db) ? std::string("identical inputs") : "inputs at " + decibels(entry->inputs_sqnr_db)) +
              " → " + decibels(entry->sqnr_db) + " (drop " + report::format_number(entry->drop_db, 3) + " dB)";
  }
  if (lowest->metrics.sqnr_db >= float_rounding_sqnr_db) {
    return "A and B differ by float rounding only: every compared value keeps SQNR ≥ " +
           report::format_number(float_rounding_sqnr_db, 3) + " dB (lowest " + decibels(lowest->metrics.sqnr_db) + " at " +
           value_name(*lowest) + ")" + (entry ? "; largest drop at " + located : "");
  }
  if (!entry) {
    return "values differ (lowest SQNR " + decibels(lowest->metrics.sqnr_db) + " at " + value_name(*lowest) +
           ") but no layer's SQNR falls below its inputs': the error comes in with the inputs' quantization";
  }
  // The largest single drop, and where the values end up: a model whose SQNR decays a little at every layer
  // has its lowest value far from where the largest drop is.
  return "error enters at " + located + "; lowest SQNR " + decibels(lowest->metrics.sqnr_db) + " at " + value_name(*lowest);
}

}  // namespace npukit::compare
