// npukit command line: dispatches to one file per subcommand.
#include <iostream>

#include "npukit/error.h"

int main(int argc, char** argv) {
  std::cerr << "npukit: no subcommands yet\n";
  return 2;
}
