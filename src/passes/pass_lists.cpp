#include "passes/pass_lists.h"

#include "passes/activation_fusion.h"
#include "passes/batchnorm_folding.h"
#include "passes/constant_folding.h"
#include "passes/identity_elimination.h"

namespace npukit::passes {

std::vector<PassResult> run_cpu_pass_list(ir::Model& model) {
  std::vector<PassResult> results;
  results.push_back(fold_constants(model));
  results.push_back(eliminate_identities(model));
  results.push_back(fold_batchnorm_into_conv(model));
  results.push_back(fuse_activations(model));
  return results;
}

}  // namespace npukit::passes
