#include "api/target_selection.h"

#include "npukit/error.h"
#include "targets/profile_loader.h"

namespace npukit::api {

std::vector<targets::TargetProfile> select_targets(const std::string& target, const std::string& target_file,
                                                   bool allow_all) {
  if (!target.empty() && !target_file.empty()) {
    throw Error(ErrorKind::invalid_argument, "give either --target or --target-file, not both");
  }
  if (!target_file.empty()) return {targets::load_target_profile_file(target_file)};
  if (target.empty()) {
    throw Error(ErrorKind::invalid_argument,
                std::string("no target: pass --target ID") + (allow_all ? " (or --target all)" : "") +
                    " or --target-file PATH; `npukit targets` lists the built-in ones");
  }
  if (target == "all") {
    if (!allow_all) throw Error(ErrorKind::invalid_argument, "this command works on one target at a time; pick one id from `npukit targets`");
    return targets::builtin_target_profiles();
  }
  return {targets::find_builtin_target(target)};
}

}  // namespace npukit::api
