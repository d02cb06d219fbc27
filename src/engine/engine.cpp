#include "engine/engine.h"

#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "passes/pass_lists.h"
#include "runtime/executor.h"
#include "runtime/kept_values.h"
#include "runtime/kernels/cpu/blocked_layout.h"
#include "runtime/kernels/cpu/cpu_backend.h"
#include "ir/value_info.h"
#include "sim/byte_transpose.h"
#include "sim/sim_backend.h"

namespace npukit::engine {

namespace {

// The cpu backend an engine runs on, configured from its options (null on ref, which needs no instance).
std::unique_ptr<runtime::CpuBackend> configure_cpu_backend(const EngineOptions& options) {
  if (options.threads < 0) throw Error(ErrorKind::invalid_argument, "threads must be 0 (all cores) or more");
  if (options.backend == "ref" || options.backend == "sim") return nullptr;
  if (options.backend == "cpu") {
    runtime::CpuSettings settings;
    settings.threads = options.threads;
    // The values asked for survive the passes (computed unfused where a fusion would swallow them), so that
    // every caller that observes intermediate values, calibration first, runs on the fast backend.
    settings.rewrite = [kept = options.keep_values](ir::Model& model) { passes::run_cpu_pass_list(model, kept); };
    return std::make_unique<runtime::CpuBackend>(std::move(settings));
  }
  std::string known;
  for (const std::string& backend : available_backends()) known += (known.empty() ? "" : ", ") + backend;
  throw Error(ErrorKind::invalid_argument, "unknown backend '" + options.backend + "' (available: " + known + ")");
}

// A blocked tensor must never reach a kernel that reads NCHW: the layout rules follow the cpu kernels'
// own support checks, so this fails only if a cpu kernel refused a node at preparation after saying yes.
void check_blocked_values_stay_on_cpu(const runtime::Executor& executor, const runtime::cpu::BlockedLayoutPlan& layouts,
                                      const std::string& file) {
  const std::vector<const ir::Node*> nodes = executor.nodes();
  const std::vector<std::string> backends = executor.node_backends();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (backends[i] == "cpu") continue;
    std::vector<const ir::Value*> values(nodes[i]->inputs.begin(), nodes[i]->inputs.end());
    values.insert(values.end(), nodes[i]->outputs.begin(), nodes[i]->outputs.end());
    for (const ir::Value* value : values) {
      if (layouts.is_blocked(value)) {
        throw Error(ErrorKind::internal,
                    "value '" + value->name + "' is held in a blocked layout but its node runs on " + backends[i] +
                        "; please report this model (workaround: --backend ref)",
                    file, nodes[i]->describe());
      }
    }
  }
}

// The value names of the model as loaded, which find_kept_values needs to tell a name the passes removed
// from one that never existed (only collected when values are to be kept).
std::set<std::string> loaded_names(const ir::Model& model, const EngineOptions& options) {
  return options.keep_values.empty() ? std::set<std::string>{} : runtime::value_names(*model.graph);
}

}  // namespace

std::vector<std::string> available_backends() { return {"cpu", "ref", "sim"}; }

namespace {
// The sim backend of an engine (null unless options.backend is "sim"): the target it simulates, resolved
// before any work so a missing or unknown target fails first.
std::unique_ptr<sim::SimBackend> configure_sim_backend(const EngineOptions& options) {
  if (options.backend != "sim") return nullptr;
  return std::make_unique<sim::SimBackend>(sim::resolve_sim_target(options.target));
}
}  // namespace

