// Intermediate values a session hands back besides the graph outputs (SessionOptions::keep_values,
// `npukit run --keep NAME|all`), so a person can compare a model layer by layer with another runtime.
//
// On cpu the pass list leaves every value named here in the graph (passes/pass_lists.h): a kept Conv
// output is computed unfused, its SiLU or Relu after it as separate kernels. Keeping one therefore may move
// later values by float rounding (the fused oneDNN post-op and the separate kernel round differently), never
// more; "all" keeps what the backend computes after its fusions and changes no bit. A name the passes still
// removed (none of today's) is an error that says so.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::runtime {

// The word that asks for every value.
inline constexpr const char* keep_all_values = "all";

// Values of `executed` (the graph the backend runs) to keep, in the order asked for; "all" is every value a
// top-level node produces, in node order. Graph outputs are skipped (they are returned anyway), and so are
// repeats. `names_before_passes` holds the value names of the model as loaded, so that a name the passes
// removed is told apart from a name that never existed. Throws Error(invalid_argument) naming `file`.
std::vector<const ir::Value*> find_kept_values(const ir::Graph& executed, const std::vector<std::string>& requested,
                                               const std::set<std::string>& names_before_passes,
                                               const std::string& backend, const std::string& file);

// Every value name of a graph's top level (inputs, weights, node outputs).
std::set<std::string> value_names(const ir::Graph& graph);

}  // namespace npukit::runtime
