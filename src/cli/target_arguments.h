// What the target-taking commands share: --target NAME|all and --target-file PATH.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "targets/target_profile.h"

namespace npukit::cli {

struct TargetArguments {
  std::string target;
  std::string target_file;
};

void add_target_options(CLI::App& command, TargetArguments& arguments, bool allow_all);

// The profiles to use: one built-in (by id or alias), every built-in ("all"), or the user's file. Throws
// npukit::Error saying what to pass when neither or both are given.
std::vector<targets::TargetProfile> resolve_targets(const TargetArguments& arguments, bool allow_all);

}  // namespace npukit::cli
