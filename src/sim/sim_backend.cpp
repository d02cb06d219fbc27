#include "sim/sim_backend.h"

#include <filesystem>

#include "npukit/error.h"
#include "sim/channels_last_plan.h"
#include "sim/exact_onnx_kernels.h"
#include "sim/integer_executables.h"
#include "targets/profile_loader.h"

namespace npukit::sim {

targets::TargetProfile resolve_sim_target(const std::string& target) {
  if (target.empty()) {
    throw Error(ErrorKind::invalid_argument,
                "the sim backend simulates one target's integer arithmetic: name it (--target edgetpu, or "
                "--target-file PROFILE.json; EngineOptions::target)");
  }
  std::error_code error;
  const bool is_file = (target.size() > 5 && target.ends_with(".json")) || std::filesystem::is_regular_file(target, error);
  targets::TargetProfile profile = is_file ? targets::load_target_profile_file(target) : targets::find_builtin_target(target);
  if (!profile.numerics.present) {
    throw Error(ErrorKind::invalid_argument,
                "target '" + profile.id + "' has no numerics section: the sim backend needs the target's integer "
                "arithmetic (add a `numerics` section, see docs/targets.md, or choose a built-in target such as edgetpu)",
                is_file ? target : std::string());
  }
  return profile;
}

SimBackend::SimBackend(targets::TargetProfile profile) : profile_(std::move(profile)) {}

std::optional<std::string> SimBackend::unsupported_reason(const ir::Node& node, int64_t opset) const {
  if (node.domain == kIntegerDomain) return integer_op_unsupported_reason(node);
  if (!exact_onnx_kernel_unsupported_reason(node, opset)) return std::nullopt;
  return integer_op_unsupported_reason(node);
}

std::unique_ptr<runtime::NodeExecutable> SimBackend::prepare(const ir::Node& node, int64_t opset) const {
  if (node.domain == kIntegerDomain) return prepare_integer_op(node, channels_last_);
  return prepare_exact_onnx_kernel(node, opset);
}

void SimBackend::prepare_model(ir::Model& model) {
  report_ = lower_to_integer(model, profile_.numerics, profile_.id);
  channels_last_ = plan_channels_last(*model.graph);
}

}  // namespace npukit::sim
