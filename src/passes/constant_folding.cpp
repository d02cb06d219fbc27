#include "passes/constant_folding.h"

#include <set>
#include <vector>

#include "passes/graph_editing.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::passes {

namespace {

// A folded output may hold at most this many elements (16 MiB of f32): a ConstantOfShape or Expand of a
// large shape would otherwise bloat the model it was meant to shrink.
constexpr int64_t max_folded_elements = int64_t{4} << 20;

bool is_nondeterministic(const std::string& op_type) {
  static const std::set<std::string> random_ops{"RandomNormal", "RandomUniform", "RandomNormalLike",
                                                "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout"};
  return random_ops.count(op_type) != 0;
}

// Shape(x) for x of static shape, without start/end slicing.
std::optional<Tensor> fold_shape(const ir::Node& node) {
  if (node.op_type != "Shape" || node.has_attribute("start") || node.has_attribute("end")) return std::nullopt;
  const ir::Value* input = node.input(0);
  if (!input || !input->type.has_static_shape()) return std::nullopt;
  const Shape shape = input->type.static_shape();
  return Tensor::from_vector<int64_t>(DType::i64, {static_cast<int64_t>(shape.size())},
                                      std::vector<int64_t>(shape.begin(), shape.end()));
}

// Runs the node on the reference kernels when every input is constant; nullopt when it cannot be folded.
std::optional<std::vector<Tensor>> evaluate(const ir::Node& node, int64_t opset) {
  if (std::optional<Tensor> shape = fold_shape(node)) return std::vector<Tensor>{*shape};
  if (is_nondeterministic(node.op_type) || !ir::subgraphs_of(node).empty()) return std::nullopt;
  std::vector<const Tensor*> inputs;
  for (const ir::Value* input : node.inputs) {
    if (!input || input->name.empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    const Tensor* constant = constant_of(input);
    if (!constant) return std::nullopt;
    inputs.push_back(constant);
  }
  const runtime::KernelEntry* kernel = runtime::ref::reference_registry().find(node.domain, node.op_type, opset);
  if (!kernel) return std::nullopt;
  std::vector<Tensor> outputs(node.outputs.size());
  runtime::KernelContext context(node, opset, std::move(inputs), outputs, nullptr);
  try {
    kernel->function(context);
  } catch (const Error&) {
    return std::nullopt;  // the node fails at run time too; leave it there so the error names it then
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!node.output(i)) continue;
    if (outputs[i].empty() || outputs[i].element_count() > max_folded_elements) return std::nullopt;
  }
  return outputs;
}

}  // namespace

PassResult fold_constants(ir::Model& model, bool keep_weight_dequantization) {
  PassResult result;
  result.pass = "fold-constants";
  ir::Graph& graph = *model.graph;
  const std::set<std::string> protected_names = names_read_by_subgraphs(graph);
  std::vector<ir::Node*> nodes;
  for (const auto& node : graph.nodes()) nodes.push_back(node.get());
  for (ir::Node* node : nodes) {  // in topological order, so folded results feed the next folds
    bool touches_interface = false;
    for (const ir::Value* output : node->outputs) touches_interface |= output && output->is_graph_output;
    if (touches_interface) continue;
    const int64_t opset = model.opset(node->domain);
    if (opset == 0) continue;
    if (keep_weight_dequantization && node->domain.empty() && node->op_type == "DequantizeLinear" && node->input(0) &&
        dtype_is_integer(node->input(0)->type.dtype)) {
      continue;
    }
    std::optional<std::vector<Tensor>> values = evaluate(*node, opset);
    if (!values) continue;
    const std::string what = node->describe();
    std::vector<ir::Value*> outputs = node->outputs;
    graph.remove_node(node);
    for (size_t i = 0; i < outputs.size(); ++i) {
      ir::Value* output = outputs[i];
      if (!output) continue;
      Tensor& value = (*values)[i];
      output->type.dtype = value.dtype();
      std::vector<ir::Dim> dims;
      for (int64_t size : value.shape()) dims.push_back(ir::Dim::fixed(size));
      output->type.shape = std::move(dims);
      output->initializer = std::move(value);
    }
    result.notes.push_back("folded " + what);
    ++result.rewrites;
  }
  remove_unused_values(graph, protected_names);
  graph.renumber();
  return result;
}

}  // namespace npukit::passes
