#include "onnx/isolated_validation.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/child_process.h"
#include "npukit/error.h"
#include "npukit/isolation.h"

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

void run_shape_inference(onnx::ModelProto& model, const ValidationSteps& steps) {
  try {
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(false, 0, steps.propagate_shape_data));
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
    run_shape_inference(model, steps);
    return kSucceeded + inferred_types_of(model.graph()).SerializeAsString();
  } catch (const Error& error) {
    return kRejected + error.reason();
  }
}

std::atomic<ValidationIsolation> chosen_isolation{ValidationIsolation::automatic};

// A request to the helper: one byte of steps, the model folder's length (4 bytes, little-endian) and text, then
// the serialized model.
constexpr char kStepChecker = 1, kStepInference = 2, kStepPropagate = 4;

std::string encode_request(const onnx::ModelProto& model, const ValidationSteps& steps) {
  std::string request(1, static_cast<char>((steps.run_checker ? kStepChecker : 0) |
                                           (steps.run_shape_inference ? kStepInference : 0) |
                                           (steps.propagate_shape_data ? kStepPropagate : 0)));
  const uint32_t length = static_cast<uint32_t>(steps.model_directory.size());
  for (int byte = 0; byte < 4; ++byte) request.push_back(static_cast<char>((length >> (8 * byte)) & 0xff));
  request += steps.model_directory;
  if (!model.AppendToString(&request)) {
    throw Error(ErrorKind::resource_limit, "the model is too large to hand to the validation helper (over 2 GB)");
  }
  return request;
}

bool is_executable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

// Runs the steps in a child: a fork of this process, or the helper program, as the isolation setting and the
// number of threads say. `work` is what a fork runs; the helper runs the same validate() on the request.
ChildProcessResult run_isolated(const onnx::ModelProto& model, const ValidationSteps& steps,
                                const std::function<std::string(const Milestone&)>& work) {
  const ValidationIsolation isolation = chosen_isolation.load();
  if (isolation != ValidationIsolation::fork) {
    const std::string helper = validation_helper_path();
    const bool threaded = running_thread_count() != 1;
    if (isolation == ValidationIsolation::helper_program && helper.empty()) {
      throw Error(ErrorKind::io,
                  "the validation helper npukit-validate is not installed beside the library (LIBDIR/npukit/); "
                  "set NPUKIT_VALIDATE_HELPER to its path");
    }
    if (!helper.empty() && (isolation == ValidationIsolation::helper_program || threaded)) {
      ChildProcessResult result = run_helper_program(helper, encode_request(model, steps), kChildTimeoutMilliseconds);
      if (result.failure.rfind("cannot ", 0) == 0) throw Error(ErrorKind::io, result.failure, helper);
      return result;
    }
  }
  return run_in_child_process(work, kChildTimeoutMilliseconds);
}

// After inference crashed on the whole graph: finds the first node it crashes on. libonnx infers node by
// node in graph order and keeps nothing between runs, so a prefix of the node list crashes exactly when
// it contains that node; a binary search over prefixes needs about log2(nodes) children. Returns -1 when
// no prefix crashes (the crash depends on something else).
int first_node_inference_crashes_on(const onnx::ModelProto& model, const ValidationSteps& steps) {
  const int node_count = model.graph().node_size();
  ValidationSteps inference_only = steps;
  inference_only.run_checker = false;
  inference_only.run_shape_inference = true;
  auto prefix_crashes = [&](int length) {
    // A copy: without a child this would run in the caller's process (and the helper gets the prefix).
    onnx::ModelProto copy = model;
    copy.mutable_graph()->mutable_node()->DeleteSubrange(length, node_count - length);
    copy.mutable_graph()->clear_output();
    const ChildProcessResult child = run_isolated(copy, inference_only, [&](const Milestone&) {
      try {
        run_shape_inference(copy, steps);
      } catch (const Error&) {
      }
      return std::string();
    });
    return !child.finished;
  };
  if (!prefix_crashes(node_count)) return -1;
  int lowest_crashing = node_count, highest_safe = 0;  // prefix lengths
  while (lowest_crashing - highest_safe > 1) {
    const int middle = highest_safe + (lowest_crashing - highest_safe) / 2;
    (prefix_crashes(middle) ? lowest_crashing : highest_safe) = middle;
  }
  return lowest_crashing - 1;
}

}  // namespace

