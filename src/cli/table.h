// The command line prints with the library's tables and unit helpers (report/table.h), which moved there so
// the report writers, the CLI and the library's callers print the same way. The names stay reachable as
// npukit::cli::… for the commands that use them.
#pragma once

#include "report/table.h"

namespace npukit::cli {

using report::Align;
using report::display_width;
using report::format_bytes;
using report::format_count;
using report::format_number;
using report::format_percent;
using report::format_seconds;
using report::shorten_middle;
using report::Table;
using report::terminal_width;
using report::wrap_words;

}  // namespace npukit::cli
