// Placeholder until the conformance subcommand lands.
#include "cli/commands.h"

namespace npukit::cli {

void register_conformance_command(CLI::App& app) { app.add_subcommand("conformance", "(not written yet)"); }

}  // namespace npukit::cli
