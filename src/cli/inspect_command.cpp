// Placeholder until the inspect subcommand lands.
#include "cli/commands.h"

namespace npukit::cli {

void register_inspect_command(CLI::App& app) { app.add_subcommand("inspect", "(not written yet)"); }

}  // namespace npukit::cli
