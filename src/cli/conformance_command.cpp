// `npukit conformance [DIR] [--filter REGEX] [--json] [--verbose]`: runs the ONNX backend node tests on the
// reference backend and prints a table per op, the totals and every test that did not pass, with why.
// Exits 1 when any test is wrong or in error (unsupported is an honest answer, not a failure).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "conformance/conformance_runner.h"

namespace npukit::cli {

namespace {

struct ConformanceArguments {
  std::string folder = "/usr/share/libonnx-testdata/data/node";
  std::string filter;
  bool json = false;
  bool verbose = false;
  bool no_isolation = false;
  int timeout_seconds = 120;
};

struct Counts {
  size_t passed = 0, wrong = 0, unsupported = 0, error = 0, disputed = 0;
  void add(conformance::TestStatus status) {
    switch (status) {
      case conformance::TestStatus::passed: ++passed; break;
      case conformance::TestStatus::wrong: ++wrong; break;
      case conformance::TestStatus::unsupported: ++unsupported; break;
      case conformance::TestStatus::error: ++error; break;
      case conformance::TestStatus::disputed: ++disputed; break;
    }
  }
  size_t total() const { return passed + wrong + unsupported + error + disputed; }
};

std::string one_line(const std::string& text, size_t limit) {
  std::string line;
  for (char c : text) line.push_back(c == '\n' ? ' ' : c);
  if (line.size() > limit) line = line.substr(0, limit - 3) + "...";
  return line;
}

void print_table(const std::vector<conformance::TestResult>& results, bool verbose) {
  std::map<std::string, Counts> per_op;
  Counts totals;
  for (const auto& result : results) {
    per_op[result.op].add(result.status);
    totals.add(result.status);
  }
  std::cout << std::left << std::setw(34) << "op" << std::right << std::setw(8) << "passed" << std::setw(8) << "wrong"
            << std::setw(13) << "unsupported" << std::setw(8) << "error" << std::setw(10) << "disputed" << "\n";
  for (const auto& [op, counts] : per_op) {
    std::cout << std::left << std::setw(34) << op << std::right << std::setw(8) << counts.passed << std::setw(8)
              << counts.wrong << std::setw(13) << counts.unsupported << std::setw(8) << counts.error << std::setw(10)
              << counts.disputed << "\n";
  }
  std::cout << std::left << std::setw(34) << "TOTAL" << std::right << std::setw(8) << totals.passed << std::setw(8)
            << totals.wrong << std::setw(13) << totals.unsupported << std::setw(8) << totals.error << std::setw(10)
            << totals.disputed << "\n\n";
  const std::string passed_share =
      totals.total() ? format_percent(static_cast<double>(totals.passed) / static_cast<double>(totals.total())) : "-";
  std::cout << totals.total() << " tests: " << totals.passed << " passed (" << passed_share << "), " << totals.wrong
            << " wrong, " << totals.unsupported << " unsupported, " << totals.error << " error, " << totals.disputed << " disputed (test data contradicts the spec)\n";
  bool header = false;
  for (const auto& result : results) {
    if (result.status == conformance::TestStatus::passed) continue;
    if (!header) {
      std::cout << "\nnot passed:\n";
      header = true;
    }
    std::cout << "  " << std::left << std::setw(12) << conformance::status_name(result.status) << result.name << ": "
              << (verbose ? result.reason : one_line(result.reason, 200)) << "\n";
  }
}

void print_json(const std::vector<conformance::TestResult>& results) {
  nlohmann::json tests = nlohmann::json::array();
  std::map<std::string, Counts> per_op;
  Counts totals;
  for (const auto& result : results) {
    per_op[result.op].add(result.status);
    totals.add(result.status);
    nlohmann::json entry = {{"name", result.name},
                            {"op", result.op},
                            {"status", conformance::status_name(result.status)},
                            {"seconds", result.seconds}};
    if (!result.reason.empty()) entry["reason"] = result.reason;
    if (result.status == conformance::TestStatus::wrong || result.max_abs_error > 0) {
      entry["max_abs_error"] = std::isfinite(result.max_abs_error) ? nlohmann::json(result.max_abs_error) : nlohmann::json("inf");
      entry["max_rel_error"] = std::isfinite(result.max_rel_error) ? nlohmann::json(result.max_rel_error) : nlohmann::json("inf");
    }
    tests.push_back(std::move(entry));
  }
  auto counts_json = [](const Counts& counts) {
    return nlohmann::json{{"passed", counts.passed},
                          {"wrong", counts.wrong},
                          {"unsupported", counts.unsupported},
                          {"error", counts.error},
                          {"disputed", counts.disputed},
                          {"total", counts.total()}};
  };
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& [op, counts] : per_op) ops[op] = counts_json(counts);
  std::cout << nlohmann::json{{"totals", counts_json(totals)}, {"ops", ops}, {"tests", tests}}.dump(2) << "\n";
}

void run_conformance(const ConformanceArguments& arguments) {
  conformance::SuiteOptions options;
  options.filter = arguments.filter;
  options.isolate = !arguments.no_isolation;
  options.timeout_seconds = arguments.timeout_seconds;
  const bool show_progress = isatty(STDERR_FILENO) != 0;
  auto progress = [&](size_t done, size_t total, const conformance::TestResult& result) {
    if (arguments.verbose) {
      std::cerr << "[" << done << "/" << total << "] " << conformance::status_name(result.status) << " " << result.name
                << (result.reason.empty() ? "" : ": " + one_line(result.reason, 300)) << "\n";
    } else if (show_progress) {
      std::cerr << "\r[" << done << "/" << total << "] " << std::left << std::setw(60) << one_line(result.name, 60)
                << std::flush;
      if (done == total) std::cerr << "\n";
    }
  };
  std::vector<conformance::TestResult> results = conformance::run_suite(arguments.folder, options, progress);
  if (arguments.json) {
    print_json(results);
  } else {
    print_table(results, arguments.verbose);
  }
  std::cout.flush();
  for (const auto& result : results) {
    if (result.status == conformance::TestStatus::wrong || result.status == conformance::TestStatus::error) {
      // Failing tests are already reported above; the exit status is for scripts and CI.
      std::exit(1);
    }
  }
}

}  // namespace

void register_conformance_command(CLI::App& app) {
  auto arguments = std::make_shared<ConformanceArguments>();
  CLI::App* command = app.add_subcommand("conformance", "Run the ONNX backend node tests on the reference backend");
  command->add_option("folder", arguments->folder, "Folder of test_* folders (default: the libonnx-testdata node tests)");
  command->add_option("--filter", arguments->filter, "Only tests whose name matches this regular expression");
  command->add_flag("--json", arguments->json, "Print the results as JSON");
  command->add_flag("--verbose,-v", arguments->verbose, "Print every test as it finishes and full reasons");
  command->add_flag("--no-isolation", arguments->no_isolation,
                    "Run tests in this process (faster to debug; a crashing kernel ends the run)");
  command->add_option("--timeout", arguments->timeout_seconds, "Seconds one test may take (default 120)");
  command->callback([arguments] { run_conformance(*arguments); });
}

}  // namespace npukit::cli
