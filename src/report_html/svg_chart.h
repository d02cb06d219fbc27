// Small SVG charts written by hand (no library, no script): horizontal bars with optional whiskers, and
// horizontal stacked bars with a legend. Output is a self-contained <svg> element for an HTML page; every text is
// escaped. Colours are fixed hex values so a test can find them in a screenshot.
#pragma once

#include <string>
#include <vector>

namespace npukit::report_html {

// Escapes &, <, >, " and ' for HTML/SVG text and attributes.
std::string escape_xml(const std::string& text);

struct Bar {
  std::string label;
  double value = 0;
  double low = 0, high = 0;  // whisker ends; both 0: no whisker
  std::string color = "#2f6fb0";
  std::string annotation;    // printed after the bar ("12.3 ms, 81 FPS")
};

struct BarChart {
  std::string title;
  std::string unit;          // axis unit ("ms")
  std::vector<Bar> bars;
  bool logarithmic = false;  // values spanning orders of magnitude (boards from 0.4 ms to 1.3 s)
  double baseline = 0;       // > 0 on a logarithmic chart: bars grow from it both ways (a ratio around 1)
};

struct StackedBar {
  std::string label;
  std::vector<double> values;  // one per category
};

struct StackedBarChart {
  std::string title;
  std::string unit;
  std::vector<std::string> categories;
  std::vector<std::string> colors;  // one per category
  std::vector<StackedBar> bars;
};

std::string render_svg(const BarChart& chart, int width = 1000);
std::string render_svg(const StackedBarChart& chart, int width = 1000);

}  // namespace npukit::report_html
