// npukit command line: parses the common options and dispatches to one file per subcommand.
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cmath>
#include <iostream>

#include "api/model_errors.h"
#include "cli/commands.h"
#include "npukit/error.h"
#include "npukit/tensor.h"

namespace {

// "16G", "512M", "1.5GiB", "4096" → bytes (binary units: a memory limit is about RAM).
size_t parse_memory_size(const std::string& text) {
  double number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  std::string unit(end, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.ends_with("IB")) unit.resize(unit.size() - 2);
  else if (unit.ends_with("B")) unit.resize(unit.size() - 1);
  double scale = unit.empty() ? 1 : unit == "K" ? 1024.0 : unit == "M" ? 1048576.0 : unit == "G" ? 1073741824.0
               : unit == "T" ? 1099511627776.0 : 0;
  if (error != std::errc() || end == text.data() || scale == 0 || !(number > 0) || !std::isfinite(number * scale) ||
      number * scale > 1.8e19) {
    throw npukit::Error(npukit::ErrorKind::invalid_argument,
                        "--memory-limit '" + text + "' is not a size; write e.g. 512M, 16G or 1073741824");
  }
  return static_cast<size_t>(number * scale);
}

// The MODEL a subcommand was given, or empty for commands without one (targets, conformance).
std::string model_argument(const CLI::App& app) {
  for (const CLI::App* command : app.get_subcommands()) {
    const CLI::Option* model = command->get_option_no_throw("model");
    if (model != nullptr && model->count() > 0) return model->as<std::string>();
  }
  return {};
}

// Every error about the model names its file: the library's rule (api/model_errors.h), so the facades'
// messages are the CLI's.
npukit::Error with_model_file(const npukit::Error& error, const CLI::App& app) {
  return npukit::api::with_model_file(error, model_argument(app));
}

}  // namespace

// OpenMP (under oneDNN and the cpu kernels) waits between parallel regions. Spinning without bound burns
// the time slice a thread with work needs when the cores are shared (an earlier measurement next to a
// compiler: MobileNetV2 at 2 threads, 230 ms spinning against 9 ms passive); sleeping at once makes every
// parallel region pay a wake-up (ResNet50 at 2 threads on an idle machine: 34-35 ms passive, 27 ms
// spinning). A short bounded spin keeps both: libgomp spins GOMP_SPINCOUNT iterations (~10-40 us here)
// before it sleeps, enough to bridge the gap between two convolutions. libgomp reads the variables only
// when it loads, so the CLI sets the count and restarts itself once; a user who sets OMP_WAIT_POLICY or
// GOMP_SPINCOUNT keeps their choice. (Library users set them in their own environment; see the README.)
void prefer_bounded_openmp_spinning(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  setenv("GOMP_SPINCOUNT", "20000", 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc): carry on with libgomp's default.
}

int main(int argc, char** argv) {
  prefer_bounded_openmp_spinning(argv);
  CLI::App app{"npukit: take an ONNX model to an edge NPU, and tell the truth about it"};
  app.require_subcommand(1);
  std::string memory_limit;
  app.add_option("--memory-limit", memory_limit,
                 "Largest single tensor npukit will allocate (default 16G); guards against absurd shapes")
      ->type_name("SIZE");
  // Applied before any subcommand runs: subcommand callbacks run after the main app's options are parsed.
  app.parse_complete_callback([&memory_limit] {
    if (!memory_limit.empty()) npukit::set_tensor_memory_limit(parse_memory_size(memory_limit));
  });
  npukit::cli::register_inspect_command(app);
  npukit::cli::register_run_command(app);
  npukit::cli::register_conformance_command(app);
  npukit::cli::register_targets_command(app);
  npukit::cli::register_check_command(app);
  npukit::cli::register_patch_command(app);
  npukit::cli::register_bench_command(app);
  npukit::cli::register_detect_command(app);
  npukit::cli::register_classify_command(app);
  npukit::cli::register_ocr_command(app);
  npukit::cli::register_eval_command(app);
  npukit::cli::register_version_command(app);
  npukit::cli::register_estimate_command(app);
  npukit::cli::register_compare_command(app);
  npukit::cli::register_pipeline_command(app);
  npukit::cli::register_merge_command(app);
  npukit::cli::register_quantize_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version are "errors" with code 0; every real usage error exits 1 like other errors.
    return app.exit(error) == 0 ? 0 : 1;
  } catch (const npukit::Error& error) {
    std::cerr << "npukit: error: " << with_model_file(error, app).what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "npukit: internal error: " << error.what() << "\n(please report this with the command line)\n";
    return 3;
  }
  return 0;
}
