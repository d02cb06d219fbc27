#include "report_html/report.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "npukit/error.h"

namespace npukit::report_html {

namespace {

// Inline style: the page needs nothing from the network.
constexpr const char* style = R"css(
body { font-family: sans-serif; margin: 24px auto; max-width: 1060px; color: #222222; background: #ffffff; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #cccccc; padding-bottom: 4px; }
p.subtitle { color: #555555; margin-top: 0; }
table { border-collapse: collapse; margin: 10px 0; font-size: 13px; }
th, td { border: 1px solid #dddddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 14px 0; }
ul { font-size: 14px; }
)css";

std::string markdown_cell(const std::string& text) {
  std::string cell;
  for (char c : text) {
    if (c == '|') cell += "\\|";
    else if (c == '\n') cell += ' ';
    else cell += c;
  }
  return cell;
}

void html_table(std::ostringstream& out, const TableBlock& table) {
  out << "<table><thead><tr>";
  for (const std::string& title : table.header) out << "<th>" << escape_xml(title) << "</th>";
  out << "</tr></thead><tbody>";
  for (const auto& row : table.rows) {
    out << "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      const bool right = i < table.right_aligned.size() && table.right_aligned[i];
      out << (right ? "<td class=\"number\">" : "<td>") << escape_xml(row[i]) << "</td>";
    }
    out << "</tr>";
  }
  out << "</tbody></table>\n";
}

void markdown_table(std::ostringstream& out, const TableBlock& table) {
  out << "|";
  for (const std::string& title : table.header) out << " " << markdown_cell(title) << " |";
  out << "\n|";
  for (size_t i = 0; i < table.header.size(); ++i) out << (i < table.right_aligned.size() && table.right_aligned[i] ? "---:|" : "---|");
  out << "\n";
  for (const auto& row : table.rows) {
    out << "|";
    for (const std::string& cell : row) out << " " << markdown_cell(cell) << " |";
    out << "\n";
  }
  out << "\n";
}

}  // namespace

Report::Report(std::string title, std::string subtitle) : title_(std::move(title)), subtitle_(std::move(subtitle)) {}

void Report::add_section(Section section) { sections_.push_back(std::move(section)); }

std::string Report::html() const {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
      << "<title>" << escape_xml(title_) << "</title><style>" << style << "</style></head><body>\n";
  out << "<h1>" << escape_xml(title_) << "</h1>\n";
  if (!subtitle_.empty()) out << "<p class=\"subtitle\">" << escape_xml(subtitle_) << "</p>\n";
  for (const Section& section : sections_) {
    out << "<section><h2>" << escape_xml(section.title) << "</h2>\n";
    for (const Block& block : section.blocks) {
      if (const auto* paragraph = std::get_if<Paragraph>(&block)) {
        out << "<p>" << escape_xml(paragraph->text) << "</p>\n";
      } else if (const auto* list = std::get_if<BulletList>(&block)) {
        out << "<ul>";
        for (const std::string& item : list->items) out << "<li>" << escape_xml(item) << "</li>";
        out << "</ul>\n";
      } else if (const auto* table = std::get_if<TableBlock>(&block)) {
        html_table(out, *table);
      } else if (const auto* chart = std::get_if<Chart>(&block)) {
        out << "<figure>" << chart->svg << "</figure>\n";
      }
    }
    out << "</section>\n";
  }
  out << "</body></html>\n";
  return out.str();
}

std::string Report::markdown() const {
  std::ostringstream out;
  out << "# " << title_ << "\n\n";
  if (!subtitle_.empty()) out << subtitle_ << "\n\n";
  for (const Section& section : sections_) {
    out << "## " << section.title << "\n\n";
    for (const Block& block : section.blocks) {
      if (const auto* paragraph = std::get_if<Paragraph>(&block)) {
        out << paragraph->text << "\n\n";
      } else if (const auto* list = std::get_if<BulletList>(&block)) {
        for (const std::string& item : list->items) out << "- " << item << "\n";
        out << "\n";
      } else if (const auto* table = std::get_if<TableBlock>(&block)) {
        markdown_table(out, *table);
      } else if (const auto* chart = std::get_if<Chart>(&block)) {
        markdown_table(out, chart->data);
      }
    }
  }
  return out.str();
}

bool is_report_path(const std::string& path) {
  const std::string extension = std::filesystem::path(path).extension().string();
  return extension == ".html" || extension == ".htm" || extension == ".md";
}

void write_report(const Report& report, const std::string& path) {
  if (!is_report_path(path)) throw Error(ErrorKind::invalid_argument, "a report file must end in .html or .md", path);
  const std::string extension = std::filesystem::path(path).extension().string();
  const std::string text = extension == ".md" ? report.markdown() : report.html();
  const std::string temporary = path + ".partial";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text;
    file.flush();
    if (!file) {
      file.close();
      std::remove(temporary.c_str());
      throw Error(ErrorKind::io, "cannot write the report (is the folder there and writable, the disk not full?)", path);
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    throw Error(ErrorKind::io, "cannot move the report into place: " + error.message(), path);
  }
}

}  // namespace npukit::report_html
