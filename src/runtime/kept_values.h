// Intermediate values a session hands back besides the graph outputs (SessionOptions::keep_values,
// `npukit run --keep NAME|all`), so a person can compare a model layer by layer with another runtime.
//
// Names refer to the graph the backend runs: on cpu that is the model after its pass list, where a
// convolution's output and the Sigmoid of a fused SiLU no longer exist as values (they are computed inside
// one FusedConv). Asking for such a name is an error that says so, rather than a silent un-fusing: keeping
// a value must not change what is computed, or the comparison would look at a different model.
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
