// Placeholder until the run subcommand lands.
#include "cli/commands.h"

namespace npukit::cli {

void register_run_command(CLI::App& app) { app.add_subcommand("run", "(not written yet)"); }

}  // namespace npukit::cli