void validate_and_infer_shapes(onnx::ModelProto& model, const ValidationSteps& steps) {
  if (!steps.run_checker && !steps.run_shape_inference) return;
  // The schema registry initialises itself on first use; do it here, so a child never waits on a lock that
  // another thread of this process held at the moment of the fork.
  onnx::OpSchemaRegistry::Schema("Relu", 14, "");

  const ChildProcessResult child =
      run_isolated(model, steps, [&](const Milestone& milestone) { return validate(model, steps, milestone); });
  if (!child.finished) {
    const bool in_inference = child.milestones.find(kInferenceStarts) != std::string::npos;
    const bool timed_out = child.failure.rfind("did not", 0) == 0;
    std::string node;
    if (in_inference && !timed_out) {
      const int index = first_node_inference_crashes_on(model, steps);
      if (index >= 0) {
        const onnx::NodeProto& culprit = model.graph().node(index);
        node = describe_node(culprit.name(), culprit.op_type(), static_cast<size_t>(index));
      }
    }
    throw Error(ErrorKind::invalid_model,
                std::string(in_inference ? "ONNX shape inference" : "the ONNX checker") + " (libonnx 1.12) " +
                    (timed_out ? child.failure : "crashed, " + child.failure) +
                    (node.empty() ? std::string(" on this model") : " on this node") +
                    ": its inputs or attributes are inconsistent in a way libonnx does not check (for example "
                    "input ranks the op does not accept). Re-export the model from its framework",
                {}, node);
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

int serve_validation_request(int input, int output) {
  std::string request;
  char buffer[65536];
  for (;;) {
    const ssize_t count = ::read(input, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) return 2;
    if (count == 0) break;
    request.append(buffer, static_cast<size_t>(count));
  }
  const bool sent = report_work_result(output, [&](const Milestone& milestone) -> std::string {
    if (request.size() < 5) throw Error(ErrorKind::internal, "the validation request is cut short");
    ValidationSteps steps;
    steps.run_checker = (request[0] & kStepChecker) != 0;
    steps.run_shape_inference = (request[0] & kStepInference) != 0;
    steps.propagate_shape_data = (request[0] & kStepPropagate) != 0;
    uint32_t length = 0;
    for (int byte = 0; byte < 4; ++byte) length |= static_cast<uint32_t>(static_cast<unsigned char>(request[1 + byte])) << (8 * byte);
    if (request.size() < 5 + static_cast<size_t>(length)) throw Error(ErrorKind::internal, "the validation request is cut short");
    steps.model_directory = request.substr(5, length);
    onnx::ModelProto model;
    if (!model.ParseFromArray(request.data() + 5 + length, static_cast<int>(request.size() - 5 - length))) {
      return kRejected + std::string("the model sent to the validation helper does not parse");
    }
    return validate(model, steps, milestone);
  });
  return sent ? 0 : 1;
}

}  // namespace npukit::onnx_io

namespace npukit {

void set_validation_isolation(ValidationIsolation isolation) { onnx_io::chosen_isolation.store(isolation); }

ValidationIsolation validation_isolation() { return onnx_io::chosen_isolation.load(); }

std::string validation_helper_path() {
  if (const char* configured = std::getenv("NPUKIT_VALIDATE_HELPER"); configured != nullptr && *configured != 0) {
    return onnx_io::is_executable(configured) ? std::string(configured) : std::string();
  }
  // Beside the binary this code is in: libnpukit.so in LIBDIR (helper in LIBDIR/npukit/), or the build tree.
  Dl_info information{};
  if (::dladdr(reinterpret_cast<void*>(&validation_helper_path), &information) != 0 && information.dli_fname != nullptr) {
    const std::filesystem::path folder = std::filesystem::path(information.dli_fname).parent_path();
    for (const std::filesystem::path& candidate : {folder / "npukit" / "npukit-validate", folder / "npukit-validate"}) {
      if (onnx_io::is_executable(candidate.string())) return candidate.string();
    }
  }
#ifdef NPUKIT_INSTALLED_VALIDATE_HELPER
  if (onnx_io::is_executable(NPUKIT_INSTALLED_VALIDATE_HELPER)) return NPUKIT_INSTALLED_VALIDATE_HELPER;
#endif
#ifdef NPUKIT_BUILD_TREE_VALIDATE_HELPER
  if (onnx_io::is_executable(NPUKIT_BUILD_TREE_VALIDATE_HELPER)) return NPUKIT_BUILD_TREE_VALIDATE_HELPER;
#endif
  return {};
}

}  // namespace npukit
