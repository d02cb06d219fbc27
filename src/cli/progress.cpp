#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "cli/table.h"

namespace npukit::cli {

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(std::max<int64_t>(total, 1)), active_(enabled && stderr_is_terminal()) {}

Progress::~Progress() { finish(); }

std::string Progress::render(const std::string& label, int64_t done, int64_t total, const std::string& detail,
                             int bar_width, size_t line_width) {
  total = std::max<int64_t>(total, 1);
  done = std::clamp<int64_t>(done, 0, total);
  int filled = static_cast<int>(done * bar_width / total);
  std::string text = label + " [" + std::string(filled, '#') + std::string(bar_width - filled, ' ') + "] " +
                     std::to_string(done) + "/" + std::to_string(total);
  if (detail.empty()) return text;
  const size_t room = line_width > display_width(text) + 1 ? line_width - display_width(text) - 1 : 0;
  return text + " " + (line_width == 0 ? detail : shorten_middle(detail, room));
}

namespace {
// Columns of the terminal on stderr, where the bar is drawn; 0 when unknown.
size_t stderr_columns() {
  winsize size{};
  return ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
}
}  // namespace

void Progress::update(int64_t done, const std::string& detail) {
  if (!active_) return;
  // Redrawing a terminal line thousands of times a second costs more than the work it reports.
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
  last_draw_ = now;
  // One column spare: a line exactly as wide as the terminal wraps on some terminals.
  const size_t columns = stderr_columns();
  std::string line = render(label_, done, total_, detail, 30, columns > 1 ? columns - 1 : 0);
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