struct Engine::Impl {
  EngineOptions options;
  std::shared_ptr<const ir::Model> model;
  std::unique_ptr<runtime::CpuBackend> cpu;  // the executor's nodes point into it: declared before the executor
  std::unique_ptr<sim::SimBackend> sim;      // likewise, on the sim backend
  std::unique_ptr<runtime::Executor> executor;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> kept;
  std::vector<bool> kept_blocked;  // held in the cpu backend's blocked layout: reordered when handed out
  std::map<std::string, Tensor> input_tensors;
  std::map<std::string, Tensor> output_tensors;
  bool profiling = false;
  std::vector<double> node_seconds;
  std::vector<NodeTiming> profile;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::from_model(std::shared_ptr<const ir::Model> model, const EngineOptions& options) {
  std::unique_ptr<runtime::CpuBackend> cpu = configure_cpu_backend(options);
  if (std::unique_ptr<sim::SimBackend> sim = configure_sim_backend(options)) {
    // The lowering rewrites the graph: on a private copy of the caller's shared model.
    auto copy = std::make_shared<ir::Model>(model->clone());
    sim->prepare_model(*copy);
    return create(std::move(copy), options, loaded_names(*model, options), nullptr, std::move(sim));
  }
  if (cpu && cpu->rewrites_model()) {
    // The caller's model is shared and const: the backend rewrites a private copy (its weights shared).
    auto copy = std::make_shared<ir::Model>(model->clone());
    // A model built in code may carry no types for its computed values, and the backend's choices (kernels,
    // layouts) read them: the copy gets them from the IR's shape inference.
    ir::infer_shapes(*copy->graph);
    cpu->prepare_model(*copy);
    return create(std::move(copy), options, loaded_names(*model, options), std::move(cpu), nullptr);
  }
  return create(model, options, loaded_names(*model, options), std::move(cpu), nullptr);
}

std::unique_ptr<Engine> Engine::adopt(std::shared_ptr<ir::Model> model, const EngineOptions& options) {
  std::unique_ptr<runtime::CpuBackend> cpu = configure_cpu_backend(options);
  std::unique_ptr<sim::SimBackend> sim = configure_sim_backend(options);
  const std::set<std::string> names = loaded_names(*model, options);
  if (cpu) cpu->prepare_model(*model);
  if (sim) sim->prepare_model(*model);
  return create(std::move(model), options, names, std::move(cpu), std::move(sim));
}

std::unique_ptr<Engine> Engine::create(std::shared_ptr<const ir::Model> model, const EngineOptions& options,
                                       const std::set<std::string>& names_before_passes,
                                       std::unique_ptr<runtime::CpuBackend> cpu,
                                       std::unique_ptr<sim::SimBackend> sim) {
  // cpu (or sim) first; every node it does not cover runs on ref.
  std::vector<const runtime::Backend*> backends{&runtime::reference_backend()};
  if (sim) backends.insert(backends.begin(), sim.get());
  if (cpu) {
    backends.insert(backends.begin(), cpu.get());
    // Preparing packs weights with oneDNN, which starts OpenMP threads: start only as many as the session
    // will use. (An idle extra thread spin-waits and, on a small machine, steals the core a 1-thread run
    // needs: MobileNetV2 went from 18 ms to over 100 ms that way.)
    cpu->use_threads_on_this_thread();
  }
  // The sim backend's fast kernels run on oneDNN and OpenMP too (sim/fast_integer_kernels.h): the same rule.
  if (sim) runtime::cpu::set_intra_op_threads(options.threads);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->model = model;
  impl->cpu = std::move(cpu);
  impl->sim = std::move(sim);
  impl->executor = std::make_unique<runtime::Executor>(model, backends);
  if (impl->cpu) check_blocked_values_stay_on_cpu(*impl->executor, impl->cpu->layouts(), model->source_path);
  for (const ir::Value* input : model->graph->inputs) {
    if (!input->initializer) impl->inputs.push_back(ir::describe_value(*input));
  }
  for (const ir::Value* output : model->graph->outputs) impl->outputs.push_back(ir::describe_value(*output));
  if (!options.keep_values.empty()) {
    const std::vector<const ir::Value*> kept = runtime::find_kept_values(
        *model->graph, options.keep_values, names_before_passes, options.backend, model->source_path);
    impl->executor->keep_values(kept);
    for (const ir::Value* value : kept) {
      impl->kept.push_back(ir::describe_value(*value));
      impl->kept_blocked.push_back((impl->cpu && impl->cpu->layouts().is_blocked(value)) ||
                                   (impl->sim && impl->sim->layouts().is_blocked(value)));
    }
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const std::vector<ValueInfo>& Engine::inputs() const { return impl_->inputs; }
const std::vector<ValueInfo>& Engine::outputs() const { return impl_->outputs; }
const std::vector<ValueInfo>& Engine::kept_values() const { return impl_->kept; }
const ir::Model& Engine::model() const { return *impl_->model; }
const EngineOptions& Engine::options() const { return impl_->options; }
const sim::LoweringReport* Engine::simulation_report() const { return impl_->sim ? &impl_->sim->report() : nullptr; }
const runtime::cpu::BlockedLayoutPlan* Engine::blocked_layouts() const {
  return impl_->cpu ? &impl_->cpu->layouts() : nullptr;
}

void Engine::set_input(const std::string& name, Tensor tensor) {
  const std::string& file = impl_->model->source_path;
  for (const ValueInfo& info : impl_->inputs) {
    if (info.name != name) continue;
    if (tensor.dtype() != info.dtype) {
      throw Error(ErrorKind::invalid_argument,
                  "input '" + name + "' must be " + std::string(dtype_name(info.dtype)) + ", got " +
                      std::string(dtype_name(tensor.dtype())),
                  file);
    }
    if (info.has_shape) {
      bool matches = info.shape.size() == tensor.rank();
      for (size_t i = 0; matches && i < info.shape.size(); ++i) {
        matches = info.shape[i] < 0 || info.shape[i] == tensor.dim(i);
      }
      if (!matches) {
        std::string expected = "[";
        for (size_t i = 0; i < info.shape.size(); ++i) {
          if (i) expected += ", ";
          expected += info.shape[i] >= 0 ? std::to_string(info.shape[i])
                                         : (info.dim_names[i].empty() ? "?" : info.dim_names[i]);
        }
        expected += "]";
        throw Error(ErrorKind::invalid_argument,
                    "input '" + name + "' must have shape " + expected + ", got " + shape_to_string(tensor.shape()),
                    file);
      }
    }
    impl_->input_tensors[name] = std::move(tensor);
    return;
  }
  std::string known;
  for (const ValueInfo& info : impl_->inputs) known += (known.empty() ? "" : ", ") + info.name;
  throw Error(ErrorKind::invalid_argument, "the model has no input named '" + name + "' (inputs: " + known + ")", file);
}

void Engine::run() {
  for (const ValueInfo& info : impl_->inputs) {
    if (!impl_->input_tensors.count(info.name)) {
      throw Error(ErrorKind::invalid_argument, "input '" + info.name + "' was not set", impl_->model->source_path);
    }
  }
  // OpenMP's thread count is a per-thread setting: set it on the thread that runs this session, every run,
  // so sessions with different counts on different threads keep theirs.
  if (impl_->cpu) impl_->cpu->use_threads_on_this_thread();
  if (impl_->sim) runtime::cpu::set_intra_op_threads(impl_->options.threads);
  std::vector<Tensor> kept;
  std::vector<Tensor> results = impl_->executor->run(impl_->input_tensors, impl_->profiling ? &impl_->node_seconds : nullptr,
                                                     impl_->kept.empty() ? nullptr : &kept);
  if (impl_->profiling) {
    const std::vector<const ir::Node*> nodes = impl_->executor->nodes();
    const std::vector<std::string> backends = impl_->executor->node_backends();
    impl_->profile.clear();
    for (size_t i = 0; i < nodes.size(); ++i) {
      impl_->profile.push_back({nodes[i]->name, nodes[i]->op_type, backends[i], impl_->node_seconds[i]});
    }
  }
  impl_->output_tensors.clear();
  for (size_t i = 0; i < results.size(); ++i) impl_->output_tensors[impl_->outputs[i].name] = std::move(results[i]);
  for (size_t i = 0; i < kept.size(); ++i) {
    impl_->output_tensors[impl_->kept[i].name] =
        !impl_->kept_blocked[i] ? std::move(kept[i])
        : impl_->sim            ? sim::channels_first_copy(kept[i])  // held channels-last (sim/channels_last_plan.h)
                                : runtime::cpu::plain_copy_of_blocked(kept[i]);
  }
}

const Tensor& Engine::output(const std::string& name) const {
  auto found = impl_->output_tensors.find(name);
  if (found == impl_->output_tensors.end()) {
    throw Error(ErrorKind::invalid_argument, "no output named '" + name + "' (did run() succeed?)",
                impl_->model->source_path);
  }
  return found->second;
}

std::map<std::string, Tensor> Engine::run(const std::map<std::string, Tensor>& inputs) {
  impl_->input_tensors.clear();
  for (const auto& [name, tensor] : inputs) set_input(name, tensor);
  run();
  return impl_->output_tensors;
}

void Engine::set_profiling(bool enabled) { impl_->profiling = enabled; }
const std::vector<Engine::NodeTiming>& Engine::last_profile() const { return impl_->profile; }
std::vector<const ir::Node*> Engine::executed_nodes() const { return impl_->executor->nodes(); }
size_t Engine::activation_arena_bytes() const { return impl_->executor->arena_bytes(); }
size_t Engine::activation_arena_values() const { return impl_->executor->arena_values(); }

}  // namespace npukit::engine
