// Runs a piece of work in a forked child process, so that a crash in it (a third-party library reading out
// of bounds on hostile input) ends only the child and reaches the caller as a value it can report.
//
// The work returns a byte string, which travels back through a pipe; it may also leave milestones (one
// byte each) along the way, so the caller can tell which step was running when the child died. The child
// shares the parent's memory image at the moment of the fork (copy-on-write), so the work can read
// anything the caller prepared without serialising it.
//
// POSIX only. When fork() itself fails (no memory, no process slots) the work runs in this process.
//
// Forking a process that runs other threads and then doing work in the child (not exec) is unsafe: a lock
// another thread held at the fork stays locked in the child forever. For such processes (a Python interpreter
// with threads, a program after OpenMP started its pool) run_helper_program starts a separate program
// instead (posix_spawn: fork+exec without running anything of this process in the child), hands it its input
// on standard input, and reads back the same protocol; the helper answers with report_work_result.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace npukit {

struct ChildProcessResult {
  bool finished = false;   // the work returned and all it returned arrived
  std::string result;      // what the work returned, when finished
  std::string milestones;  // the milestones the work left, in order, up to its return or its death
  std::string failure;     // when not finished: "signal 11 (Segmentation fault)", "exit status 1",
                           // "did not finish within 120 s", "threw: <what()>"
};

using Milestone = std::function<void(char)>;

ChildProcessResult run_in_child_process(const std::function<std::string(const Milestone&)>& work,
                                        int timeout_milliseconds);

// Starts `executable` (no arguments), writes `input` to its standard input and closes it, and reads what the
// helper reports on its standard output. When the program cannot be started at all, failure says so and
// finished is false.
ChildProcessResult run_helper_program(const std::string& executable, const std::string& input,
                                      int timeout_milliseconds);

// The helper's side: runs `work` in this process, writing its milestones and then its result (or what it
// threw) to `descriptor` in the protocol the two functions above read. Returns false when the write failed.
bool report_work_result(int descriptor, const std::function<std::string(const Milestone&)>& work);

// How many threads this process runs now (from /proc/self/task); 0 when that cannot be read.
size_t running_thread_count();

}  // namespace npukit
