#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace npukit::cli {

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(std::max<int64_t>(total, 1)), active_(enabled && stderr_is_terminal()) {}

Progress::~Progress() { finish(); }

std::string Progress::render(const std::string& label, int64_t done, int64_t total, const std::string& detail,
                             int bar_width) {
  total = std::max<int64_t>(total, 1);
  done = std::clamp<int64_t>(done, 0, total);
  int filled = static_cast<int>(done * bar_width / total);
  std::string text = label + " [" + std::string(filled, '#') + std::string(bar_width - filled, ' ') + "] " +
                     std::to_string(done) + "/" + std::to_string(total);
  if (!detail.empty()) text += " " + detail;
  return text;
}

void Progress::update(int64_t done, const std::string& detail) {
  if (!active_) return;
  // Redrawing a terminal line thousands of times a second costs more than the work it reports.
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
  last_draw_ = now;
  std::string line = render(label_, done, total_, detail, 30);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (active_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

}  // namespace npukit::cli
