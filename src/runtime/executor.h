// Executor: runs a model's graph node by node on the backends chosen at construction.
//
// Construction binds every node (and every node of every subgraph) to the first backend that supports it
// and fails with one error listing every unsupported node, so a user learns all of them at once.
// run() is const and keeps its state on the stack: one Executor may serve several threads at once.
// Intermediate tensors are released after their last use, so peak memory stays near the live set.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "runtime/backend.h"

namespace npukit::runtime {

class Executor {
 public:
  Executor(std::shared_ptr<const ir::Model> model, std::vector<const Backend*> backends);

  // Inputs by name (graph inputs; an input with an initializer may be overridden). Returns the graph
  // outputs in declared order.
  // When `node_seconds` is given, it receives the wall time of each top-level node, in node order.
  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs, std::vector<double>* node_seconds = nullptr) const;

  const ir::Model& model() const { return *model_; }
  // Name of the backend each top-level node runs on, in node order.
  std::vector<std::string> node_backends() const;
  // The top-level nodes, in the order they run (after the passes the session applied).
  std::vector<const ir::Node*> nodes() const;

 private:
  struct PreparedNode {
    const ir::Node* node = nullptr;
    int64_t opset = 0;
    const Backend* backend = nullptr;
    std::unique_ptr<NodeExecutable> executable;
    std::vector<const ir::Value*> release_after;  // values whose last use is this node
  };
  struct PreparedGraph {
    std::vector<PreparedNode> nodes;
  };
  struct Scope;

  void prepare_graph(const ir::Graph& graph, std::vector<std::string>& unsupported);
  std::vector<Tensor> run_graph(const ir::Graph& graph, const std::vector<Tensor>& inputs, const Scope* outer) const;
  std::vector<Tensor> run_graph_with_scope(const ir::Graph& graph, Scope& scope,
                                           std::vector<double>* node_seconds = nullptr) const;

  std::shared_ptr<const ir::Model> model_;
  std::vector<const Backend*> backends_;
  std::unordered_map<const ir::Graph*, PreparedGraph> prepared_;
};

}  // namespace npukit::runtime
