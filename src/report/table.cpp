#include "report/table.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "npukit/error.h"

namespace npukit::report {

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

namespace {

// The words of a cell: split at spaces, except inside [...], so a shape such as "[1, 64, 160, 160]" is
// one word and never wrapped inside.
std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  int bracket_depth = 0;
  for (char c : text) {
    if (c == '[') ++bracket_depth;
    if (c == ']' && bracket_depth > 0) --bracket_depth;
    if (c == ' ' && bracket_depth == 0) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// Each word wider than `width` shortened in the middle; words of a cell that has no long one are kept as
// they are (including their spacing).
std::string shorten_long_words(const std::string& text, size_t width) {
  std::vector<std::string> words = split_words(text);
  bool any_long = false;
  for (const std::string& word : words) any_long = any_long || display_width(word) > width;
  if (!any_long) return text;
  std::string result;
  for (const std::string& word : words) result += (result.empty() ? "" : " ") + shorten_middle(word, width);
  return result;
}

size_t widest_line(const std::vector<std::string>& lines) {
  size_t widest = 0;
  for (const std::string& line : lines) widest = std::max(widest, display_width(line));
  return widest;
}

}  // namespace

size_t terminal_width() {
  if (const char* columns = std::getenv("COLUMNS")) {
    size_t value = 0;
    const char* end = columns + std::strlen(columns);
    auto [stop, error] = std::from_chars(columns, end, value);
    if (error == std::errc() && stop == end && value > 0) return value;
  }
  winsize size{};
  if (isatty(STDOUT_FILENO) == 1 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 0;
}

std::vector<std::string> wrap_words(const std::string& text, size_t width) {
  if (display_width(text) <= width) return {text};
  std::vector<std::string> lines;
  std::string line;
  for (const std::string& word : split_words(text)) {
    if (!line.empty() && display_width(line) + 1 + display_width(word) > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(std::move(line));
  return lines;
}

void Table::print(std::ostream& out, size_t indent, size_t max_cell_width, size_t line_width) const {
  const size_t column_count = columns_.size();
  std::vector<std::vector<std::string>> shown = rows_;
  for (auto& row : shown) {
    for (auto& cell : row) cell = shorten_long_words(cell, max_cell_width);
  }
  // Natural widths (cells wrapped at max_cell_width) and the narrowest each column may get: its title and
  // its longest word, or its natural width for numbers.
  std::vector<size_t> widths(column_count, 0), narrowest(column_count, 0);
  for (size_t c = 0; c < column_count; ++c) widths[c] = narrowest[c] = display_width(columns_[c].title);
  for (const auto& row : shown) {
    for (size_t c = 0; c < column_count; ++c) {
      widths[c] = std::max(widths[c], widest_line(wrap_words(row[c], max_cell_width)));
      for (const std::string& word : split_words(row[c])) narrowest[c] = std::max(narrowest[c], display_width(word));
    }
  }
  for (size_t c = 0; c < column_count; ++c) {
    if (columns_[c].align == Align::right) narrowest[c] = widths[c];
  }
  // Too wide for the line: narrow the widest text column that can still give, one character at a time.
  auto total_width = [&] {
    size_t total = indent + 2 * (column_count ? column_count - 1 : 0);
    for (size_t width : widths) total += width;
    return total;
  };
  while (line_width > 0 && total_width() > line_width) {
    size_t widest = column_count;
    for (size_t c = 0; c < column_count; ++c) {
      if (widths[c] > narrowest[c] && (widest == column_count || widths[c] > widths[widest])) widest = c;
    }
    if (widest == column_count) break;  // every column is at its narrowest: wider than the line, words whole
    --widths[widest];
  }

  auto print_row = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> wrapped(column_count);
    size_t height = 1;
    for (size_t c = 0; c < column_count; ++c) {
      wrapped[c] = wrap_words(cells[c], widths[c]);
      height = std::max(height, wrapped[c].size());
    }
    for (size_t row_line = 0; row_line < height; ++row_line) {
      std::string line(indent, ' ');
      for (size_t c = 0; c < column_count; ++c) {
        const std::string text = row_line < wrapped[c].size() ? wrapped[c][row_line] : "";
        const size_t shown_width = display_width(text);
        const size_t padding = widths[c] > shown_width ? widths[c] - shown_width : 0;
        const bool last = c + 1 == column_count;
        if (columns_[c].align == Align::right) {
          line.append(padding, ' ').append(text);
        } else {
          line.append(text);
          if (!last) line.append(padding, ' ');
        }
        if (!last) line += "  ";
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << "\n";
    }
  };
  std::vector<std::string> titles;
  for (const Column& column : columns_) titles.push_back(column.title);
  print_row(titles);
  std::vector<std::string> rules;
  for (size_t width : widths) rules.push_back(std::string(width, '-'));
  print_row(rules);
  for (const auto& row : shown) print_row(row);
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

std::string format_percent(double share) {
  if (!std::isfinite(share)) return "unknown";
  const double percent = share * 100.0;
  char buffer[32];
  for (int decimals = 1; decimals <= 2; ++decimals) {
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, percent);
    const double shown = std::strtod(buffer, nullptr);
    // Rounding may not make a share that is not all or nothing look like all or nothing.
    if ((shown == 100.0 && percent != 100.0) || (shown == 0.0 && percent != 0.0)) continue;
    return std::string(buffer) + "%";
  }
  if (percent > 50) return "> 99.99%";
  return percent > 0 ? "< 0.01%" : "> -0.01%";
}

std::string format_number(double value, int significant) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
  return buffer;
}

}  // namespace npukit::report
