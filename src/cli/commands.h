// One registration function per subcommand; each lives in its own file (inspect_command.cpp, …).
// A subcommand's callback throws npukit::Error for anything the user can fix; main() prints it and exits 1.
#pragma once

#include <CLI/CLI.hpp>

namespace npukit::cli {

void register_inspect_command(CLI::App& app);      // inspect_command.cpp
void register_run_command(CLI::App& app);          // run_command.cpp
void register_conformance_command(CLI::App& app);  // conformance_command.cpp
void register_targets_command(CLI::App& app);      // targets_command.cpp
void register_check_command(CLI::App& app);        // check_command.cpp
void register_patch_command(CLI::App& app);        // patch_command.cpp
void register_bench_command(CLI::App& app);        // bench_command.cpp
void register_detect_command(CLI::App& app);       // detect_command.cpp
void register_classify_command(CLI::App& app);     // classify_command.cpp
void register_ocr_command(CLI::App& app);          // ocr_command.cpp
void register_eval_command(CLI::App& app);         // eval_command.cpp
void register_version_command(CLI::App& app);      // version_command.cpp (also --version)
void register_estimate_command(CLI::App& app);     // estimate_command.cpp
void register_compare_command(CLI::App& app);      // compare_command.cpp
void register_pipeline_command(CLI::App& app);     // pipeline_command.cpp
void register_merge_command(CLI::App& app);        // merge_command.cpp (sweep shards)
void register_quantize_command(CLI::App& app);     // quantize_command.cpp

}  // namespace npukit::cli
