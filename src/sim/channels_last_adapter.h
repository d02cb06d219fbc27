// A kernel that knows only NCHW tensors, run on a node some of whose 8-bit values the sim backend holds
// channels-last (sim/channels_last_plan.h): the NHWC inputs are copied to NCHW, the kernel runs, the outputs
// the plan holds NHWC are copied back. For IntegerConv nodes the fast kernel does not cover (it reads and
// writes NHWC itself): correct, not fast.
#pragma once

#include <memory>
#include <vector>

#include "runtime/backend.h"

namespace npukit::sim {

std::unique_ptr<runtime::NodeExecutable> adapt_to_channels_last(std::unique_ptr<runtime::NodeExecutable> channels_first,
                                                                 std::vector<bool> inputs_channels_last,
                                                                 std::vector<bool> outputs_channels_last);

}  // namespace npukit::sim
