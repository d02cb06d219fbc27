// The public way to run a model: load → query inputs/outputs → set inputs → run → read outputs.
//
//   auto session = npukit::Session::load("yolov5s.onnx");
//   session->set_input("images", image_tensor);
//   session->run();
//   const npukit::Tensor& boxes = session->output("output0");
//
// A Session is not meant to be shared between threads while running; create one Session per thread
// (distinct sessions share no mutable state and run safely in parallel).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "npukit/dtype.h"
#include "npukit/tensor.h"

namespace npukit {

namespace ir {
struct Model;
struct Node;
}

struct SessionOptions {
  // "cpu": oneDNN and own vectorized kernels, ref for the ops it does not cover, after the cpu pass list
  // (constant folding, BatchNorm folding, activation fusion) on a private copy of the model.
  // "ref": the plain reference kernels, the model as loaded.
  std::string backend = "ref";
  int threads = 1;  // intra-op threads of the cpu backend (0: all cores); ref is single-threaded
  // Intermediate values to hand back after each run besides the outputs (by value name, or "all" for every
  // value the backend computes), for layer-by-layer comparison. Names refer to the graph the backend runs
  // (on cpu: after its passes; a value fused away is an error that says so). Keeping changes nothing in
  // how the model runs: each value is copied out as it is produced.
  std::vector<std::string> keep_values;
};

// A model input or output as declared in the model. Dynamic dimensions are -1 with their symbol (if any)
// in dim_names.
struct ValueInfo {
  std::string name;
  DType dtype = DType::undefined;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
  bool has_shape = true;  // false when the model declares no rank
};

class Session {
 public:
  // Throws npukit::Error naming the file and the reason when the model cannot be loaded or run.
  static std::unique_ptr<Session> load(const std::string& path, const SessionOptions& options = {});
  static std::unique_ptr<Session> from_model(std::shared_ptr<const ir::Model> model, const SessionOptions& options = {});
  // Like from_model, but the session takes the model over: the cpu passes rewrite it in place instead of
  // a copy (half the peak memory for a large model). The caller must not use or share `model` afterwards.
  static std::unique_ptr<Session> adopt(std::shared_ptr<ir::Model> model, const SessionOptions& options = {});
  ~Session();

  const std::vector<ValueInfo>& inputs() const;
  const std::vector<ValueInfo>& outputs() const;

  // Checks dtype and static dimensions against the declaration; throws Error(invalid_argument) otherwise.
  void set_input(const std::string& name, Tensor tensor);
  // Runs with the inputs set so far; every input must have been set.
  void run();
  // Output of the last run(), by name.
  const Tensor& output(const std::string& name) const;

  // The intermediate values kept (SessionOptions::keep_values), in the order asked for; after run(),
  // output(name) returns each of them too (plain NCHW whatever layout the backend held it in).
  const std::vector<ValueInfo>& kept_values() const;

  // One call: inputs by name in, outputs by name out.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs);

  const ir::Model& model() const;

  // Per-node profile: run() with profiling on records each top-level node's wall time. The nodes are the
  // ones the session runs (after the backend's passes: fused nodes appear as one).
  struct NodeTiming {
    std::string node;
    std::string op_type;
    std::string backend;
    double seconds = 0;
  };
  void set_profiling(bool enabled);
  const std::vector<NodeTiming>& last_profile() const;
  // The top-level nodes the session runs (same order as last_profile()).
  std::vector<const ir::Node*> executed_nodes() const;
  // The activation arena planned at creation: bytes one run needs, and how many intermediate values it holds
  // (the rest live on the heap: graph outputs, values of unknown size, subgraph values).
  size_t activation_arena_bytes() const;
  size_t activation_arena_values() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  static std::unique_ptr<Session> create(std::shared_ptr<const ir::Model> model, const SessionOptions& options,
                                         const std::set<std::string>& names_before_passes);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npukit
