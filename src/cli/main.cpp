// npukit command line: parses the common options and dispatches to one file per subcommand.
#include <iostream>

#include "cli/commands.h"
#include "npukit/error.h"

int main(int argc, char** argv) {
  CLI::App app{"npukit: take an ONNX model to an edge NPU, and tell the truth about it"};
  app.require_subcommand(1);
  npukit::cli::register_inspect_command(app);
  npukit::cli::register_run_command(app);
  npukit::cli::register_conformance_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const npukit::Error& error) {
    std::cerr << "npukit: error: " << error.what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "npukit: internal error: " << error.what() << "\n(please report this with the command line)\n";
    return 3;
  }
  return 0;
}
