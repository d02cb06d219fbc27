#include "onnx/isolated_validation.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <string>

#include "core/child_process.h"
#include "npukit/error.h"

// Exported by libonnx 1.12 but not declared in its header: the overload that takes the model folder, so
// external-data files are checked where they really are.
namespace onnx::checker {
void check_model(const ModelProto& model, CheckerContext& context);
}

namespace npukit::onnx_io {

namespace {

// Milestones the child leaves, so a crash can be blamed on the right step.
constexpr char kCheckerStarts = 'C';
constexpr char kInferenceStarts = 'I';
// The first byte of what the child returns.
constexpr char kSucceeded = 'S';
constexpr char kRejected = 'X';

// A healthy inference of a large model takes well under a second.
constexpr int kChildTimeoutMilliseconds = 120'000;

void run_checker(const onnx::ModelProto& model, const ValidationSteps& steps) {
  try {
    onnx::checker::CheckerContext context;
    // The checker joins the location to this folder with a plain string append.
    context.set_model_dir(steps.model_directory.empty() ? std::string() : steps.model_directory + "/");
    onnx::checker::check_model(model, context);
  } catch (const std::exception& error) {
    throw Error(ErrorKind::invalid_model, std::string("the ONNX checker rejects the model: ") + error.what());
  }
}

void run_shape_inference(onnx::ModelProto& model) {
  try {
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(false, 0, false));
  } catch (const std::exception& error) {
    throw Error(ErrorKind::invalid_model, std::string("ONNX shape inference fails: ") + error.what());
  }
}

// The part of a graph that inference fills in (value_info, output types), for this graph and its nested
// graphs, with every node and attribute kept in place (but no tensor data), so copy_inferred_types can walk
// it side by side with the full model.
onnx::GraphProto inferred_types_of(const onnx::GraphProto& graph) {
  onnx::GraphProto types;
  types.set_name(graph.name());
  *types.mutable_value_info() = graph.value_info();
  *types.mutable_output() = graph.output();
  for (const auto& node : graph.node()) {
    onnx::NodeProto& kept_node = *types.add_node();
    for (const auto& attribute : node.attribute()) {
      onnx::AttributeProto& kept = *kept_node.add_attribute();
      kept.set_name(attribute.name());
      if (attribute.has_g()) *kept.mutable_g() = inferred_types_of(attribute.g());
      for (const auto& subgraph : attribute.graphs()) *kept.add_graphs() = inferred_types_of(subgraph);
    }
  }
  return types;
}

void copy_inferred_types(const onnx::GraphProto& from, onnx::GraphProto& to) {
  if (from.node_size() != to.node_size()) {
    throw Error(ErrorKind::internal, "shape inference returned graph '" + to.name() + "' with another node count");
  }
  *to.mutable_value_info() = from.value_info();
  *to.mutable_output() = from.output();
  for (int i = 0; i < from.node_size(); ++i) {
    const auto& from_node = from.node(i);
    auto& to_node = *to.mutable_node(i);
    if (from_node.attribute_size() != to_node.attribute_size()) {
      throw Error(ErrorKind::internal, "shape inference returned node " + std::to_string(i) + " with other attributes");
    }
    for (int j = 0; j < from_node.attribute_size(); ++j) {
      const auto& from_attribute = from_node.attribute(j);
      auto& to_attribute = *to_node.mutable_attribute(j);
      if (from_attribute.has_g() && to_attribute.has_g()) copy_inferred_types(from_attribute.g(), *to_attribute.mutable_g());
      for (int k = 0; k < from_attribute.graphs_size() && k < to_attribute.graphs_size(); ++k) {
        copy_inferred_types(from_attribute.graphs(k), *to_attribute.mutable_graphs(k));
      }
    }
  }
}

// What the child runs, on its copy-on-write copy of the model (or on the model itself when no child could
// be started): returns kSucceeded and the inferred types, or kRejected and the reason.
std::string validate(onnx::ModelProto& model, const ValidationSteps& steps, const Milestone& milestone) {
  try {
    if (steps.run_checker) {
      milestone(kCheckerStarts);
      run_checker(model, steps);
    }
    if (!steps.run_shape_inference) return std::string(1, kSucceeded);
    milestone(kInferenceStarts);
    run_shape_inference(model);
    return kSucceeded + inferred_types_of(model.graph()).SerializeAsString();
  } catch (const Error& error) {
    return kRejected + error.reason();
  }
}

}  // namespace

void validate_and_infer_shapes(onnx::ModelProto& model, const ValidationSteps& steps) {
  if (!steps.run_checker && !steps.run_shape_inference) return;
  // The schema registry initialises itself on first use; do it here, so a child never waits on a lock that
  // another thread of this process held at the moment of the fork.
  onnx::OpSchemaRegistry::Schema("Relu", 14, "");

  const ChildProcessResult child = run_in_child_process(
      [&](const Milestone& milestone) { return validate(model, steps, milestone); },
      kChildTimeoutMilliseconds);
  if (!child.finished) {
    const bool in_inference = child.milestones.find(kInferenceStarts) != std::string::npos;
    throw Error(ErrorKind::invalid_model,
                std::string(in_inference ? "ONNX shape inference" : "the ONNX checker") + " (libonnx 1.12) " +
                    (child.failure.rfind("did not", 0) == 0 ? child.failure : "crashed, " + child.failure) +
                    ", on this model: some node's inputs or attributes are inconsistent in a way it does not "
                    "check. Re-export the model from its framework; `npukit inspect` lists its nodes");
  }
  if (child.result.empty() || child.result[0] != kSucceeded) {
    throw Error(ErrorKind::invalid_model, child.result.empty() ? "validation returned nothing" : child.result.substr(1));
  }
  if (!steps.run_shape_inference) return;
  onnx::GraphProto inferred;
  if (!inferred.ParseFromArray(child.result.data() + 1, static_cast<int>(child.result.size() - 1))) {
    throw Error(ErrorKind::internal, "cannot read the types that shape inference sent back");
  }
  copy_inferred_types(inferred, *model.mutable_graph());
}

}  // namespace npukit::onnx_io
