// npukit-validate: the helper program the library starts (fork+exec) to run the libonnx checker and shape
// inference outside a process that runs several threads (onnx/isolated_validation.h, npukit/isolation.h).
// It reads one request on standard input and answers on standard output; it is not meant to be run by hand.
#include <unistd.h>

#include "onnx/isolated_validation.h"

int main() {
  const int status = npukit::onnx_io::serve_validation_request(STDIN_FILENO, STDOUT_FILENO);
  // _exit, as the forked child does: the answer is written (unbuffered), and libonnx's and protobuf's registries
  // are meant to live until the end; LeakSanitizer would report them at a normal exit and turn the status red.
  ::_exit(status);
}
