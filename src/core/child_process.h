// Runs a piece of work in a forked child process, so that a crash in it (a third-party library reading out
// of bounds on hostile input) ends only the child and reaches the caller as a value it can report.
//
// The work returns a byte string, which travels back through a pipe; it may also leave milestones (one
// byte each) along the way, so the caller can tell which step was running when the child died. The child
// shares the parent's memory image at the moment of the fork (copy-on-write), so the work can read
// anything the caller prepared without serialising it.
//
// POSIX only. When fork() itself fails (no memory, no process slots) the work runs in this process.
#pragma once

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

}  // namespace npukit
