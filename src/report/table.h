// Terminal tables and human-readable units for command output.
//
// Commands print for people with Table (aligned columns, numbers right-aligned so digits line up, text
// wrapped at word boundaries to fit the terminal) and for programs with nlohmann::json; the unit helpers keep
// every command's numbers in the same form ("8.21 G", "12.3 MiB", "4.52 ms", "99.99%").
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace npukit::report {

enum class Align { left, right };

// The width tables should fit: $COLUMNS when set to a number, else the width of the terminal on standard
// output, else 0 (no limit: output to a file or a pipe is read by programs and grep, where a wrapped row
// would split a record).
size_t terminal_width();

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

  // Prints the header, a rule and the rows; each line is indented by `indent` spaces.
  // - A cell of several words wider than `max_cell_width` wraps onto more lines at spaces; one word (a tensor
  //   name) wider than that is shortened in the middle with "…", so one name cannot push the table off the
  //   screen.
  // - When the table is wider than `line_width` (0: no limit), the widest text columns are narrowed and their
  //   cells wrapped at spaces, never inside a word; numbers (right-aligned columns) are never wrapped. A
  //   table that cannot fit without cutting words stays wider than the line.
  void print(std::ostream& out, size_t indent = 0, size_t max_cell_width = 48,
             size_t line_width = terminal_width()) const;

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
// A share (0.25 → "25.0%") with one decimal, and more where one decimal would round a share that is not
// exactly 1 or 0 to "100.0%" or "0.0%": 0.99988 → "99.99%", 0.9999999 → "> 99.99%", 1e-9 → "< 0.01%".
std::string format_percent(double share);
// Shortest decimal form with up to `significant` digits: 0.5 → "0.5", 1234.5678 → "1234.57".
std::string format_number(double value, int significant = 6);
// Visible width of UTF-8 text (counts code points, not bytes).
size_t display_width(const std::string& text);
// Shortens text to `width` code points with "…" in the middle.
std::string shorten_middle(const std::string& text, size_t width);
// Breaks text into lines of at most `width` code points at spaces; a word longer than `width` stays whole
// on a line of its own (never cut). Always at least one line.
std::vector<std::string> wrap_words(const std::string& text, size_t width);

}  // namespace npukit::report
