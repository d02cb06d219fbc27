// The sim backend's node executables: each reads its integer op's attributes once (zero points, multipliers,
// clamp bounds, table), builds the kernel's parameters, and runs the fast kernel of sim/fast_integer_kernels.h
// where it covers the op (8-bit grids: the usual case), else the plain integer kernel of
// runtime/kernels/integer (the oracle, which the fast kernels equal bit for bit).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"

namespace npukit::sim {

// Empty when `node` is an integer op this backend runs; the reason otherwise.
std::optional<std::string> integer_op_unsupported_reason(const ir::Node& node);

// Throws Error(invalid_model) naming the node for attributes that do not fit. `channels_last`: the values the
// sim holds NHWC (channels_last_plan.h); IntegerConv reads and writes them so, the element-wise ops the plan
// joins them through do not care.
std::unique_ptr<runtime::NodeExecutable> prepare_integer_op(const ir::Node& node,
                                                            const runtime::cpu::BlockedLayoutPlan& channels_last);

}  // namespace npukit::sim
