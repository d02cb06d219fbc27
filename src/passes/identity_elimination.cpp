#include "passes/identity_elimination.h"

#include <vector>

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

bool is_identity_permutation(const std::vector<int64_t>& permutation) {
  for (size_t i = 0; i < permutation.size(); ++i) {
    if (permutation[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

// Static shape of a value, or empty when not fully known.
std::optional<Shape> static_shape(const ir::Value* value) {
  if (!value || !value->type.has_static_shape()) return std::nullopt;
  return value->type.static_shape();
}

// Reshape whose output shape (as shape inference knows it) equals its input's.
bool is_noop_reshape(const ir::Node& node) {
  std::optional<Shape> in = static_shape(node.input(0)), out = static_shape(node.output(0));
  return in && out && *in == *out && constant_of(node.input(1));
}

// The input a node passes through unchanged, or nullptr.
ir::Value* passthrough_input(const ir::Node& node) {
  if (!node.domain.empty()) return nullptr;
  if (node.op_type == "Identity") return node.input(0);
  if (node.op_type == "Dropout") {
    // A mask that is read, or training_mode given (it may be a true runtime input), keeps the node.
    if (node.output(1) && !node.output(1)->consumers.empty()) return nullptr;
    if (node.output(1) && node.output(1)->is_graph_output) return nullptr;
    if (node.input(2)) {
      const Tensor* mode = constant_of(node.input(2));
      if (!mode || mode->element_count() != 1 || mode->value_as_double(0) != 0) return nullptr;
    }
    return node.input(0);
  }
  if (node.op_type == "Reshape" && is_noop_reshape(node)) return node.input(0);
  if (node.op_type == "Transpose" && node.has_attribute("perm") && is_identity_permutation(node.get_ints("perm"))) {
    return node.input(0);
  }
  return nullptr;
}

// For Transpose(Transpose(x, p), q) with p then q the identity: x.
ir::Value* undone_transpose_input(const ir::Node& node) {
  if (node.op_type != "Transpose" || !node.domain.empty() || !node.has_attribute("perm")) return nullptr;
  const ir::Value* middle = node.input(0);
  const ir::Node* first = middle ? middle->producer : nullptr;
  if (!first || first->op_type != "Transpose" || !first->domain.empty() || !first->has_attribute("perm")) return nullptr;
  const std::vector<int64_t> p = first->get_ints("perm"), q = node.get_ints("perm");
  if (p.size() != q.size()) return nullptr;
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i] < 0 || q[i] >= static_cast<int64_t>(p.size()) || p[static_cast<size_t>(q[i])] != static_cast<int64_t>(i)) {
      return nullptr;
    }
  }
  return first->input(0);
}

}  // namespace

PassResult eliminate_identities(ir::Model& model) {
  PassResult result;
  result.pass = "eliminate-identities";
  ir::Graph& graph = *model.graph;
  const std::set<std::string> protected_names = names_read_by_subgraphs(graph);
  bool changed = true;
  while (changed) {
    changed = false;
    std::vector<ir::Node*> nodes;
    for (const auto& node : graph.nodes()) nodes.push_back(node.get());
    for (ir::Node* node : nodes) {
      std::string what = node->describe();
      ir::Value* replacement = passthrough_input(*node);
      if (!replacement) replacement = undone_transpose_input(*node);
      if (replacement && bypass_node(graph, node, replacement, protected_names)) {
        result.notes.push_back("removed " + what);
        ++result.rewrites;
        changed = true;
        break;  // the node list changed; rescan
      }
      // Reshape → Reshape: the second only needs the first's input.
      if (node->op_type == "Reshape" && node->domain.empty() && node->input(0) && node->input(0)->producer) {
        ir::Node* first = node->input(0)->producer;
        ir::Value* middle = node->input(0);
        const Tensor* target = constant_of(node->input(1));
        bool copies_dims = false;  // a 0 in the target copies a dim from the middle shape, which we would lose
        if (target) {
          for (int64_t i = 0; i < target->element_count(); ++i) copies_dims |= target->value_as_int64(i) == 0;
        }
        if (first->op_type == "Reshape" && first->domain.empty() && target && !copies_dims &&
            middle->consumers.size() == 1 && !middle->is_graph_output && !protected_names.count(middle->name)) {
          graph.replace_all_uses(middle, first->input(0));
          graph.remove_node(first);
          result.notes.push_back("removed the first of two consecutive Reshapes before " + what);
          ++result.rewrites;
          changed = true;
          break;
        }
      }
    }
  }
  // Nodes nothing reads any more (the first Transpose of an undone pair): drop them, last first, so a
  // chain that only fed them goes too.
  for (bool removed = true; removed;) {
    removed = false;
    for (auto it = graph.nodes().rbegin(); it != graph.nodes().rend(); ++it) {
      ir::Node* node = it->get();
      bool read = false;
      for (const ir::Value* output : node->outputs) {
        read |= output && (!output->consumers.empty() || output->is_graph_output || protected_names.count(output->name));
      }
      if (read || !node->domain.empty() || node->attributes.count("then_branch") || node->attributes.count("body")) continue;
      result.notes.push_back("removed " + node->describe() + ", which nothing reads");
      ++result.rewrites;
      graph.remove_node(node);
      removed = true;
      break;
    }
  }
  remove_unused_values(graph, protected_names);
  graph.renumber();
  return result;
}

}  // namespace npukit::passes
