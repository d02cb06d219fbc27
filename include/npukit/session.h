// The public way to run a model: load → query inputs/outputs → set inputs → run → read outputs.
// This header and the ones it includes (include/npukit/) are the whole API: nothing from the sources leaks
// through, so a program built against the installed headers sees exactly this.
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
#include <string>
#include <vector>

#include "npukit/dtype.h"
#include "npukit/tensor.h"

namespace npukit {

struct SessionOptions {
  // "cpu" (the default): oneDNN and own vectorized kernels, ref for the ops it does not cover, after the cpu
  // backend's preparation (BatchNorm folding, activation fusion, its blocked-layout plan).
  // "ref": the plain reference kernels, the oracle the others are tested against.
  // "sim": a QDQ model in the integer arithmetic of `target` (npukit run --backend sim --target T).
  // Either way the model is first prepared as every npukit command prepares it (constant folding, shape
  // inference; see input_shapes): the library and `npukit run` run the same graph.
  std::string backend = "cpu";
  int threads = 1;  // intra-op threads of the cpu backend (0: all cores); ref is single-threaded
  // "sim" only: the simulated target, a built-in id ("edgetpu") or a profile file's path.
  std::string target;
  // Intermediate values to hand back after each run besides the outputs (by value name, or "all" for every
  // value the backend computes), for layer-by-layer comparison. Names refer to the graph the backend runs
  // (on cpu: after its passes; a value fused away is an error that says so). Keeping changes nothing in
  // how the model runs: each value is copied out as it is produced.
  std::vector<std::string> keep_values;
  // Fixes an input's dynamic dims before the model is prepared, by input name (the CLI's --input-shape
  // NAME=1,3,640,640). Without it a symbolic batch dim becomes 1, as `npukit run` does; other dynamic dims stay
  // dynamic and take the size of the data fed.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  // Holds an input at a value (the CLI's --input-value): it becomes a constant, the model is specialized for
  // it (an If on a sample rate is inlined) and it is no longer among inputs(). The tensor's dtype must be the
  // input's, and its shape must fit the declared one.
  std::map<std::string, Tensor> input_values;
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
  // An ONNX model held in memory (read from an archive, received over a socket). `name` stands for the file
  // in error messages. External data files are refused (there is no folder to find them in).
  static std::unique_ptr<Session> load_from_bytes(const std::string& bytes, const SessionOptions& options = {},
                                                  const std::string& name = "<memory>");
  // The words SessionOptions::backend takes, the default first.
  static std::vector<std::string> available_backends();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

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

  // Per-node profile: run() with profiling on records each top-level node's wall time. The nodes are the
  // ones the session runs (after the backend's passes: fused nodes appear as one, with their op_type such
  // as "FusedConv").
  struct NodeTiming {
    std::string node;
    std::string op_type;
    std::string backend;
    double seconds = 0;
  };
  void set_profiling(bool enabled);
  const std::vector<NodeTiming>& last_profile() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npukit
