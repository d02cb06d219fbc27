// Graph passes: each one rewrites an ir::Model in place, lives in its own file in this folder, and is tested
// by running the model before and after on random inputs (tests/pass_equivalence.h).
//
// A pass that keeps the model's meaning (folding, fusion, exact decompositions) may run by default; a pass
// that changes it (SiLU → ReLU) sets `changes_meaning` so the caller can refuse it unless the user opted in
// and the report can say the model needs retraining.
#pragma once

#include <string>
#include <vector>

namespace npukit::passes {

struct PassResult {
  std::string pass;                // the pass's name, as the CLI and reports print it ("fold-batchnorm")
  int rewrites = 0;                // how many places changed; 0 means the graph is untouched
  bool changes_meaning = false;    // outputs differ from the original beyond float rounding
  std::vector<std::string> notes;  // one line per rewrite or per refusal, naming the node
};

}  // namespace npukit::passes
