// One report, two renderings: a self-contained HTML page (inline CSS and SVG, no script, nothing fetched) and
// Markdown. Commands contribute sections (estimate today; bench, check, quantize and compare can add theirs);
// each section is a list of blocks: paragraphs, bullet lists, tables and charts. A chart carries its data as a
// table too, which is what the Markdown rendering shows.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "report_html/svg_chart.h"

namespace npukit::report_html {

struct Paragraph {
  std::string text;
};

struct BulletList {
  std::vector<std::string> items;
};

struct TableBlock {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right_aligned;  // per column (numbers); missing: left
};

struct Chart {
  std::string svg;   // from render_svg
  TableBlock data;   // the same figures, for Markdown and screen readers
};

using Block = std::variant<Paragraph, BulletList, TableBlock, Chart>;

struct Section {
  std::string title;
  std::vector<Block> blocks;
};

class Report {
 public:
  explicit Report(std::string title, std::string subtitle = {});
  void add_section(Section section);
  const std::vector<Section>& sections() const { return sections_; }

  std::string html() const;
  std::string markdown() const;

 private:
  std::string title_;
  std::string subtitle_;
  std::vector<Section> sections_;
};

// True for a path ending in .html, .htm or .md.
bool is_report_path(const std::string& path);
// Writes html() or markdown() by the path's extension, through a temporary file renamed into place, so a failed
// write leaves no half-written report. Throws npukit::Error(io) naming the path.
void write_report(const Report& report, const std::string& path);

}  // namespace npukit::report_html
