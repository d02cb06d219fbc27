// Reads target profiles (targets/*.json, schema in docs/targets.md) into TargetProfile, validating every
// field as it goes: a profile with a missing, misspelled or mistyped field is refused with an
// npukit::Error naming the file and the field's path ("rk3588.json: field 'ops.Conv.rules[1].max': ...").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "targets/target_profile.h"

namespace npukit::targets {

// Parses and validates one profile. `file` names it in errors.
TargetProfile parse_target_profile(std::string_view json_text, const std::string& file);

// Reads a user's profile (--target-file PATH).
TargetProfile load_target_profile_file(const std::string& path);

// The profiles compiled into the binary from targets/*.json, sorted by id. Parsed once; a broken built-in
// profile is a build defect, reported as an Error like any other.
const std::vector<TargetProfile>& builtin_target_profiles();

// A built-in profile by id or alias (case-insensitive); Error(invalid_argument) listing the known ids otherwise.
const TargetProfile& find_builtin_target(const std::string& name);

}  // namespace npukit::targets
