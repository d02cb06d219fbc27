// The version of the npukit library a program runs with (which may differ from the headers it was built with,
// for the shared library).
#pragma once

#include <string>

namespace npukit {

// "0.1.0"
std::string version();

// What `npukit --version` prints: the version, the git commit of the sources and the versions of the libraries
// npukit was built with, one per line.
std::string build_description();

}  // namespace npukit
