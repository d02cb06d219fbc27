#include "report_html/compare_sections.h"

#include <algorithm>
#include <cmath>

#include "compare/comparison_cells.h"
#include "report/table.h"

namespace npukit::report_html {

const char* const compare_bar_color = "#2f6fb0";
const char* const compare_entry_bar_color = "#c0392b";

namespace {

std::string side_text(const compare::SideSummary& side) {
  return side.model_path + " on " + side.backend + (side.target.empty() ? "" : " (target " + side.target + ")");
}

Section summary_section(const compare::ModelComparison& comparison, const std::optional<compare::ErrorEntry>& entry,
                        const std::vector<std::string>& inputs) {
  Section section{"What was compared", {}};
  size_t identical = 0;
  for (const compare::ValueComparison& value : comparison.values) identical += value.metrics.identical ? 1 : 0;
  section.blocks.push_back(BulletList{{"A (reference): " + side_text(comparison.a), "B: " + side_text(comparison.b),
                                       std::to_string(comparison.values.size()) + " values compared (" + std::to_string(identical) +
                                           " identical), " + std::to_string(comparison.not_comparable.size()) + " not comparable"}});
  if (!inputs.empty()) {
    section.blocks.push_back(Paragraph{"Inputs fed to both sides:"});
    section.blocks.push_back(BulletList{inputs});
  }
  section.blocks.push_back(Paragraph{"Verdict: " + compare::verdict(comparison, entry)});
  section.blocks.push_back(Paragraph{"SQNR = 10·log10(Σa² / Σ(a−b)²) with A as the reference; drop = the lowest SQNR among the "
                                     "values a layer reads minus its own (identical counts as 150 dB). LSB: |a−b| in steps of the "
                                     "value's quantization grid, rounded to the nearest step."});
  return section;
}

Section sqnr_section(const compare::ModelComparison& comparison, const std::vector<size_t>& rows) {
  Section section{"Per-layer SQNR", {}};
  BarChart chart{"SQNR per value, in execution order (identical drawn at 150 dB; red: where the error enters)", "dB", {}, false};
  TableBlock data{compare::value_column_titles(), {}, compare::value_columns_right_aligned()};
  for (size_t row : rows) {
    const compare::ValueComparison& value = comparison.values[row];
    Bar bar;
    // Exported names share long prefixes ("/features/features.18/conv/..."): the position and the name's end
    // tell the bars apart.
    const std::string name = compare::value_label(value);
    const std::string prefix = "#" + std::to_string(row) + " ";
    const size_t room = 32 - prefix.size();
    size_t start = name.size() > room - 1 ? name.size() - (room - 1) : 0;
    while (start < name.size() && (static_cast<unsigned char>(name[start]) & 0xC0) == 0x80) ++start;  // not inside a UTF-8 letter
    bar.label = prefix + (report::display_width(name) <= room ? name : "…" + name.substr(start));
    const double sqnr = value.metrics.sqnr_db;
    bar.value = value.metrics.identical ? compare::sqnr_clamp_db : std::clamp(sqnr, 0.0, compare::sqnr_clamp_db);
    bar.color = value.error_enters_here ? compare_entry_bar_color : compare_bar_color;
    bar.annotation = value.metrics.identical ? "identical" : compare::format_sqnr(sqnr);
    if (value.drop_db && !value.metrics.identical) bar.annotation += ", drop " + report::format_number(*value.drop_db, 3) + " dB";
    chart.bars.push_back(bar);
    data.rows.push_back(compare::value_cells(value, row));
  }
  if (chart.bars.empty()) {
    section.blocks.push_back(Paragraph{"No value was compared."});
    return section;
  }
  section.blocks.push_back(Chart{render_svg(chart), data});
  return section;
}

std::optional<Section> lsb_section(const compare::ModelComparison& comparison, const std::vector<size_t>& rows) {
  TableBlock table{{"value", "grid (side)"}, {}, {false, false}};
  for (const char* label : compare::lsb_bin_labels) {
    table.header.push_back(std::string(label) + " LSB");
    table.right_aligned.push_back(true);
  }
  table.header.push_back("largest");
  table.right_aligned.push_back(true);
  for (size_t row : rows) {
    const compare::ValueComparison& value = comparison.values[row];
    if (!value.metrics.lsb) continue;
    std::vector<std::string> cells = {compare::value_label(value), ir::describe(value.metrics.lsb->params) + " (" + value.grid_side + ")"};
    for (int64_t count : value.metrics.lsb->counts) cells.push_back(std::to_string(count));
    cells.push_back(std::to_string(value.metrics.lsb->largest_step));
    table.rows.push_back(cells);
  }
  if (table.rows.empty()) return std::nullopt;
  return Section{"LSB histograms", {Paragraph{"Elements per |a−b| in steps of the grid (counts)."}, table}};
}

Section not_comparable_section(const compare::ModelComparison& comparison) {
  Section section{"Not comparable", {}};
  const std::vector<compare::ReasonGroup> groups = compare::group_not_comparable(comparison, 5);
  if (groups.empty()) {
    section.blocks.push_back(Paragraph{"Every value either side computes was compared."});
    return section;
  }
  TableBlock table{{"side", "values", "reason", "for example"}, {}, {false, true, false, false}};
  for (const compare::ReasonGroup& group : groups) {
    std::string examples;
    for (const std::string& name : group.examples) examples += (examples.empty() ? "" : ", ") + name;
    table.rows.push_back({group.side, std::to_string(group.count), group.reason, examples});
  }
  section.blocks.push_back(table);
  return section;
}

}  // namespace

std::vector<Section> compare_sections(const compare::ModelComparison& comparison, const std::optional<compare::ErrorEntry>& entry,
                                      const std::vector<size_t>& rows, const std::vector<std::string>& inputs) {
  std::vector<Section> sections = {summary_section(comparison, entry, inputs), sqnr_section(comparison, rows)};
  if (std::optional<Section> lsb = lsb_section(comparison, rows)) sections.push_back(std::move(*lsb));
  sections.push_back(not_comparable_section(comparison));
  return sections;
}

void write_compare_report(const std::string& path, const compare::ModelComparison& comparison,
                          const std::optional<compare::ErrorEntry>& entry, const std::vector<size_t>& rows,
                          const std::vector<std::string>& inputs) {
  Report report("npukit compare: " + comparison.a.model_path + " vs " + comparison.b.model_path,
                "Per-layer error between two models or two backends on the same inputs");
  for (Section& section : compare_sections(comparison, entry, rows, inputs)) report.add_section(std::move(section));
  write_report(report, path);
}

}  // namespace npukit::report_html
