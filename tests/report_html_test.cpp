// The report module: SVG charts, the HTML page (self-contained: no script, nothing fetched) and Markdown, the
// atomic write; and, in WholeModel, `npukit estimate --report`, `npukit compare --report` and `npukit bench
// --end-to-end --report` opened in headless Chromium: the page loads without console errors and its screenshot
// shows the charts in their colours.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "cli_runner.h"
#include "npukit/error.h"
#include "report_html/estimate_sections.h"
#include "report_html/pipeline_sections.h"
#include "report_html/report.h"
#include "report_html/svg_chart.h"
#include "vision/image_decoding.h"
#include "quantization_fixtures.h"

namespace npukit::testing {
namespace {

report_html::Report sample_report() {
  report_html::Report report("A <report> & more", "sub");
  report_html::BarChart bars{"Latency", "ms", {}, false};
  bars.bars.push_back({"rk3588", 20, 15, 30, "#2f6fb0", "20 ms"});
  bars.bars.push_back({"hailo8", 2, 0, 0, "#2f6fb0", "2 ms"});
  report_html::TableBlock data{{"target", "ms"}, {{"rk3588", "20"}, {"hailo8", "2"}}, {false, true}};
  report.add_section({"Latency", {report_html::Paragraph{"text with | pipe"}, report_html::Chart{render_svg(bars), data}}});
  report.add_section({"List", {report_html::BulletList{{"one", "two"}}}});
  return report;
}

TEST(ReportHtml, EscapesTextForHtmlAndSvg) {
  EXPECT_EQ(report_html::escape_xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

TEST(ReportHtml, BarChartDrawsEveryBarAndItsWhiskers) {
  report_html::BarChart chart{"t", "ms", {}, false};
  chart.bars.push_back({"a", 10, 5, 20, "#123456", "10 ms"});
  chart.bars.push_back({"b", 0, 0, 0, "#654321", "0 ms"});  // a zero bar still draws (1 px), no NaN
  const std::string svg = report_html::render_svg(chart);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("fill=\"#123456\""), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#654321\""), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  // The whisker: one horizontal line and two end caps in black.
  size_t whisker_lines = 0;
  for (size_t at = svg.find("stroke=\"#111111\""); at != std::string::npos; at = svg.find("stroke=\"#111111\"", at + 1)) ++whisker_lines;
  EXPECT_EQ(whisker_lines, 3u);
  // A logarithmic chart spans whole decades.
  chart.logarithmic = true;
  chart.bars[1].value = 0.5;
  const std::string log_svg = report_html::render_svg(chart);
  EXPECT_NE(log_svg.find("(log scale)"), std::string::npos);
  EXPECT_NE(log_svg.find(">0.1<"), std::string::npos);
  EXPECT_NE(log_svg.find(">100<"), std::string::npos);
}

TEST(ReportHtml, StackedChartHasALegendAndOneRectanglePerNonZeroPart) {
  report_html::StackedBarChart chart{"t", "ms", {"x", "y"}, {"#aa0000", "#00aa00"}, {{"row", {1.0, 0.0}}, {"row2", {2.0, 3.0}}}};
  const std::string svg = report_html::render_svg(chart);
  size_t red = 0, green = 0;
  for (size_t at = svg.find("#aa0000"); at != std::string::npos; at = svg.find("#aa0000", at + 1)) ++red;
  for (size_t at = svg.find("#00aa00"); at != std::string::npos; at = svg.find("#00aa00", at + 1)) ++green;
  EXPECT_EQ(red, 3u);    // legend + two bars
  EXPECT_EQ(green, 2u);  // legend + one bar (the zero part draws nothing)
}

TEST(ReportHtml, HtmlIsSelfContainedAndMarkdownCarriesTheChartData) {
  const report_html::Report report = sample_report();
  const std::string html = report.html();
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_NE(html.find("<title>A &lt;report&gt; &amp; more</title>"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);  // the page may fetch nothing at all
  const std::string markdown = report.markdown();
  EXPECT_NE(markdown.find("# A <report> & more"), std::string::npos);
  EXPECT_NE(markdown.find("| rk3588 | 20 |"), std::string::npos);
  EXPECT_NE(markdown.find("|---|---:|"), std::string::npos);
  EXPECT_NE(markdown.find("- two"), std::string::npos);
  EXPECT_EQ(markdown.find("<svg"), std::string::npos);
}

TEST(ReportHtml, AFailedWriteLeavesNoFileAndNamesThePath) {
  const std::filesystem::path missing = std::filesystem::temp_directory_path() / "npukit_no_such_dir_for_report" / "r.html";
  try {
    report_html::write_report(sample_report(), missing.string());
    FAIL() << "wrote into a missing folder";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::io);
    EXPECT_NE(std::string(error.what()).find("r.html"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_THROW(report_html::write_report(sample_report(), "report.pdf"), Error);
  const std::filesystem::path written = std::filesystem::temp_directory_path() / ("npukit_report_" + std::to_string(::getpid()) + ".md");
  report_html::write_report(sample_report(), written.string());
  EXPECT_EQ(read_text(written), sample_report().markdown());
  EXPECT_FALSE(std::filesystem::exists(written.string() + ".partial"));
  std::filesystem::remove(written);
}


// How many pixels are within `tolerance` of a colour.
size_t count_colour(const vision::Image& image, int red, int green, int blue, int tolerance = 12) {
  size_t count = 0;
  for (size_t i = 0; i + 2 < image.pixels.size(); i += 3) {
    if (std::abs(image.pixels[i] - red) <= tolerance && std::abs(image.pixels[i + 1] - green) <= tolerance &&
        std::abs(image.pixels[i + 2] - blue) <= tolerance) {
      ++count;
    }
  }
  return count;
}

// Opens `html` in headless Chromium as a user's browser would: a 1200×2000 screenshot and the DOM it built.
// Fails the test on a console message or a Content-Security-Policy refusal (a self-contained page without
// script has none).
struct ChromiumView {
  vision::Image screenshot;
  std::string dom;
};

class ReportHtmlWholeModel : public CliRunner {
 protected:
  ChromiumView open_in_chromium(const std::string& html) const;
};

ChromiumView ReportHtmlWholeModel::open_in_chromium(const std::string& html) const {
  const ReportHtmlWholeModel& runner = *this;
  ChromiumView view;
  EXPECT_EQ(std::system("command -v chromium > /dev/null 2>&1"), 0)
      << "chromium is not installed: tools/install_dependencies.sh test installs it";
  const std::string chromium = "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
                               "--disable-component-update --disable-sync --no-first-run --enable-logging=stderr --v=0 "
                               "--user-data-dir='" + runner.path("profile") + "' ";
  const std::string png = runner.path("report.png");
  EXPECT_EQ(std::system((chromium + "--screenshot='" + png + "' --window-size=1200,2000 'file://" + html + "' > '" +
                         runner.path("shot.out") + "' 2> '" + runner.path("shot.err") + "'").c_str()), 0)
      << read_text(runner.path("shot.err"));
  EXPECT_EQ(std::system((chromium + "--dump-dom 'file://" + html + "' > '" + runner.path("dom.html") + "' 2> '" +
                         runner.path("dom.err") + "'").c_str()), 0)
      << read_text(runner.path("dom.err"));
  // Console messages are logged as "CONSOLE(line)".
  for (const std::string log : {read_text(runner.path("shot.err")), read_text(runner.path("dom.err"))}) {
    EXPECT_EQ(log.find("CONSOLE"), std::string::npos) << log;
    EXPECT_EQ(log.find("Content Security Policy"), std::string::npos) << log;
  }
  view.dom = read_text(runner.path("dom.html"));
  if (std::filesystem::exists(png)) view.screenshot = vision::read_image(png);
  return view;
}

TEST_F(ReportHtmlWholeModel, EstimateReportOpensInHeadlessChromiumWithItsCharts) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/mobilenetv2.onnx";
  ASSERT_TRUE(std::filesystem::exists(model)) << "run tools/make_models.sh";
  const std::string html = path("report.html");
  CommandResult estimate = run("estimate '" + model + "' --target all --report '" + html + "'");
  ASSERT_EQ(estimate.exit_code, 0) << estimate.err;
  const std::string page = read_text(html);
  EXPECT_NE(page.find("Latency per target"), std::string::npos);
  EXPECT_NE(page.find("How good is the estimate"), std::string::npos);

  const ChromiumView view = open_in_chromium(html);
  EXPECT_NE(view.dom.find("<svg"), std::string::npos);
  EXPECT_NE(view.dom.find("Estimated latency per target"), std::string::npos);

  const vision::Image& shot = view.screenshot;
  ASSERT_EQ(shot.width, 1200);
  ASSERT_EQ(shot.height, 2000);
  // The charts are there: the estimate bars (blue) and the breakdown's CPU and link colours.
  EXPECT_GT(count_colour(shot, 0x2f, 0x6f, 0xb0), 5000u);
  EXPECT_GT(count_colour(shot, 0xc0, 0x39, 0x2b), 200u);
  EXPECT_GT(count_colour(shot, 0x3a, 0x9d, 0x5d), 200u);
  // Not blank: most of the page is white, but far from all of it.
  const size_t white = count_colour(shot, 255, 255, 255, 3);
  EXPECT_LT(white, static_cast<size_t>(shot.width) * static_cast<size_t>(shot.height) * 97 / 100);
}

// `npukit compare --report` (issue 13: the report shows per-layer error from compare): a float model against
// its copy with one block's weights changed, so the chart has a red bar where the error enters.
TEST_F(ReportHtmlWholeModel, CompareReportOpensInHeadlessChromiumWithItsSqnrChart) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/mobilenetv2.onnx";
  ASSERT_TRUE(std::filesystem::exists(model)) << "run tools/make_models.sh";
  const std::string html = path("compare.html");
  CommandResult compare = run("compare '" + model + "' --backend-a ref --backend-b cpu --top 12 --report '" + html + "'");
  ASSERT_EQ(compare.exit_code, 0) << compare.err;
  const std::string page = read_text(html);
  EXPECT_NE(page.find("Per-layer SQNR"), std::string::npos);
  EXPECT_NE(page.find("Verdict: "), std::string::npos);

  const ChromiumView view = open_in_chromium(html);
  EXPECT_NE(view.dom.find("<svg"), std::string::npos);
  EXPECT_NE(view.dom.find("SQNR per value, in execution order"), std::string::npos);
  const vision::Image& shot = view.screenshot;
  ASSERT_EQ(shot.width, 1200);
  // The SQNR bars (blue) and the one where the error enters (red).
  EXPECT_GT(count_colour(shot, 0x2f, 0x6f, 0xb0), 5000u);
  EXPECT_GT(count_colour(shot, 0xc0, 0x39, 0x2b), 300u);
}

// The pipeline's sections from known statistics: one bar per worker count, model only beside end to end, one
// stacked bar per run, and the conditions table.
TEST(ReportHtml, PipelineSectionsShowScalingGapAndStages) {
  std::vector<report_html::WorkerScalingRun> runs;
  for (int workers : {1, 2}) {
    report_html::WorkerScalingRun run;
    run.workers = workers;
    run.end_to_end.throughput = 50.0 * workers;
    run.end_to_end.frames_completed = 100;
    run.end_to_end.latency.p50 = 0.04;
    run.end_to_end.latency.p99 = 0.05;
    run.model_only.throughput = 80.0 * workers;
    for (int stage = 0; stage < pipeline::stage_count; ++stage) {
      pipeline::StageStatistics statistics;
      statistics.stage = static_cast<pipeline::Stage>(stage);
      statistics.frames = 100;
      statistics.time.mean = 0.001 * (stage + 1);
      run.end_to_end.stages.push_back(statistics);
    }
    runs.push_back(run);
  }
  const std::vector<report_html::Section> sections = report_html::pipeline_sections(runs, {{"timed", "end to end"}});
  ASSERT_EQ(sections.size(), 4u);
  EXPECT_EQ(sections[0].title, "Worker scaling");
  report_html::Report report("pipeline");
  for (const auto& section : sections) report.add_section(section);
  const std::string html = report.html();
  EXPECT_NE(html.find("100/s, p50 40 ms, p99 50 ms"), std::string::npos);  // the 2-worker bar's annotation
  const std::string markdown = report.markdown();
  EXPECT_NE(markdown.find("| 2.00x |"), std::string::npos) << markdown;  // the speed-up of 2 workers over 1
  EXPECT_NE(markdown.find("| 62% |"), std::string::npos) << markdown;    // end to end 50/s of model only 80/s
  EXPECT_NE(html.find(report_html::worker_scaling_color), std::string::npos);
  EXPECT_NE(html.find(report_html::model_only_color), std::string::npos);
  for (const std::string& color : report_html::pipeline_stage_colors) EXPECT_NE(html.find(color), std::string::npos) << color;
  EXPECT_NE(markdown.find("| timed | end to end |"), std::string::npos) << markdown;
}

TEST_F(ReportHtmlWholeModel, PipelineBenchReportOpensInHeadlessChromiumWithItsCharts) {
  ASSERT_EQ(std::system("command -v chromium > /dev/null 2>&1"), 0)
      << "chromium is not installed: tools/install_dependencies.sh test installs it";
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/detector/shapes_yolov8.onnx";
  const std::string html = path("pipeline.html");
  CommandResult bench = run("bench '" + model + "' --end-to-end synthetic:320x240 --workers 1,2 -n 8 --warmup 1 --report '" + html + "'");
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  const std::string chromium = "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
                               "--disable-component-update --disable-sync --no-first-run --enable-logging=stderr --v=0 "
                               "--user-data-dir='" + path("profile") + "' ";
  const std::string png = path("pipeline.png");
  ASSERT_EQ(std::system((chromium + "--screenshot='" + png + "' --window-size=1200,2400 'file://" + html + "' > '" +
                         path("shot.out") + "' 2> '" + path("shot.err") + "'").c_str()), 0)
      << read_text(path("shot.err"));
  ASSERT_EQ(std::system((chromium + "--dump-dom 'file://" + html + "' > '" + path("dom.html") + "' 2> '" + path("dom.err") + "'").c_str()), 0)
      << read_text(path("dom.err"));
  for (const std::string log : {read_text(path("shot.err")), read_text(path("dom.err"))}) {
    EXPECT_EQ(log.find("CONSOLE"), std::string::npos) << log;
    EXPECT_EQ(log.find("Content Security Policy"), std::string::npos) << log;
  }
  const std::string dom = read_text(path("dom.html"));
  for (const char* title : {"Worker scaling", "Model only against end to end", "Where a frame", "Conditions"}) {
    EXPECT_NE(dom.find(title), std::string::npos) << title;
  }
  const vision::Image shot = vision::read_image(png);
  ASSERT_EQ(shot.width, 1200);
  // The scaling bars (teal), the model-only bars (purple) and the stacked stages (inference blue, decode orange).
  EXPECT_GT(count_colour(shot, 0x17, 0xa2, 0xb8), 2000u);
  EXPECT_GT(count_colour(shot, 0x94, 0x67, 0xbd), 1000u);
  EXPECT_GT(count_colour(shot, 0x2f, 0x6f, 0xb0), 200u);
  EXPECT_GT(count_colour(shot, 0xe0, 0x7b, 0x39), 50u);
}

// `npukit quantize --keep-float 1 --report FILE.html` (issue 11 §9): the sensitivity chart, the layer kept float
// in red among the int8 ones in blue, opens in headless Chromium.
TEST_F(ReportHtmlWholeModel, QuantizeReportOpensInHeadlessChromiumWithItsSensitivityChart) {
  const std::string model = write_conv_bn_relu_net(path("net.onnx"));
  const std::string calibration = write_calibration_folder(path("calibration"), 6, 900);
  const std::string html = path("quantize.html");
  CommandResult quantize = run("quantize '" + model + "' --target rk3588 --calibration '" + calibration +
                               "' --keep-float 1 --sensitivity-samples 2 -o '" + path("q.onnx") + "' --report '" + html + "'");
  ASSERT_EQ(quantize.exit_code, 0) << quantize.err;
  const ChromiumView view = open_in_chromium(html);
  EXPECT_NE(view.dom.find("<svg"), std::string::npos);
  EXPECT_NE(view.dom.find("Per-layer sensitivity"), std::string::npos);
  EXPECT_NE(view.dom.find("Output SQNR with only this layer quantized"), std::string::npos);
  EXPECT_NE(view.dom.find("mixed-precision"), std::string::npos);
  const vision::Image& shot = view.screenshot;
  ASSERT_EQ(shot.width, 1200);
  EXPECT_GT(count_colour(shot, 0x2f, 0x6f, 0xb0), 500u);  // int8 layers
  EXPECT_GT(count_colour(shot, 0xc0, 0x39, 0x2b), 200u);  // the layer kept float
}

}  // namespace
}  // namespace npukit::testing
