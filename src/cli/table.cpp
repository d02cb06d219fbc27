#include "cli/table.h"

#include <cmath>
#include <cstdio>

#include "npukit/error.h"

namespace npukit::cli {

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  if (cells.size() > columns_.size()) {
    throw Error(ErrorKind::internal, "Table::add_row: " + std::to_string(cells.size()) + " cells for " +
                                         std::to_string(columns_.size()) + " columns");
  }
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

size_t display_width(const std::string& text) {
  size_t width = 0;
  for (unsigned char byte : text) {
    if ((byte & 0xC0) != 0x80) ++width;  // count lead bytes only
  }
  return width;
}

std::string shorten_middle(const std::string& text, size_t width) {
  size_t current = display_width(text);
  if (current <= width || width < 3) return text;
  // Work in code points so a multi-byte character is never split.
  std::vector<std::string> points;
  for (size_t i = 0; i < text.size();) {
    size_t length = 1;
    unsigned char lead = static_cast<unsigned char>(text[i]);
    if (lead >= 0xF0) length = 4;
    else if (lead >= 0xE0) length = 3;
    else if (lead >= 0xC0) length = 2;
    points.push_back(text.substr(i, length));
    i += length;
  }
  size_t keep = width - 1;
  size_t head = (keep + 1) / 2;
  size_t tail = keep - head;
  std::string result;
  for (size_t i = 0; i < head; ++i) result += points[i];
  result += "…";
  for (size_t i = points.size() - tail; i < points.size(); ++i) result += points[i];
  return result;
}

void Table::print(std::ostream& out, size_t indent, size_t max_cell_width) const {
  std::vector<std::vector<std::string>> shown = rows_;
  for (auto& row : shown) {
    for (auto& cell : row) cell = shorten_middle(cell, max_cell_width);
  }
  std::vector<size_t> widths(columns_.size(), 0);
  for (size_t c = 0; c < columns_.size(); ++c) widths[c] = display_width(columns_[c].title);
  for (const auto& row : shown) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  auto print_line = [&](const std::vector<std::string>& cells) {
    std::string line(indent, ' ');
    for (size_t c = 0; c < cells.size(); ++c) {
      size_t padding = widths[c] - display_width(cells[c]);
      bool last = c + 1 == cells.size();
      if (columns_[c].align == Align::right) {
        line.append(padding, ' ').append(cells[c]);
      } else {
        line.append(cells[c]);
        if (!last) line.append(padding, ' ');
      }
      if (!last) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  std::vector<std::string> titles;
  for (const Column& column : columns_) titles.push_back(column.title);
  print_line(titles);
  std::vector<std::string> rules;
  for (size_t width : widths) rules.push_back(std::string(width, '-'));
  print_line(rules);
  for (const auto& row : shown) print_line(row);
}

namespace {
// Three significant digits: 8.21, 82.1, 821.
std::string three_digits(double value) {
  char buffer[32];
  double magnitude = std::fabs(value);
  if (magnitude >= 100 || magnitude == 0) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else if (magnitude >= 10) {
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
  }
  return buffer;
}

std::string scaled(double value, double base, const char* const* units, size_t unit_count, const char* separator) {
  if (!std::isfinite(value)) return std::to_string(value);
  size_t unit = 0;
  double magnitude = std::fabs(value);
  // Round first so 999.7 K is printed as "1.00 M", not "1000 K".
  while (unit + 1 < unit_count && magnitude >= base * 0.9995) {
    value /= base;
    magnitude /= base;
    ++unit;
  }
  if (unit == 0 && std::floor(value) == value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return std::string(buffer) + (units[0][0] ? separator : "") + units[0];
  }
  return three_digits(value) + separator + units[unit];
}
}  // namespace

std::string format_count(double count) {
  static const char* const units[] = {"", "K", "M", "G", "T", "P"};
  return scaled(count, 1000.0, units, 6, " ");
}

std::string format_bytes(double bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  return scaled(bytes, 1024.0, units, 5, " ");
}

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds)) return std::to_string(seconds);
  double magnitude = std::fabs(seconds);
  if (magnitude >= 1) return three_digits(seconds) + " s";
  if (magnitude >= 1e-3) return three_digits(seconds * 1e3) + " ms";
  if (magnitude >= 1e-6) return three_digits(seconds * 1e6) + " us";
  return three_digits(seconds * 1e9) + " ns";
}

std::string format_number(double value, int significant) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
  return buffer;
}

}  // namespace npukit::cli
