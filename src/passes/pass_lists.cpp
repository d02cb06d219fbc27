#include "passes/pass_lists.h"

#include <set>

#include "passes/activation_fusion.h"
#include "passes/batchnorm_folding.h"
#include "passes/constant_folding.h"
#include "passes/identity_elimination.h"
#include "passes/qdq_integer_fusion.h"
#include "onnx/shape_refresh.h"

namespace npukit::passes {

namespace {

// True when every graph input has a static shape but some computed value does not: shapes that ONNX
// inference could not see through computed Slice bounds or Reshape targets (YOLOv8's chunk), which
// folding has since made constant.
bool inference_would_learn_more(const ir::Model& model) {
  for (const ir::Value* input : model.graph->inputs) {
    if (!input->type.has_static_shape()) return false;
  }
  for (const auto& value : model.graph->values()) {
    if (value->producer && !value->type.has_static_shape()) return true;
  }
  return false;
}

// Makes the computed values named in `kept` graph outputs for as long as it lives, so that the passes leave
// them in the graph, then returns the graph's outputs to what they were.
class KeptValuesPinnedAsOutputs {
 public:
  KeptValuesPinnedAsOutputs(ir::Graph& graph, const std::vector<std::string>& kept)
      : graph_(graph), declared_outputs_(graph.outputs.size()) {
    for (const std::string& name : kept) {
      ir::Value* value = graph.find_value(name);
      if (!value || !value->producer || value->is_graph_output) continue;  // "all", inputs, weights, unknown names
      value->is_graph_output = true;
      graph.outputs.push_back(value);
    }
  }
  ~KeptValuesPinnedAsOutputs() {
    const std::set<ir::Value*> declared(graph_.outputs.begin(), graph_.outputs.begin() + declared_outputs_);
    for (size_t i = declared_outputs_; i < graph_.outputs.size(); ++i) {
      if (graph_.outputs[i] && !declared.count(graph_.outputs[i])) graph_.outputs[i]->is_graph_output = false;
    }
    graph_.outputs.resize(declared_outputs_);
  }
  KeptValuesPinnedAsOutputs(const KeptValuesPinnedAsOutputs&) = delete;
  KeptValuesPinnedAsOutputs& operator=(const KeptValuesPinnedAsOutputs&) = delete;

 private:
  ir::Graph& graph_;
  size_t declared_outputs_;
};

}  // namespace

std::vector<PassResult> run_cpu_pass_list(ir::Model& model, const std::vector<std::string>& kept) {
  std::vector<PassResult> results;
  const KeptValuesPinnedAsOutputs pinned(*model.graph, kept);
  // Before folding: folding would turn each weight's DequantizeLinear into a float constant and hide the
  // QDQ groups that run as int8 operators.
  results.push_back(fuse_qdq_into_integer_ops(model));
  results.push_back(fold_constants(model));
  // Static shapes everywhere let the session plan every activation into its arena and keep more tensors
  // in blocked layouts. Each round of inference can make the next shape computation foldable (YOLOv8 has
  // one per C2f block), so fold and infer until nothing new is learned; a round serialises only the graph
  // and small constants.
  for (int round = 0; round < 32 && inference_would_learn_more(model); ++round) {
    PassResult refresh;
    refresh.pass = "refresh-shapes";
    refresh.rewrites = static_cast<int>(onnx_io::refresh_static_shapes(model));
    results.push_back(refresh);
    if (refresh.rewrites == 0) break;
    results.push_back(fold_constants(model));
  }
  results.push_back(eliminate_identities(model));
  results.push_back(fold_batchnorm_into_conv(model));
  results.push_back(fuse_activations(model));
  return results;
}

}  // namespace npukit::passes
