#include "report_html/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace npukit::report_html {

namespace {

constexpr int row_height = 26;
constexpr int label_width = 230;
constexpr int annotation_width = 190;
constexpr int top = 34;

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

std::string tick_label(double value) {
  char text[32];
  if (value >= 100 || value == std::floor(value)) std::snprintf(text, sizeof text, "%.0f", value);
  else if (value >= 1) std::snprintf(text, sizeof text, "%.1f", value);
  else std::snprintf(text, sizeof text, "%.2g", value);
  return text;
}

// Maps values onto [0, span] pixels, linearly from 0 or logarithmically between decades.
struct Scale {
  bool logarithmic = false;
  double lowest = 0, highest = 1;
  double span = 1;
  double operator()(double value) const {
    if (logarithmic) {
      const double clamped = std::clamp(value, lowest, highest);
      return span * (std::log10(clamped) - std::log10(lowest)) / (std::log10(highest) - std::log10(lowest));
    }
    return span * std::clamp(value, 0.0, highest) / highest;
  }
  std::vector<double> ticks() const {
    std::vector<double> result;
    if (logarithmic) {
      for (double decade = lowest; decade <= highest * 1.0001; decade *= 10) result.push_back(decade);
      return result;
    }
    const double raw = highest / 5;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw / magnitude < 2 ? 2 * magnitude : raw / magnitude < 5 ? 5 * magnitude : 10 * magnitude;
    for (double tick = 0; tick <= highest * 1.0001; tick += step) result.push_back(tick);
    return result;
  }
};

Scale make_scale(double largest, double smallest_positive, bool logarithmic, double span) {
  Scale scale;
  scale.span = span;
  scale.logarithmic = logarithmic && smallest_positive > 0 && largest > smallest_positive;
  if (scale.logarithmic) {
    scale.lowest = std::pow(10.0, std::floor(std::log10(smallest_positive)));
    scale.highest = std::pow(10.0, std::ceil(std::log10(largest)));
    if (scale.highest <= scale.lowest) scale.highest = scale.lowest * 10;
  } else {
    scale.highest = largest > 0 ? largest * 1.05 : 1;
  }
  return scale;
}

void axis(std::ostringstream& svg, const Scale& scale, int plot_height, const std::string& unit) {
  for (double tick : scale.ticks()) {
    const double x = label_width + scale(tick);
    svg << "<line x1=\"" << number(x) << "\" y1=\"" << top - 4 << "\" x2=\"" << number(x) << "\" y2=\"" << top + plot_height
        << "\" stroke=\"#dddddd\"/>";
    svg << "<text x=\"" << number(x) << "\" y=\"" << top + plot_height + 16 << "\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555555\">"
        << tick_label(tick) << "</text>";
  }
  svg << "<text x=\"" << label_width + scale.span << "\" y=\"" << top + plot_height + 30
      << "\" font-size=\"11\" text-anchor=\"end\" fill=\"#555555\">" << escape_xml(unit) << (scale.logarithmic ? " (log scale)" : "")
      << "</text>";
}

std::string open_svg(int width, int height, const std::string& title) {
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 " << width
      << " " << height << "\" role=\"img\" aria-label=\"" << escape_xml(title) << "\" font-family=\"sans-serif\">";
  svg << "<text x=\"0\" y=\"18\" font-size=\"14\" font-weight=\"bold\" fill=\"#222222\">" << escape_xml(title) << "</text>";
  return svg.str();
}

}  // namespace

std::string escape_xml(const std::string& text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&#39;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string render_svg(const BarChart& chart, int width) {
  const int plot_height = std::max<int>(1, static_cast<int>(chart.bars.size())) * row_height;
  const int height = top + plot_height + 40;
  double largest = 0, smallest = 0;
  for (const Bar& bar : chart.bars) {
    largest = std::max({largest, bar.value, bar.high});
    const double low = bar.low > 0 ? std::min(bar.low, bar.value) : bar.value;
    if (low > 0) smallest = smallest > 0 ? std::min(smallest, low) : low;
  }
  if (chart.baseline > 0) {
    largest = std::max(largest, chart.baseline);
    smallest = smallest > 0 ? std::min(smallest, chart.baseline) : chart.baseline;
  }
  const Scale scale = make_scale(largest, smallest, chart.logarithmic, width - label_width - annotation_width);
  std::ostringstream svg;
  svg << open_svg(width, height, chart.title);
  axis(svg, scale, plot_height, chart.unit);
  if (scale.logarithmic && chart.baseline > 0) {
    const double x = label_width + scale(chart.baseline);
    svg << "<line x1=\"" << number(x) << "\" y1=\"" << top - 4 << "\" x2=\"" << number(x) << "\" y2=\"" << top + plot_height
        << "\" stroke=\"#555555\" stroke-width=\"1.5\"/>";
  }
  for (size_t i = 0; i < chart.bars.size(); ++i) {
    const Bar& bar = chart.bars[i];
    const double y = top + static_cast<double>(i) * row_height;
    svg << "<text x=\"" << label_width - 8 << "\" y=\"" << number(y + 17) << "\" font-size=\"12\" text-anchor=\"end\" fill=\"#222222\">"
        << escape_xml(bar.label) << "</text>";
    const bool from_baseline = scale.logarithmic && chart.baseline > 0;
    const double start = from_baseline ? std::min(scale(chart.baseline), scale(bar.value)) : 0.0;
    const double extent = from_baseline ? std::abs(scale(chart.baseline) - scale(bar.value)) : scale(bar.value);
    svg << "<rect x=\"" << number(label_width + start) << "\" y=\"" << number(y + 5) << "\" width=\"" << number(std::max(1.0, extent))
        << "\" height=\"16\" fill=\"" << escape_xml(bar.color) << "\"><title>" << escape_xml(bar.label + ": " + bar.annotation)
        << "</title></rect>";
    if (bar.low > 0 || bar.high > 0) {
      const double x1 = label_width + scale(bar.low), x2 = label_width + scale(bar.high), middle = y + 13;
      svg << "<line x1=\"" << number(x1) << "\" y1=\"" << number(middle) << "\" x2=\"" << number(x2) << "\" y2=\"" << number(middle)
          << "\" stroke=\"#111111\" stroke-width=\"1.5\"/>";
      for (double x : {x1, x2}) {
        svg << "<line x1=\"" << number(x) << "\" y1=\"" << number(middle - 6) << "\" x2=\"" << number(x) << "\" y2=\""
            << number(middle + 6) << "\" stroke=\"#111111\" stroke-width=\"1.5\"/>";
      }
    }
    svg << "<text x=\"" << width - annotation_width + 6 << "\" y=\"" << number(y + 17) << "\" font-size=\"11\" fill=\"#333333\">"
        << escape_xml(bar.annotation) << "</text>";
  }
  svg << "</svg>";
  return svg.str();
}

