#include "cli/target_arguments.h"

#include "npukit/error.h"
#include "targets/profile_loader.h"

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
  if (!arguments.target.empty() && !arguments.target_file.empty()) {
    throw Error(ErrorKind::invalid_argument, "give either --target or --target-file, not both");
  }
  if (!arguments.target_file.empty()) return {targets::load_target_profile_file(arguments.target_file)};
  if (arguments.target.empty()) {
    throw Error(ErrorKind::invalid_argument,
                std::string("no target: pass --target ID") + (allow_all ? " (or --target all)" : "") +
                    " or --target-file PATH; `npukit targets` lists the built-in ones");
  }
  if (arguments.target == "all") {
    if (!allow_all) throw Error(ErrorKind::invalid_argument, "this command works on one target at a time; pick one id from `npukit targets`");
    return targets::builtin_target_profiles();
  }
  return {targets::find_builtin_target(arguments.target)};
}

}  // namespace npukit::cli
