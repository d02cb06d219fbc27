// The text of targets/*.json, embedded at build time (CMake writes embedded_profiles.cpp with
// tools/embed_target_profiles.cmake), so the installed binary knows its targets wherever it runs.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace npukit::targets {

// (file name, JSON text) for every built-in profile.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_profile_sources();

}  // namespace npukit::targets