std::string render_svg(const StackedBarChart& chart, int width) {
  const int legend_height = 22;
  const int plot_height = std::max<int>(1, static_cast<int>(chart.bars.size())) * row_height;
  const int height = top + legend_height + plot_height + 40;
  double largest = 0;
  for (const StackedBar& bar : chart.bars) {
    double total = 0;
    for (double value : bar.values) total += std::max(0.0, value);
    largest = std::max(largest, total);
  }
  const Scale scale = make_scale(largest, 0, false, width - label_width - annotation_width);
  std::ostringstream svg;
  svg << open_svg(width, height, chart.title);
  double legend_x = label_width;
  for (size_t c = 0; c < chart.categories.size(); ++c) {
    const std::string color = c < chart.colors.size() ? chart.colors[c] : "#888888";
    svg << "<rect x=\"" << number(legend_x) << "\" y=\"" << top - 6 << "\" width=\"12\" height=\"12\" fill=\"" << escape_xml(color) << "\"/>";
    svg << "<text x=\"" << number(legend_x + 16) << "\" y=\"" << top + 4 << "\" font-size=\"12\" fill=\"#222222\">"
        << escape_xml(chart.categories[c]) << "</text>";
    legend_x += 30 + 7.5 * static_cast<double>(chart.categories[c].size());
  }
  std::ostringstream body;
  const int plot_top = top + legend_height;
  for (size_t i = 0; i < chart.bars.size(); ++i) {
    const StackedBar& bar = chart.bars[i];
    const double y = plot_top + static_cast<double>(i) * row_height;
    body << "<text x=\"" << label_width - 8 << "\" y=\"" << number(y + 17) << "\" font-size=\"12\" text-anchor=\"end\" fill=\"#222222\">"
         << escape_xml(bar.label) << "</text>";
    double x = label_width, total = 0;
    for (size_t c = 0; c < bar.values.size() && c < chart.categories.size(); ++c) {
      const double value = std::max(0.0, bar.values[c]);
      total += value;
      const double w = scale(total) - (x - label_width);
      if (w > 0) {
        const std::string color = c < chart.colors.size() ? chart.colors[c] : "#888888";
        body << "<rect x=\"" << number(x) << "\" y=\"" << number(y + 5) << "\" width=\"" << number(w) << "\" height=\"16\" fill=\""
             << escape_xml(color) << "\"><title>" << escape_xml(bar.label + " " + chart.categories[c] + ": " + tick_label(value) + " " + chart.unit)
             << "</title></rect>";
      }
      x = label_width + scale(total);
    }
    body << "<text x=\"" << width - annotation_width + 6 << "\" y=\"" << number(y + 17) << "\" font-size=\"11\" fill=\"#333333\">"
         << tick_label(total) << " " << escape_xml(chart.unit) << "</text>";
  }
  // The axis is drawn against the shifted plot area.
  std::ostringstream axis_svg;
  for (double tick : scale.ticks()) {
    const double tx = label_width + scale(tick);
    axis_svg << "<line x1=\"" << number(tx) << "\" y1=\"" << plot_top << "\" x2=\"" << number(tx) << "\" y2=\"" << plot_top + plot_height
             << "\" stroke=\"#dddddd\"/>";
    axis_svg << "<text x=\"" << number(tx) << "\" y=\"" << plot_top + plot_height + 16
             << "\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555555\">" << tick_label(tick) << "</text>";
  }
  axis_svg << "<text x=\"" << label_width + scale.span << "\" y=\"" << plot_top + plot_height + 30
           << "\" font-size=\"11\" text-anchor=\"end\" fill=\"#555555\">" << escape_xml(chart.unit) << "</text>";
  svg << axis_svg.str() << body.str() << "</svg>";
  return svg.str();
}

}  // namespace npukit::report_html
