#include "cli/target_arguments.h"

#include "api/target_selection.h"

namespace npukit::cli {

void add_target_options(CLI::App& command, TargetArguments& arguments, bool allow_all) {
  command.add_option("--target,-t", arguments.target,
                     allow_all ? "Target id or alias (see `npukit targets`), or 'all' for every built-in target"
                               : "Target id or alias (see `npukit targets`)")
      ->type_name("TARGET");
  command.add_option("--target-file", arguments.target_file, "Your own target profile (JSON, see docs/targets.md)")
      ->type_name("PATH");
}

std::vector<targets::TargetProfile> resolve_targets(const TargetArguments& arguments, bool allow_all) {
  return api::select_targets(arguments.target, arguments.target_file, allow_all);
}

}  // namespace npukit::cli
