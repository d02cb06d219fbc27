// npukit::Session, the sealed public API: a model prepared the one way every command prepares it
// (preparation/model_preparation.h), run by the internal engine (engine/engine.h). Nothing of either shows
// through include/npukit/session.h.
#include "npukit/session.h"

#include <algorithm>

#include "engine/engine.h"
#include "preparation/model_preparation.h"

namespace npukit {

namespace {

// What `npukit run` does with --input-shape and --input-value, given as options: the data to be fed is not
// known yet, and the run itself tells every shape, so there is no reference run to measure shapes.
preparation::PreparationOptions preparation_options_for(const SessionOptions& options) {
  preparation::PreparationOptions preparation;
  preparation.input_shapes = options.input_shapes;
  preparation.input_value_tensors = options.input_values;
  preparation.run_reference_for_unknown_shapes = false;
  return preparation;
}

engine::EngineOptions engine_options_for(const SessionOptions& options) {
  engine::EngineOptions engine_options;
  engine_options.backend = options.backend;
  engine_options.threads = options.threads;
  engine_options.target = options.target;
  engine_options.keep_values = options.keep_values;
  return engine_options;
}

// Checks the options that need no model first, so a wrong backend name costs no load.
void check_options(const SessionOptions& options) {
  const std::vector<std::string> backends = engine::available_backends();
  if (std::find(backends.begin(), backends.end(), options.backend) == backends.end()) {
    std::string known;
    for (const std::string& backend : backends) known += (known.empty() ? "" : ", ") + backend;
    throw Error(ErrorKind::invalid_argument, "unknown backend '" + options.backend + "' (available: " + known + ")");
  }
  if (options.threads < 0) throw Error(ErrorKind::invalid_argument, "threads must be 0 (all cores) or more");
}

}  // namespace

struct Session::Impl {
  std::unique_ptr<engine::Engine> engine;
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

std::unique_ptr<Session> Session::load(const std::string& path, const SessionOptions& options) {
  check_options(options);
  preparation::PreparedModel prepared = preparation::load_prepared_model(path, preparation_options_for(options));
  auto impl = std::make_unique<Impl>();
  // The prepared model is ours alone: the backend may rewrite it in place.
  impl->engine = engine::Engine::adopt(std::make_shared<ir::Model>(std::move(prepared.model)), engine_options_for(options));
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

std::unique_ptr<Session> Session::load_from_bytes(const std::string& bytes, const SessionOptions& options,
                                                  const std::string& name) {
  check_options(options);
  preparation::PreparedModel prepared =
      preparation::load_prepared_model_from_bytes(bytes, name, preparation_options_for(options));
  auto impl = std::make_unique<Impl>();
  impl->engine = engine::Engine::adopt(std::make_shared<ir::Model>(std::move(prepared.model)), engine_options_for(options));
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

std::vector<std::string> Session::available_backends() { return engine::available_backends(); }

const std::vector<ValueInfo>& Session::inputs() const { return impl_->engine->inputs(); }
const std::vector<ValueInfo>& Session::outputs() const { return impl_->engine->outputs(); }
void Session::set_input(const std::string& name, Tensor tensor) { impl_->engine->set_input(name, std::move(tensor)); }
void Session::run() { impl_->engine->run(); }
const Tensor& Session::output(const std::string& name) const { return impl_->engine->output(name); }
const std::vector<ValueInfo>& Session::kept_values() const { return impl_->engine->kept_values(); }
std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& inputs) {
  return impl_->engine->run(inputs);
}
void Session::set_profiling(bool enabled) { impl_->engine->set_profiling(enabled); }
const std::vector<Session::NodeTiming>& Session::last_profile() const { return impl_->engine->last_profile(); }

}  // namespace npukit
