// `npukit version` and `npukit --version`: the version, the git commit of the sources the binary was built
// from, and the versions of the libraries it was built with, for bug reports and benchmark records.
#include <iostream>

#include "cli/commands.h"
#include "npukit/version.h"

namespace npukit::cli {

void register_version_command(CLI::App& app) {
  app.set_version_flag("--version", npukit::build_description(), "Print the version, the git commit and the library versions");
  CLI::App* command = app.add_subcommand("version", "Print the version, the git commit and the library versions");
  command->callback([] { std::cout << npukit::build_description() << "\n"; });
}

}  // namespace npukit::cli
