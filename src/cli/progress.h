// A progress bar on stderr for long work, drawn only when stderr is a terminal.
//
// When stderr is a file or a pipe (scripts, CI, tests) it prints nothing at all, so captured output stays
// exactly what the command means to say.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace npukit::cli {

class Progress {
 public:
  // `total` steps of work described by `label`. `enabled` false silences it whatever stderr is.
  Progress(std::string label, int64_t total, bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Sets the number of finished steps and, optionally, what is being done now ("running", "writing").
  void update(int64_t done, const std::string& detail = {});
  // Erases the bar (called by the destructor too).
  void finish();

  bool active() const { return active_; }
  // The text the bar would draw, for tests: "label [#####     ] 3/6 detail". With `line_width` (0: no
  // limit) a long detail (a model path) is shortened in the middle so the line fits: a line that wraps
  // cannot be erased by the next redraw and leaves a trail on the terminal.
  static std::string render(const std::string& label, int64_t done, int64_t total, const std::string& detail,
                            int bar_width, size_t line_width = 0);

 private:
  std::string label_;
  int64_t total_;
  bool active_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

// True when stderr is an interactive terminal.
bool stderr_is_terminal();

}  // namespace npukit::cli
