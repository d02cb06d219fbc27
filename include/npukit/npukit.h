// Everything public in one include. The facades follow one pattern, which the coming ones (quantize.h,
// detect.h) follow too: an options struct deriving from ModelOptions (the model's --input-shape and
// --input-value), a report struct whose fields are the keys of the command's --json and whose to_json() is that
// text, and one function named after the command (inspect_model, check_model, patch_model). The report
// writers live in the library (src/report/), so the CLI and callers of these functions get the same data.
#pragma once

#include "npukit/check.h"
#include "npukit/dtype.h"
#include "npukit/error.h"
#include "npukit/inspect.h"
#include "npukit/isolation.h"
#include "npukit/patch.h"
#include "npukit/preparation.h"
#include "npukit/session.h"
#include "npukit/tensor.h"
#include "npukit/version.h"
