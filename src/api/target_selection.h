// Which target profiles a command works on: one built-in (by id or alias), every built-in ("all"), or the
// user's own file. Shared by the CLI's --target/--target-file and the facades' CheckOptions/PatchOptions.
#pragma once

#include <string>
#include <vector>

#include "targets/target_profile.h"

namespace npukit::api {

// Throws npukit::Error saying what to pass when neither or both are given.
std::vector<targets::TargetProfile> select_targets(const std::string& target, const std::string& target_file,
                                                   bool allow_all);

}  // namespace npukit::api
