// How npukit keeps a hostile model from taking the caller's process down.
//
// libonnx's checker and shape inference trust what they read: some inconsistent models make them read out of
// bounds and crash. npukit runs them outside the caller's process, so such a model gives an npukit::Error
// (invalid_model) instead. Two ways:
//   - fork: a copy of this process does the work. Fast, but forking a process that runs other threads and then
//     running code in the child is unsafe (a lock another thread held stays locked in the child);
//   - the helper program npukit-validate (installed beside the library, in LIBDIR/npukit/): started with
//     fork+exec (posix_spawn), it gets the model on its standard input. Safe in any process, a few
//     milliseconds more per model.
// The default (automatic) forks while this process runs one thread and starts the helper once it runs more
// (after OpenMP started its pool, in a Python interpreter with threads); when the helper cannot be found it
// forks as before. The Python module asks for the helper always.
#pragma once

#include <string>

namespace npukit {

enum class ValidationIsolation {
  automatic,       // fork while single-threaded, else the helper (fork when it is not found)
  helper_program,  // always the helper; loading throws Error(io) saying where to put it when it is not found
  fork,            // always fork (the behaviour before the helper existed)
};

// Process-wide; safe to call from any thread.
void set_validation_isolation(ValidationIsolation isolation);
ValidationIsolation validation_isolation();

// The helper npukit would start, or "" when there is none: $NPUKIT_VALIDATE_HELPER when set, else
// npukit/npukit-validate or npukit-validate beside libnpukit.so, else the installed place, else the build tree.
std::string validation_helper_path();

}  // namespace npukit
