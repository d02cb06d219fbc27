// Terminal tables and human-readable units for command output.
//
// Commands print for people with Table (aligned columns, numbers right-aligned so digits line up) and for
// programs with nlohmann::json; the unit helpers keep every command's numbers in the same form
// ("8.21 G", "12.3 MiB", "4.52 ms").
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace npukit::cli {

enum class Align { left, right };

class Table {
 public:
  struct Column {
    std::string title;
    Align align = Align::left;
  };

  explicit Table(std::vector<Column> columns);

  // A row has one cell per column; missing cells print empty, extra cells are an internal error.
  void add_row(std::vector<std::string> cells);
  size_t row_count() const { return rows_.size(); }

  // Prints the header, a rule and the rows; each line is indented by `indent` spaces. A cell wider than
  // `max_cell_width` is shortened in the middle with "…" so one long tensor name cannot push the table off
  // the screen.
  void print(std::ostream& out, size_t indent = 0, size_t max_cell_width = 48) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// 8210000000 → "8.21 G", 1530 → "1.53 K", 999 → "999". Three significant digits.
std::string format_count(double count);
// Binary units: 12900000 → "12.3 MiB", 512 → "512 B".
std::string format_bytes(double bytes);
// 0.00452 → "4.52 ms", 1.5 → "1.50 s", 3e-6 → "3.00 us".
std::string format_seconds(double seconds);
// Shortest decimal form with up to `significant` digits: 0.5 → "0.5", 1234.5678 → "1234.57".
std::string format_number(double value, int significant = 6);
// Visible width of UTF-8 text (counts code points, not bytes).
size_t display_width(const std::string& text);
// Shortens text to `width` code points with "…" in the middle.
std::string shorten_middle(const std::string& text, size_t width);

}  // namespace npukit::cli
